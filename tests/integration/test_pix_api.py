"""PIX on the invoices through the API, on SQLite and PostgreSQL: the BR Code of an open invoice
(what is open, the invoice as txid), its QR as PNG and SVG, on the invoice's print page; a paid
invoice has nothing to pay; an ISP without PIX configured is told so and works as before."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from billing_bridge.pix import parse
from tests.api_client import api_for
from tests.dates import business_today
from tests.integration.test_api import setup_service

PIX = {"pix_key": "11222333000181", "pix_merchant_name": "Provedor Exemplo", "pix_merchant_city": "Formiga"}


@pytest.fixture
def pix_api(db_url: str) -> Iterator[Any]:
    with api_for(db_url, billing=PIX) as client:
        yield client


def open_invoice(api: Any) -> dict[str, Any]:
    method = api.post("/billing-methods", {"name": "Boleto"}, expect=201)["id"]
    service = setup_service(api, billing_method_id=method)
    due = (business_today() + timedelta(days=10)).isoformat()
    charge = api.post(
        f"/services/{service['id']}/charges",
        {"kind": "other", "due_date": due, "amount": "89.90"},
        expect=201,
    )
    return dict(
        api.post(
            "/invoices",
            {"charge_ids": [charge["id"]], "billing_method_id": method, "due_date": due},
            expect=201,
        )
    )


def test_an_open_invoice_has_its_br_code(pix_api: Any) -> None:
    invoice = open_invoice(pix_api)
    pix = pix_api.get(f"/invoices/{invoice['id']}/pix")
    fields = parse(pix["payload"])
    assert fields["26"]["01"] == "11222333000181"  # type: ignore[index]
    assert (fields["54"], fields["59"], fields["60"]) == ("89.90", "Provedor Exemplo", "Formiga")
    assert fields["62"] == {"05": f"FAT{invoice['id']}"} and pix["txid"] == f"FAT{invoice['id']}"
    assert pix["svg"].lstrip().startswith("<svg")
    headers = {"Authorization": f"Bearer {pix_api.token}"}
    png = pix_api.client.get(
        f"/api/v1/invoices/{invoice['id']}/pix", params={"format": "png"}, headers=headers
    )
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")
    page = pix_api.client.get(f"/api/v1/invoices/{invoice['id']}/print", headers=headers)
    assert "Pague com PIX" in page.text and pix["payload"] in page.text
    box = pix_api.post("/cash-boxes", {"name": "Caixa"}, expect=201)["id"]
    pix_api.post("/receipts", {"invoice_id": invoice["id"], "cash_box_id": box}, expect=201)
    assert "is paid: nothing to pay" in pix_api.get(f"/invoices/{invoice['id']}/pix", expect=409)["detail"]
    assert (
        "Pague com PIX"
        not in pix_api.client.get(f"/api/v1/invoices/{invoice['id']}/print", headers=headers).text
    )


def test_without_pix_configured_it_says_so(api: Any) -> None:
    invoice = open_invoice(api)
    assert "PIX is not configured" in api.get(f"/invoices/{invoice['id']}/pix", expect=409)["detail"]
