"""Asaas (API v3, https://docs.asaas.com): a payment per invoice, for the invoice's customer.

Calls carry the API key in the ``access_token`` header. The customer is found by
``externalReference`` ("customer:<id>") or created; the payment carries "invoice:<id>", which
also makes a retried create find the payment an earlier attempt made instead of making another.
The boleto fields come from ``/payments/{id}/identificationField``, the PIX copia e cola from
``/payments/{id}/pixQrCode``. Late fee, interest and discount map onto ``fine``,
``interest`` (per month) and ``discount`` (FIXED, until N days before the due date).

Webhook: Asaas sends the token configured on its side in the ``asaas-access-token`` header and a
body ``{"event": "PAYMENT_RECEIVED", "payment": {"id": "pay_…", "value": …, "paymentDate": …}}``.
PAYMENT_RECEIVED and PAYMENT_CONFIRMED are payments (one payment, whichever comes first: both
name the same payment id); other events are acknowledged and ignored.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from billing_bridge.gateways.base import (
    ChargeRequest,
    IssuedCharge,
    Payment,
    ProviderRefused,
    Unauthorized,
)
from billing_bridge.gateways.http import Reply, call

PAID_EVENTS = ("PAYMENT_RECEIVED", "PAYMENT_CONFIRMED")


class Asaas:
    name = "asaas"

    def __init__(self, url: str, api_key: str, webhook_token: str, billing_type: str, timeout: float):
        self.url, self.timeout = url.rstrip("/"), timeout
        self._key, self._token, self.billing_type = api_key, webhook_token, billing_type

    def _call(self, method: str, path: str, body: Any = None) -> Reply:
        reply = call(
            method, self.url + path, headers={"access_token": self._key}, timeout=self.timeout, body=body
        )
        if reply.status == 401:
            raise ProviderRefused("Asaas refused the API key (HTTP 401): check billing.asaas_api_key")
        if reply.status >= 400 and reply.status != 404:
            raise ProviderRefused(f"Asaas: HTTP {reply.status}: {_errors(reply.body)}")
        return reply

    def _first(self, path: str, reference: str) -> dict[str, Any] | None:
        found = self._call("GET", f"{path}?externalReference={quote(reference)}").body or {}
        live = [item for item in found.get("data", []) if not item.get("deleted")]
        return live[0] if live else None

    def _customer(self, request: ChargeRequest) -> str:
        reference = f"customer:{request.customer_id}"
        known = self._first("/customers", reference)
        if known:
            return str(known["id"])
        body = {
            "name": request.customer_name,
            "cpfCnpj": request.document,
            "externalReference": reference,
            "notificationDisabled": True,
        }
        if request.email:
            body["email"] = request.email
        return str(self._call("POST", "/customers", body).body["id"])

    def create(self, request: ChargeRequest) -> IssuedCharge:
        reference = f"invoice:{request.invoice_id}"
        payment = self._first("/payments", reference)
        if payment is None:
            body: dict[str, Any] = {
                "customer": self._customer(request),
                "billingType": self.billing_type,
                "value": request.amount,
                "dueDate": request.due_date.isoformat(),
                "description": request.description,
                "externalReference": reference,
            }
            if request.fine_percent:
                body["fine"] = {"value": request.fine_percent, "type": "PERCENTAGE"}
            if request.interest_percent_month:
                body["interest"] = {"value": request.interest_percent_month}
            if request.discount and request.discount_until:
                body["discount"] = {
                    "value": request.discount,
                    "dueDateLimitDays": (request.due_date - request.discount_until).days,
                    "type": "FIXED",
                }
            payment = self._call("POST", "/payments", body).body
        pay_id = str(payment["id"])
        slip: dict[str, Any] = {}
        pix: dict[str, Any] = {}
        if self.billing_type in ("BOLETO", "UNDEFINED"):
            slip = self._call("GET", f"/payments/{pay_id}/identificationField").body or {}
        if self.billing_type in ("PIX", "UNDEFINED"):
            pix = self._call("GET", f"/payments/{pay_id}/pixQrCode").body or {}
        return IssuedCharge(
            provider_id=pay_id,
            nosso_numero=_text(slip.get("nossoNumero") or payment.get("nossoNumero")),
            linha_digitavel=_text(slip.get("identificationField")),
            barcode=_text(slip.get("barCode")),
            pix_payload=_text(pix.get("payload")),
            url=_text(payment.get("invoiceUrl")),
        )

    def cancel(self, provider_id: str) -> None:
        reply = self._call("DELETE", f"/payments/{quote(provider_id)}")
        if reply.status == 404:
            return  # already gone
        if not (reply.body or {}).get("deleted"):
            raise ProviderRefused(f"Asaas did not delete payment {provider_id}: {reply.body}")

    def payments(self, headers: Mapping[str, str], query: Mapping[str, str], body: bytes) -> list[Payment]:
        token = headers.get("asaas-access-token", "")
        if not self._token or not hmac.compare_digest(token.encode(), self._token.encode()):
            raise Unauthorized(
                "the asaas-access-token header is not the configured billing.asaas_webhook_token"
            )
        event = json.loads(body, parse_float=Decimal)
        if not isinstance(event, dict) or not isinstance(event.get("event"), str):
            raise ValueError("an Asaas webhook is a JSON object with an event")
        payment = event.get("payment")
        if event["event"] not in PAID_EVENTS:
            return []
        if not isinstance(payment, dict) or not isinstance(payment.get("id"), str):
            raise ValueError(f"{event['event']} without a payment id")
        paid_on = (
            payment.get("clientPaymentDate") or payment.get("paymentDate") or payment.get("confirmedDate")
        )
        return [
            Payment(
                external_id=f"asaas:{payment['id']}",
                provider_id=payment["id"],
                amount=Decimal(str(payment.get("value", "0"))),
                paid_at=_day(paid_on),
                raw=json.loads(body),
            )
        ]


def _errors(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        return "; ".join(
            f"{e.get('code')}: {e.get('description')}" for e in body["errors"] if isinstance(e, dict)
        )
    return str(body)[:300]


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _day(value: Any) -> datetime | None:
    """Asaas gives payment dates as days ("2026-12-10"): noon that day, UTC."""
    try:
        return datetime.combine(date.fromisoformat(str(value)[:10]), time(12), UTC) if value else None
    except ValueError:
        return None
