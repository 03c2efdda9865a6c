"""Billing: charges, receiving (partial, full), reversal, the routine (dry and real), payment
re-enabling at once, and the walk from overdue to suspended and back observed on the NAS."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from aaa.audit.log import Actor, act_as
from aaa.db.base import utcnow
from aaa.operators.service import add_cash_box
from aaa.tables.subscribers import BillingMethod, Service
from billing_bridge import receiving
from billing_bridge.billing_run import run_billing
from billing_bridge.charges import add_charge
from billing_bridge.models import Charge, ChargeKind
from billing_bridge.routine import run_routine
from tests.api_client import Api
from tests.conftest import make_service
from tests.fakes.coa_responder import CoaResponder
from tests.fakes.routeros_api import RouterOsFake
from tests.integration.test_api import operator, setup_service
from tests.integration.test_enforcement import add_nas, attempts, enforce, go_online, service, settings_for

ZONE = ZoneInfo("America/Sao_Paulo")
RULE = {
    "name": "Boleto",
    "total_suspension": True,
    "total_suspension_days": 15,
    "partial_suspension": True,
    "partial_suspension_days": 5,
    "minimum_open": "50.00",
}


def days_ago(n: int) -> str:
    return (utcnow().astimezone(ZONE).date() - timedelta(days=n)).isoformat()


def test_receiving_partial_full_and_reversal(api: Api) -> None:
    method = api.post("/billing-methods", RULE, expect=201)
    svc = setup_service(api, billing_method_id=method["id"])
    old = api.post(
        f"/services/{svc['id']}/charges",
        {"kind": "monthly", "due_date": days_ago(20), "amount": "94.90"},
        expect=201,
    )
    api.post(
        f"/services/{svc['id']}/charges",
        {"kind": "monthly", "due_date": days_ago(3), "amount": "94.90"},
        expect=201,
    )
    dry = api.post("/routines/suspension", {"dry_run": True}, expect=201)
    assert dry["counts"]["suspended"] == 1 and api.get(f"/services/{svc['id']}")["status"] == "enabled"
    assert dry["changes"][0]["reason"] == (
        "2 charge(s) overdue, oldest 20 days, R$ 189,80 ≥ minimum R$ 50,00,"
        " 15 days to suspend → suspended_debt"
    )
    api.post("/routines/suspension", {"dry_run": False}, expect=201)
    assert api.get(f"/services/{svc['id']}")["status"] == "suspended_debt"

    box = api.post("/cash-boxes", {"name": "Loja"}, expect=201)
    part = api.post(
        "/receipts", {"charge_ids": [old["id"]], "amount": "50.00", "cash_box_id": box["id"]}, expect=201
    )
    assert part["services_moved"] == []  # still 20 days overdue: still suspended
    charges = {c["id"]: c for c in api.get(f"/services/{svc['id']}/charges")["items"]}
    assert (charges[old["id"]]["status"], charges[old["id"]]["paid_amount"]) == ("partially_paid", "50.00")

    ids = list(charges)
    too_much = api.post(
        "/receipts", {"charge_ids": ids, "amount": "500.00", "cash_box_id": box["id"]}, expect=422
    )
    assert "more than the R$ 139,80 that settles the selected charges today" in too_much["detail"]
    full = api.post(
        "/receipts", {"charge_ids": ids, "amount": "139.80", "cash_box_id": box["id"]}, expect=201
    )
    assert [m["target"] for m in full["services_moved"]] == ["enabled"]  # re-enabled at once
    assert api.get(f"/services/{svc['id']}")["status"] == "enabled"
    assert {c["status"] for c in api.get(f"/services/{svc['id']}/charges")["items"]} == {"paid"}

    # Reversal (recebi um boleto errado): the charges reopen and the service is suspended
    # again at once, without waiting for the routine.
    reversed_ = api.post(f"/receipts/{full['id']}/reverse", {"reason": "wrong boleto"})
    assert [m["target"] for m in reversed_["services_moved"]] == ["suspended_debt"]
    again = api.post(f"/receipts/{full['id']}/reverse", {"reason": "twice"}, expect=409)
    assert "already reversed" in again["detail"]
    assert api.get(f"/services/{svc['id']}")["status"] == "suspended_debt"
    run = api.post("/routines/suspension", {"dry_run": False}, expect=201)
    assert run["changes"] == []  # nothing left for the routine
    entities = {
        e["entity"] for e in api.get(f"/services/{svc['id']}/history", params={"limit": 500})["items"]
    }
    assert {"charge", "service"} <= entities


def test_charge_rules_and_cash_box_permission(api: Api) -> None:
    svc = setup_service(api)
    url = f"/services/{svc['id']}/charges"
    assert (
        "more than zero"
        in api.post(url, {"kind": "sale", "due_date": days_ago(0), "amount": "0"}, expect=422)["detail"]
    )
    assert api.post(url, {"kind": "sale", "due_date": days_ago(0), "amount": "1.005"}, expect=422)
    charge = api.post(url, {"kind": "sale", "due_date": days_ago(0), "amount": "10.00"}, expect=201)
    box = api.post("/cash-boxes", {"name": "Matriz"}, expect=201)
    caio = operator(api, "caio", permissions=["finance.receive"])
    body = {"charge_ids": [charge["id"]], "amount": "10.00", "cash_box_id": box["id"]}
    assert "may not use cash box" in caio.post("/receipts", body, expect=403)["detail"]
    paid = api.post("/receipts", body, expect=201)
    assert api.post(f"/charges/{charge['id']}/cancel", {"reason": "x"}, expect=409)["detail"].endswith(
        "reverse its receipt first"
    )
    api.post(f"/receipts/{paid['id']}/reverse", {"reason": "mistake"})
    assert api.post(f"/charges/{charge['id']}/cancel", {"reason": "gift"})["status"] == "cancelled"
    assert api.post("/receipts", body, expect=409)["detail"].endswith("are not open (paid or cancelled)")
    assert api.get(f"/services/{svc['id']}/charges")["items"][0]["status"] == "cancelled"  # still visible


def test_overdue_reduced_suspended_paid_reversed_on_the_nas(
    db_url: str, factory: sessionmaker[Session]
) -> None:
    """The walk: billing run → overdue → reduced speed (CoA) → suspended (address list) → partial
    payment (still suspended) → full payment (enabled, CoA) → reversal (suspended again at the
    next routine)."""
    settings = settings_for(db_url, suspended_action="address_list")
    today = utcnow().astimezone(ZONE).date()
    due = today - timedelta(days=16)
    with RouterOsFake() as router, CoaResponder("test-secret-0123456789") as responder:
        nas_id = add_nas(factory, responder, router)
        service_id = service(factory, "maria")
        go_online(factory, "maria", nas_id, "81a00001", "100.64.0.7", responder, router)
        with factory.begin() as s:
            act_as(s, Actor("operator:test", "127.0.0.1"))
            method = BillingMethod(**{**RULE, "minimum_open": 50})
            s.add(method)
            s.flush()
            maria = s.get(Service, service_id)
            assert maria is not None
            maria.billing_method_id, maria.price, maria.due_day = method.id, Decimal("99.00"), due.day
            maria.activated_at = utcnow() - timedelta(days=120)
            box_id = add_cash_box(s, name="Loja").id
        with factory.begin() as s:
            act_as(s, Actor("operator:test", "127.0.0.1"))
            run = run_billing(s, due, ZONE, dry_run=False)
            assert run.counts["charged"] == 1 and run.total == Decimal("99.00")
            charge_id = s.scalars(select(Charge.id).where(Charge.billing_run_id == run.id)).one()

        def routine(day_offset: int) -> dict[str, Any]:
            with factory.begin() as s:
                act_as(s, Actor("scheduler", "local"))
                return run_routine(
                    s, today + timedelta(days=day_offset), ZONE, utcnow(), dry_run=False
                ).counts

        counts = routine(-10)
        assert counts.get("reduced") == 1, counts  # as of 10 days ago: 6 days overdue
        enforce(settings, factory)
        assert responder.received[-1].first("Mikrotik-Rate-Limit") == "15M/30M"  # 30 % of 100M/50M

        assert routine(0)["suspended"] == 1  # 16 days overdue
        enforce(settings, factory)
        assert [r["address"] for r in router.rows("/ip/firewall/address-list")] == ["100.64.0.7"]
        assert responder.received[-1].first("Mikrotik-Rate-Limit") == "512k/512k"

        def pay(amount: int) -> Any:
            with factory.begin() as s:
                act_as(s, Actor("operator:test", "127.0.0.1"))
                receipt, moved = receiving.receive(
                    s,
                    charge_ids=[charge_id],
                    amount=amount,
                    cash_box_id=box_id,
                    received_by="operator:test",
                    now=utcnow(),
                    zone=ZONE,
                )
                return receipt.id, moved

        _, moved = pay(40)
        assert moved == []  # partial: still suspended
        receipt_id, moved = pay(59)
        assert [t.target.value for t in moved] == ["enabled"]
        enforce(settings, factory)
        assert router.rows("/ip/firewall/address-list") == []
        assert responder.received[-1].first("Mikrotik-Rate-Limit") == "50M/100M"

        with factory.begin() as s:
            act_as(s, Actor("operator:test", "127.0.0.1"))
            receiving.reverse(
                s, receiving.get_receipt(s, receipt_id), reason="bounced", by="operator:test", now=utcnow()
            )
        assert routine(0)["suspended"] == 1
        enforce(settings, factory)
        assert [r["address"] for r in router.rows("/ip/firewall/address-list")] == ["100.64.0.7"]
        assert [a for a in attempts(factory, service_id) if a[1] != "ack"] == []
        with factory() as s:
            assert s.scalar(select(Service.status).where(Service.id == service_id)).value == "suspended_debt"


@pytest.mark.parametrize("routine_first", [True, False], ids=["routine-first", "payment-first"])
def test_payment_racing_the_routine_ends_enabled(
    pg_factory: sessionmaker[Session], routine_first: bool
) -> None:
    """PostgreSQL, real concurrency: whichever of the routine and the payment takes the service's
    row lock first, the service that paid ends enabled."""
    today = utcnow().astimezone(ZONE).date()
    with pg_factory.begin() as s:
        method = BillingMethod(**{**RULE, "name": f"Boleto {routine_first}", "minimum_open": 50})
        s.add(method)
        s.flush()
        maria = make_service(s, login=f"maria-{routine_first}", billing_method_id=method.id)
        charge_id = add_charge(
            s, maria, kind=ChargeKind.MONTHLY, due_date=today - timedelta(days=20), amount=99
        ).id
        box_id = add_cash_box(s, name=f"Loja {routine_first}").id
        service_id = maria.id
    holding = threading.Event()

    def routine(hold: bool) -> None:
        with pg_factory.begin() as s:
            run_routine(s, today, ZONE, utcnow(), dry_run=False)
            if hold:
                holding.set()
                time.sleep(0.4)  # the routine's transaction stays open, its row locks held

    def payment(hold: bool) -> None:
        with pg_factory.begin() as s:
            receiving.receive(
                s,
                charge_ids=[charge_id],
                amount=99,
                cash_box_id=box_id,
                received_by="bank",
                now=utcnow(),
                zone=ZONE,
            )
            if hold:
                holding.set()
                time.sleep(0.4)

    first, second = (routine, payment) if routine_first else (payment, routine)
    holder = threading.Thread(target=first, args=(True,))
    holder.start()
    assert holding.wait(5)
    started = time.monotonic()
    second(False)  # blocks on the row lock until the first commits
    holder.join(5)
    assert time.monotonic() - started > 0.2  # it really waited for the other transaction
    with pg_factory() as s:
        assert s.get(Service, service_id).status.value == "enabled", routine_first  # type: ignore[union-attr]
