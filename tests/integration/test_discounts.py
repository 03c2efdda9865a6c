"""Discounts through the API (seed 000 "AddDesconto"), on SQLite and PostgreSQL: a promotional
discount added to an existing charge; a discount at the counter, with its own permission; and
an amount other than what settles, with its own permission."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.test_api import setup_service

TODAY = datetime.now(UTC).date()
PASSWORD = "operator-password-1"


def test_a_promotional_discount_on_an_existing_charge(api: Any) -> None:
    service = setup_service(api)
    due = (TODAY + timedelta(days=20)).isoformat()
    charge = api.post(
        f"/services/{service['id']}/charges",
        {"kind": "other", "due_date": due, "amount": "100.00"},
        expect=201,
    )
    changed = api.post(
        f"/charges/{charge['id']}/discount", {"discount_amount": "15.00", "discount_days_before": 5}
    )
    assert (changed["discount_amount"], changed["discount_days_before"]) == ("15.00", 5)
    quote = api.get("/charges/quote", params={"ids": [charge["id"]]})
    assert quote["total"] == "85.00"  # paid today, well before the due date
    assert (
        "less than the amount"
        in api.post(f"/charges/{charge['id']}/discount", {"discount_amount": "100.00"}, expect=422)["detail"]
    )
    box = api.post("/cash-boxes", {"name": "Caixa"}, expect=201)["id"]
    api.post("/receipts", {"charge_ids": [charge["id"]], "cash_box_id": box}, expect=201)
    assert (
        "only an unpaid open charge"
        in api.post(f"/charges/{charge['id']}/discount", {"discount_amount": "5.00"}, expect=409)["detail"]
    )


def test_a_discount_at_the_counter_and_another_amount_need_their_permissions(api: Any) -> None:
    service = setup_service(api)
    due = (TODAY + timedelta(days=3)).isoformat()
    first = api.post(
        f"/services/{service['id']}/charges",
        {"kind": "other", "due_date": due, "amount": "50.00"},
        expect=201,
    )
    second = api.post(
        f"/services/{service['id']}/charges",
        {"kind": "other", "due_date": due, "amount": "30.00"},
        expect=201,
    )
    box = api.post("/cash-boxes", {"name": "Caixa"}, expect=201)["id"]
    api.post(
        "/operators",
        {
            "login": "caixa",
            "name": "Caixa",
            "password": PASSWORD,
            "permissions": ["finance.receive", "finance.read"],
            "cash_boxes": [box],
        },
        expect=201,
    )
    cashier = api.login("caixa", PASSWORD)
    body = {"charge_ids": [first["id"]], "cash_box_id": box}
    assert (
        "finance.discount" in cashier.post("/receipts", {**body, "discount": "10.00"}, expect=403)["detail"]
    )
    assert (
        "finance.receive_amount"
        in cashier.post("/receipts", {**body, "amount": "20.00"}, expect=403)["detail"]
    )
    # The administrator may: 10.00 off the 50.00 charge.
    paid = api.post("/receipts", {**body, "discount": "10.00"}, expect=201)
    assert (paid["amount"], paid["items"][0]["discount"]) == ("40.00", "10.00")
    charges = {c["id"]: c for c in api.get(f"/services/{service['id']}/charges")["items"]}
    assert (charges[first["id"]]["status"], charges[first["id"]]["discount_granted"]) == ("paid", "10.00")
    too_much = api.post(
        "/receipts", {"charge_ids": [second["id"]], "cash_box_id": box, "discount": "31.00"}, expect=422
    )
    assert "more than the selected charges' open amount" in too_much["detail"]
    # The cashier receives what settles, with no discount: allowed.
    assert (
        cashier.post("/receipts", {"charge_ids": [second["id"]], "cash_box_id": box}, expect=201)["amount"]
        == "30.00"
    )
