"""Money follows the subscriber, through the HTTP API on SQLite and PostgreSQL: a migration
(immediate and not) takes the old service's open charges, instalments, carnê and invoices to the
new one and the billing run charges each month once per contract; a transfer takes the open
invoices to the new owner or leaves the overdue debt with the previous one; a reversal
re-suspends at once; a service held for debt without any charge is reported, not re-enabled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from aaa.subscribers.lifecycle import change_status
from aaa.tables.subscribers import Service
from aaa.vocabulary.subscribers import ServiceStatus
from billing_bridge.contracts import open_money_by_customer
from tests.api_client import Api
from tests.dates import business_today
from tests.integration.test_api import setup_service
from tests.integration.test_invoicing import activated, another, factory_of

TODAY = business_today()
# Billed in advance for next month (due on its 10th): never overdue, whatever day this runs.
MONTH = (TODAY.replace(day=1) + timedelta(days=32)).replace(day=1)
NEXT_MONTH = (MONTH + timedelta(days=32)).replace(day=1)
METHOD = {"name": "Boleto", "total_suspension": True, "total_suspension_days": 5}


def money(api: Api) -> dict[int, Decimal]:
    with factory_of(api)() as s:
        return open_money_by_customer(s)


def charges(api: Api, service_id: int) -> list[dict[str, Any]]:
    return [
        c
        for c in api.get(f"/services/{service_id}/charges", params={"limit": 100})["items"]
        if c["open_amount"] != "0.00"
    ]


def contract(api: Api) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """ana on Fibra (99.90) with next month's fee on an invoice, an installation fee in three
    instalments and an overdue extra charge; a second plan to migrate to."""
    method = api.post("/billing-methods", METHOD, expect=201)
    ana = setup_service(api, login="ana", billing_method_id=method["id"], due_day=10, price="99.90")
    activated(api, ana["id"], datetime(2026, 1, 1, 12, tzinfo=UTC))
    run = api.post("/billing-runs", {"competence": MONTH.isoformat(), "dry_run": False}, expect=201)
    assert run["counts"]["charged"] == 1
    assert len(api.get(f"/customers/{ana['customer_id']}/invoices")["items"]) == 1  # the run issued it
    api.post(
        f"/services/{ana['id']}/installation-fee",
        {"amount": "90.00", "installments": 3, "first_due": (TODAY + timedelta(days=5)).isoformat()},
        expect=201,
    )
    overdue = {"kind": "other", "due_date": (TODAY - timedelta(days=30)).isoformat(), "amount": "40.00"}
    api.post(f"/services/{ana['id']}/charges", overdue, expect=201)
    plan = api.post(
        "/plans",
        {"name": "Fibra 500M", "price": "149.90", "download_kbps": 500_000, "upload_kbps": 250_000},
        expect=201,
    )
    return ana, method, plan


def test_an_immediate_migration_moves_the_money_and_bills_each_month_once(api: Api) -> None:
    ana, _method, plan = contract(api)
    before = money(api)
    open_before = charges(api, ana["id"])
    assert len(open_before) == 5  # the monthly fee, three instalments, the overdue charge
    new = api.post(
        f"/services/{ana['id']}/migrate",
        {"plan_id": plan["id"], "immediate": True, "reason": "upgrade"},
        expect=201,
    )
    assert new["login"] == "ana" and new["status"] == "enabled"
    moved = new["money_moved"]
    assert (moved["charges"], moved["amount"], moved["invoices"]) == (5, "229.90", 1)
    assert charges(api, ana["id"]) == []
    assert {c["id"] for c in charges(api, new["id"])} == {c["id"] for c in open_before}
    assert money(api) == before  # nothing appeared or vanished
    invoices = api.get(f"/customers/{ana['customer_id']}/invoices")["items"]
    assert [i["service_id"] for i in invoices] == [new["id"]]
    # The billing run: this month was charged on the old service, so not again; next month once.
    again = api.post("/billing-runs", {"competence": MONTH.isoformat(), "dry_run": False}, expect=201)
    assert again["counts"].get("charged", 0) == 0 and again["counts"]["already_charged"] == 1
    later = api.post("/billing-runs", {"competence": NEXT_MONTH.isoformat(), "dry_run": False}, expect=201)
    assert later["counts"]["charged"] == 1
    monthly = [c for c in charges(api, new["id"]) if c["kind"] == "monthly"]
    assert sorted(c["competence"] for c in monthly) == [MONTH.isoformat(), NEXT_MONTH.isoformat()]
    # The overdue charge now holds the new service: the routine suspends it (no escape).
    run = api.post("/routines/suspension", {"dry_run": False}, expect=201)
    assert [(c["login"], c["target"]) for c in run["changes"]] == [("ana", "suspended_debt")]
    assert api.get(f"/services/{new['id']}/diagnostics")["next_login"]["outcome"] == "reject"


def test_a_migration_waiting_for_the_technician_moves_the_money_when_enabled(api: Api) -> None:
    ana, _method, plan = contract(api)
    before = money(api)
    new = api.post(
        f"/services/{ana['id']}/migrate",
        {"plan_id": plan["id"], "immediate": False, "reason": "upgrade"},
        expect=201,
    )
    assert new["status"] == "awaiting_migration" and new["money_moved"] is None
    assert len(charges(api, ana["id"])) == 5  # still the old service's while it serves
    api.post(f"/services/{new['id']}/enable", {"reason": "technician done"})
    assert charges(api, ana["id"]) == [] and len(charges(api, new["id"])) == 5
    assert money(api) == before
    history = api.get(f"/services/{new['id']}/history")["items"]
    assert any(h["action"] == "money_moved" and "5 open charge(s)" in (h["note"] or "") for h in history)


def test_a_transfer_takes_open_invoices_or_leaves_the_debt(api: Api) -> None:
    ana, _method, _plan = contract(api)
    bia = another(api, "bia", "12345678909")
    before = money(api)
    moved = api.post(
        f"/services/{ana['id']}/transfer", {"customer_id": bia["customer_id"], "reason": "venda do imóvel"}
    )["money_moved"]
    assert (moved["invoices"], moved["charges"], moved["kept_charges"]) == (1, 5, 0)
    assert [i["service_id"] for i in api.get(f"/customers/{bia['customer_id']}/invoices")["items"]] == [
        ana["id"]
    ]
    assert api.get(f"/customers/{ana['customer_id']}/invoices")["items"] == []
    after = money(api)
    assert after[bia["customer_id"]] == before[ana["customer_id"]] and ana["customer_id"] not in after


def test_a_transfer_can_leave_the_overdue_debt_with_the_previous_owner(api: Api) -> None:
    ana, _method, _plan = contract(api)
    api.post("/routines/suspension", {"dry_run": False}, expect=201)
    assert api.get(f"/services/{ana['id']}")["status"] == "suspended_debt"  # the overdue 40.00
    bia = another(api, "bia", "12345678909")
    before = money(api)
    out = api.post(
        f"/services/{ana['id']}/transfer",
        {"customer_id": bia["customer_id"], "reason": "venda", "transfer_debts": False},
    )
    moved = out["money_moved"]
    assert (moved["kept_charges"], moved["kept_amount"], moved["charges"]) == (1, "40.00", 4)
    assert out["status"] == "enabled"  # the debt that held it is no longer the service's
    after = money(api)
    assert after[ana["customer_id"]] == Decimal("40.00")
    assert after[ana["customer_id"]] + after[bia["customer_id"]] == before[ana["customer_id"]]
    run = api.post("/routines/suspension", {"dry_run": True}, expect=201)
    assert all(c["login"] != "ana" for c in run["changes"])


def test_a_reversal_suspends_again_at_once(api: Api) -> None:
    ana, _method, _plan = contract(api)
    api.post("/routines/suspension", {"dry_run": False}, expect=201)
    overdue = [c for c in charges(api, ana["id"]) if c["due_date"] < TODAY.isoformat()]
    box = api.post("/cash-boxes", {"name": "Caixa"}, expect=201)["id"]
    paid = api.post("/receipts", {"charge_ids": [c["id"] for c in overdue], "cash_box_id": box}, expect=201)
    assert [(m["login"], m["target"]) for m in paid["services_moved"]] == [("ana", "enabled")]
    reversed_ = api.post(f"/receipts/{paid['id']}/reverse", {"reason": "cheque devolvido"})
    assert [(m["login"], m["current"], m["target"]) for m in reversed_["services_moved"]] == [
        ("ana", "enabled", "suspended_debt")
    ]
    assert api.get(f"/services/{ana['id']}")["status"] == "suspended_debt"
    next_login = api.get(f"/services/{ana['id']}/diagnostics")["next_login"]
    assert next_login["outcome"] == "reject"


def test_held_for_debt_without_a_charge_is_reported_not_reenabled(api: Api) -> None:
    method = api.post("/billing-methods", METHOD, expect=201)
    imported = setup_service(api, login="importado", billing_method_id=method["id"])
    with factory_of(api).begin() as s:  # as an import would leave it
        service = s.get(Service, imported["id"])
        assert service is not None
        change_status(s, service, ServiceStatus.SUSPENDED_DEBT, reason="imported as suspended")
    run = api.post("/routines/suspension", {"dry_run": False}, expect=201)
    assert run["counts"]["suspended_without_debt"] == 1
    [change] = run["changes"]
    assert change["login"] == "importado" and change["target"] == "suspended_debt"
    assert "suspended without debt" in change["reason"]
    assert api.get(f"/services/{imported['id']}")["status"] == "suspended_debt"
    asked = api.post("/routines/suspension", {"dry_run": False, "reenable_without_debt": True}, expect=201)
    assert [(c["login"], c["target"]) for c in asked["changes"]] == [("importado", "enabled")]


def test_the_demo_debtor_owes_what_holds_it(tmp_path: Any) -> None:
    from aaa.cli import main
    from aaa.composition import build
    from aaa.settings import load_settings
    from billing_bridge.charges import open_charges

    config = tmp_path / "aaa.toml"
    config.write_text(f'database_url = "sqlite:///{tmp_path / "demo.db"}"\n')
    assert main(["--config", str(config), "demo"]) == 0
    components = build(load_settings(config))
    try:
        with components.factory() as s:
            devedor = s.query(Service).filter(Service.login == "devedor").one()
            assert open_charges(s, [devedor.id], business_today())[devedor.id]
    finally:
        components.close()
