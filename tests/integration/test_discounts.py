"""Discounts through the API (seed 000 "AddDesconto"), on SQLite and PostgreSQL: a promotional
discount added to an existing charge; a discount at the counter, with its own permission; and
an amount other than what settles, with its own permission."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.dates import business_today
from tests.integration.test_api import setup_service

TODAY = business_today()
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


def test_changing_the_due_day_costs_a_fee_or_gives_a_credit(api: Any) -> None:
    """Seed 004, "Alteração de vencimento": the billing method decides; the response says it."""
    fee = api.post("/billing-methods", {"name": "Boleto", "due_day_change_fee": "10.00"}, expect=201)
    assert fee["due_day_change_fee"] == "10.00"
    credit = api.post("/billing-methods", {"name": "Débito", "due_day_change_credit": "5.00"}, expect=201)
    ana = setup_service(api, login="ana", billing_method_id=fee["id"], due_day=10)
    changed = api.patch(f"/services/{ana['id']}", {"due_day": 20})
    [note] = changed["notes"]
    assert note.startswith("due-day change fee: charge") and "of 10.00" in note
    fees = [
        c
        for c in api.get(f"/services/{ana['id']}/charges")["items"]
        if c["description"].startswith("Alteração")
    ]
    assert [(c["amount"], c["description"]) for c in fees] == [
        ("10.00", "Alteração de vencimento (dia 10 → 20)")
    ]
    assert api.patch(f"/services/{ana['id']}", {"due_day": 20})["notes"] == []  # not a change
    bia = setup_service(api, login="bia", document="12345678909", billing_method_id=credit["id"], due_day=5)
    due = (TODAY + timedelta(days=10)).isoformat()
    monthly = api.post(
        f"/services/{bia['id']}/charges",
        {"kind": "monthly", "due_date": due, "amount": "99.90", "competence": due},
        expect=201,
    )
    [note] = api.patch(f"/services/{bia['id']}", {"due_day": 15})["notes"]
    assert note == f"due-day change credit: 5.00 off charge {monthly['id']}"
    after = next(c for c in api.get(f"/services/{bia['id']}/charges")["items"] if c["id"] == monthly["id"])
    assert after["open_amount"] == "94.90"
