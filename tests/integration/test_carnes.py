"""Carnê management through the API (seed 001), on SQLite and PostgreSQL: list and get a
service's carnês, cancel the remaining instalments (paid ones stay), associate loose charges."""

from __future__ import annotations

from typing import Any

from tests.integration.test_api import setup_service


def test_list_get_cancel_remaining_and_associate(api: Any) -> None:
    service = setup_service(api, price="90.00", due_day=10)
    book = api.post(
        f"/services/{service['id']}/carnes",
        {"first_due": "2027-01-10", "installments": 3, "start": "2026-12-01"},
        expect=201,
    )
    assert [c["installment"] for c in book["charges"]] == [1, 2, 3]
    listed = api.get(f"/services/{service['id']}/carnes")
    assert listed["total"] == 1 and listed["items"][0]["id"] == book["id"]
    assert api.get(f"/carnes/{book['id']}")["installments"] == 3
    # A loose charge becomes the fourth instalment.
    loose = api.post(
        f"/services/{service['id']}/charges",
        {"kind": "other", "due_date": "2027-04-10", "amount": "25.00"},
        expect=201,
    )
    grown = api.post(f"/carnes/{book['id']}/charges", {"charge_ids": [loose["id"]]})
    assert grown["installments"] == 4
    assert [(c["installment"], c["installments"]) for c in grown["charges"]][-1] == (4, 4)
    again = api.post(f"/carnes/{book['id']}/charges", {"charge_ids": [loose["id"]]}, expect=409)["detail"]
    assert "already in carnê" in again
    # The first is paid; cancelling the rest leaves it.
    box = api.post("/cash-boxes", {"name": "Caixa"}, expect=201)["id"]
    first = grown["charges"][0]
    api.post("/receipts", {"charge_ids": [first["id"]], "cash_box_id": box}, expect=201)
    after = api.post(f"/carnes/{book['id']}/cancel", {"reason": "cliente mudou de cidade"})
    assert [c["status"] for c in after["charges"]] == ["paid", "cancelled", "cancelled", "cancelled"]
    assert (
        "no unpaid instalment left"
        in api.post(f"/carnes/{book['id']}/cancel", {"reason": "x"}, expect=409)["detail"]
    )
    api.get("/carnes/999999", expect=404)
