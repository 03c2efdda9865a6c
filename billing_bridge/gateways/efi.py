"""Efí (formerly Gerencianet) PIX API: a "cobrança com vencimento" (cobv) per invoice, which the
Banco Central's PIX API standard defines and Efí implements.

Every call goes over mutual TLS with the ISP's Efí certificate and a Bearer token from
``POST /oauth/token`` (HTTP Basic with the client id and secret, ``grant_type``
client_credentials), kept until it expires. The charge is ``PUT /v2/cobv/{txid}`` with a txid of
our own making ("isp" + the invoice number, 26 characters), so a retried create finds the one an
earlier attempt made (``GET /v2/cobv/{txid}``). Late fee (multa, modalidade 2: percent), interest
(juros, modalidade 3: percent per month, calendar days) and discount (desconto, modalidade 1:
fixed amount until a date) come from the billing method. Cancelling is ``PATCH`` with status
REMOVIDA_PELO_USUARIO_RECEBEDOR.

Webhook: Efí POSTs ``{"pix": [{"endToEndId", "txid", "valor", "horario", …}]}`` to the URL
registered for the key with "/pix" appended. Efí authenticates itself by mutual TLS, which the
reverse proxy in front of this server checks; the URL registered carries a secret
(``?hmac=<billing.efi_webhook_secret>``), which this server checks. A call without ``pix`` (Efí's
test call when the webhook is registered) is acknowledged.
"""

from __future__ import annotations

import base64
import hmac
import json
import ssl
import threading
import time
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from billing_bridge.gateways.base import (
    ChargeRequest,
    IssuedCharge,
    Payment,
    ProviderRefused,
    Unauthorized,
)
from billing_bridge.gateways.http import Reply, call


def txid_of(invoice_id: int) -> str:
    """26 to 35 letters and digits, as the PIX API requires for a cobv."""
    return f"isp{invoice_id:023d}"


class Efi:
    name = "efi"

    def __init__(
        self,
        url: str,
        client_id: str,
        client_secret: str,
        pix_key: str,
        webhook_secret: str,
        *,
        certificate: str,
        ca_file: str,
        days_after_due: int,
        timeout: float,
    ):
        self.url, self.pix_key, self.timeout = url.rstrip("/"), pix_key, timeout
        self._id, self._secret, self._hook_secret = client_id, client_secret, webhook_secret
        self.days_after_due = days_after_due
        self._context: ssl.SSLContext | None = None
        if self.url.startswith("https:"):
            self._context = ssl.create_default_context(cafile=ca_file or None)
            if certificate:
                self._context.load_cert_chain(certificate)
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def _bearer(self) -> str:
        with self._lock:
            if self._token and self._token[1] > time.monotonic():
                return self._token[0]
            basic = base64.b64encode(f"{self._id}:{self._secret}".encode()).decode()
            reply = call(
                "POST",
                self.url + "/oauth/token",
                headers={"Authorization": f"Basic {basic}"},
                body={"grant_type": "client_credentials"},
                timeout=self.timeout,
                context=self._context,
            )
            if reply.status != 200 or not isinstance(reply.body, dict) or "access_token" not in reply.body:
                raise ProviderRefused(
                    f"Efí refused the credentials (HTTP {reply.status}): {_problem(reply.body)}"
                )
            lifetime = float(reply.body.get("expires_in", 3600))
            self._token = (str(reply.body["access_token"]), time.monotonic() + max(lifetime - 60, 30))
            return self._token[0]

    def _call(self, method: str, path: str, body: Any = None) -> Reply:
        reply = call(
            method,
            self.url + path,
            headers={"Authorization": f"Bearer {self._bearer()}"},
            timeout=self.timeout,
            body=body,
            context=self._context,
        )
        if reply.status == 401:
            with self._lock:
                self._token = None
        return reply

    def create(self, request: ChargeRequest) -> IssuedCharge:
        txid = txid_of(request.invoice_id)
        known = self._call("GET", f"/v2/cobv/{txid}")
        if known.status == 200 and isinstance(known.body, dict) and known.body.get("status") == "ATIVA":
            return _issued(known.body)
        debtor: dict[str, str] = {"nome": request.customer_name[:200]}
        if len(request.document) == 14:
            debtor["cnpj"] = request.document
        elif request.document:
            debtor["cpf"] = request.document
        value: dict[str, Any] = {"original": f"{request.amount:.2f}"}
        if request.fine_percent:
            value["multa"] = {"modalidade": 2, "valorPerc": f"{request.fine_percent:.2f}"}
        if request.interest_percent_month:
            value["juros"] = {"modalidade": 3, "valorPerc": f"{request.interest_percent_month:.2f}"}
        if request.discount and request.discount_until:
            value["desconto"] = {
                "modalidade": 1,
                "descontoDataFixa": [
                    {"data": request.discount_until.isoformat(), "valorPerc": f"{request.discount:.2f}"}
                ],
            }
        body = {
            "calendario": {
                "dataDeVencimento": request.due_date.isoformat(),
                "validadeAposVencimento": self.days_after_due,
            },
            "devedor": debtor,
            "valor": value,
            "chave": self.pix_key,
            "solicitacaoPagador": request.description[:140],
        }
        reply = self._call("PUT", f"/v2/cobv/{txid}", body)
        if reply.status not in (200, 201):
            raise ProviderRefused(f"Efí: HTTP {reply.status}: {_problem(reply.body)}")
        return _issued(reply.body)

    def cancel(self, provider_id: str) -> None:
        reply = self._call("PATCH", f"/v2/cobv/{provider_id}", {"status": "REMOVIDA_PELO_USUARIO_RECEBEDOR"})
        if reply.status == 404:
            return
        if reply.status != 200:
            raise ProviderRefused(f"Efí: HTTP {reply.status}: {_problem(reply.body)}")

    def payments(self, headers: Mapping[str, str], query: Mapping[str, str], body: bytes) -> list[Payment]:
        given = query.get("hmac", "")
        if not self._hook_secret or not hmac.compare_digest(given.encode(), self._hook_secret.encode()):
            raise Unauthorized("the webhook URL's hmac parameter is not billing.efi_webhook_secret")
        notice = json.loads(body)
        if not isinstance(notice, dict):
            raise ValueError("an Efí webhook is a JSON object")
        items = notice.get("pix", [])
        if not isinstance(items, list):
            raise ValueError("pix must be a list")
        found = []
        for item in items:
            if not (isinstance(item, dict) and isinstance(item.get("endToEndId"), str)):
                raise ValueError("every pix item has an endToEndId")
            if not isinstance(item.get("txid"), str):
                continue  # a PIX to the key without a charge: not an invoice's
            found.append(
                Payment(
                    external_id=f"efi:{item['endToEndId']}",
                    provider_id=item["txid"],
                    amount=Decimal(str(item.get("valor", "0"))),
                    paid_at=_moment(item.get("horario")),
                    raw=item,
                )
            )
        return found


def _issued(cob: dict[str, Any]) -> IssuedCharge:
    location = (cob.get("loc") or {}).get("location")
    return IssuedCharge(
        provider_id=str(cob["txid"]),
        pix_payload=cob.get("pixCopiaECola"),
        url=f"https://{location}" if location else None,
    )


def _problem(body: Any) -> str:
    if isinstance(body, dict):
        for key in ("mensagem", "detail", "error_description", "title", "nome", "error"):
            if body.get(key):
                return str(body[key])
    return str(body)[:300]


def _moment(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None
    return moment if moment is None or moment.tzinfo else None
