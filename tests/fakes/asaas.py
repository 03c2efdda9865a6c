"""Asaas API v3 as its public documentation (https://docs.asaas.com) describes it, on loopback:
the ``access_token`` header, customers and payments found by ``externalReference``, a payment's
``identificationField`` (linha digitável, nosso número, barcode) and ``pixQrCode``, DELETE, the
``{"errors": [{"code", "description"}]}`` error bodies; and the webhooks Asaas sends
(``asaas-access-token`` header, ``{"event", "payment": {...}}``)."""

from __future__ import annotations

import json
import re
import urllib.request
from datetime import date
from decimal import Decimal
from typing import Any

from billing_bridge.boleto import barcode, linha_digitavel
from billing_bridge.pix import Pix
from tests.dates import business_today
from tests.fakes.http_fake import JsonFake, Seen


def _error(status: int, code: str, description: str) -> tuple[int, Any]:
    return status, {"errors": [{"code": code, "description": description}]}


class AsaasFake(JsonFake):
    def __init__(self, api_key: str):
        super().__init__()
        self.api_key = api_key
        self.customers: dict[str, dict[str, Any]] = {}
        self.payments: dict[str, dict[str, Any]] = {}
        for method, pattern, handler in (
            ("GET", r"/v3/customers", self._list_customers),
            ("POST", r"/v3/customers", self._add_customer),
            ("GET", r"/v3/payments", self._list_payments),
            ("POST", r"/v3/payments", self._add_payment),
            ("GET", r"/v3/payments/(pay_\w+)/identificationField", self._slip),
            ("GET", r"/v3/payments/(pay_\w+)/pixQrCode", self._pix),
            ("DELETE", r"/v3/payments/(pay_\w+)", self._delete),
        ):
            self.route(method, pattern, self._authenticated(handler))

    def _authenticated(self, handler: Any) -> Any:
        def check(seen: Seen, match: re.Match[str]) -> tuple[int, Any]:
            if seen.headers.get("access_token") != self.api_key:
                return _error(401, "invalid_access_token", "A chave de API fornecida é inválida")
            return handler(seen, match)  # type: ignore[no-any-return]

        return check

    @staticmethod
    def _page(items: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "object": "list",
            "hasMore": False,
            "totalCount": len(items),
            "limit": 10,
            "offset": 0,
            "data": items,
        }

    def _list_customers(self, seen: Seen, _: Any) -> tuple[int, Any]:
        ref = seen.query.get("externalReference")
        return 200, self._page([c for c in self.customers.values() if c["externalReference"] == ref])

    def _add_customer(self, seen: Seen, _: Any) -> tuple[int, Any]:
        body = seen.body or {}
        if not body.get("name"):
            return _error(400, "invalid_name", "O nome do cliente deve ser informado.")
        if len(str(body.get("cpfCnpj", ""))) not in (11, 14):
            return _error(400, "invalid_cpfCnpj", "O CPF/CNPJ informado é inválido.")
        cid = f"cus_{len(self.customers) + 1:012d}"
        self.customers[cid] = {"object": "customer", "id": cid, **body}
        return 200, self.customers[cid]

    def _list_payments(self, seen: Seen, _: Any) -> tuple[int, Any]:
        ref = seen.query.get("externalReference")
        return 200, self._page([p for p in self.payments.values() if p["externalReference"] == ref])

    def _add_payment(self, seen: Seen, _: Any) -> tuple[int, Any]:
        body = seen.body or {}
        if body.get("customer") not in self.customers:
            return _error(400, "invalid_customer", "Customer inválido ou não informado.")
        if Decimal(str(body.get("value", 0))) <= 0:
            return _error(400, "invalid_value", "O valor da cobrança deve ser maior que zero.")
        pid = f"pay_{len(self.payments) + 1:012d}"
        number = f"{len(self.payments) + 1:08d}"
        due = date.fromisoformat(body["dueDate"])
        code = barcode("461", due, Decimal(str(body["value"])), f"{number}{'0' * 17}")
        self.payments[pid] = {
            "object": "payment",
            "id": pid,
            "status": "PENDING",
            "deleted": False,
            "nossoNumero": number,
            "invoiceUrl": f"https://www.asaas.com/i/{pid[4:]}",
            "_barcode": code,
            **body,
        }
        return 200, self._public(self.payments[pid])

    @staticmethod
    def _public(payment: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in payment.items() if not k.startswith("_")}

    def _slip(self, _: Seen, match: re.Match[str]) -> tuple[int, Any]:
        p = self.payments.get(match[1])
        if p is None:
            return _error(404, "not_found", "Cobrança não encontrada.")
        return 200, {
            "identificationField": linha_digitavel(p["_barcode"]),
            "nossoNumero": p["nossoNumero"],
            "barCode": p["_barcode"],
        }

    def _pix(self, _: Seen, match: re.Match[str]) -> tuple[int, Any]:
        p = self.payments.get(match[1])
        if p is None:
            return _error(404, "not_found", "Cobrança não encontrada.")
        location = f"pix.asaas.com/qr/cobv/{match[1]}"
        payload = Pix("ASAAS", "JOINVILLE", location=location).payload()
        return 200, {
            "encodedImage": "iVBORw0KGgo=",
            "payload": payload,
            "expirationDate": f"{p['dueDate']} 23:59:59",
        }

    def _delete(self, _: Seen, match: re.Match[str]) -> tuple[int, Any]:
        p = self.payments.get(match[1])
        if p is None:
            return _error(404, "not_found", "Cobrança não encontrada.")
        p["deleted"] = True
        return 200, {"deleted": True, "id": p["id"]}

    def webhook(
        self, url: str, token: str, event: str, payment_id: str, value: Any = None
    ) -> tuple[int, Any]:
        """POST an event to ``url`` as Asaas does; returns the status and JSON body."""
        p = self._public(self.payments[payment_id])
        p.update(
            status="RECEIVED",
            paymentDate=business_today().isoformat(),
            clientPaymentDate=business_today().isoformat(),
        )
        if value is not None:
            p["value"] = value
        body = json.dumps(
            {
                "id": f"evt_{payment_id}_{event}",
                "event": event,
                "dateCreated": "2026-12-03 10:00:00",
                "payment": p,
            },
            default=str,
        ).encode()
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "asaas-access-token": token},
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")
