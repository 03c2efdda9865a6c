"""Invoicing through the admin API on SQLite and PostgreSQL: the monthly billing run (preview,
warnings, generate, idempotent, pro-rata, advance/postpaid), invoices (grouping, cancel,
re-issue, paid by invoice), installation fee in instalments, carnê, late fee / interest /
promotional discount at receiving, and cancellation with a loyalty fine."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from aaa.db.base import utcnow
from aaa.tables.subscribers import Service
from billing_bridge.billing_run import run_billing
from billing_bridge.models import Charge
from tests.api_client import Api
from tests.integration.test_api import setup_service

BOLETO = {"name": "Boleto", "fine_percent": "2.00", "interest_percent_month": "1.00"}


def factory_of(api: Api) -> sessionmaker[Session]:
    return api.client.app.state.factory  # type: ignore[attr-defined,no-any-return]


def activated(api: Api, service_id: int, when: datetime | None) -> None:
    with factory_of(api).begin() as s:
        s.execute(update(Service).where(Service.id == service_id).values(activated_at=when))


def another(api: Api, login: str, doc: str, **fields: Any) -> dict[str, Any]:
    return setup_service(api, login=login, document=doc, **fields)


def test_billing_run_preview_generate_and_invoices(api: Api) -> None:
    method = api.post("/billing-methods", BOLETO, expect=201)
    common = {"billing_method_id": method["id"], "due_day": 10, "price": "99.90"}
    ana = setup_service(api, login="ana", **common)
    bia = another(api, "bia", "12345678909", **common, billing_mode="postpaid")
    caio = another(api, "caio", "11144477735", due_day=10, price="99.90")  # no billing method
    davi = another(api, "davi", "39053344705", **common, status="pending_install")
    eva = another(api, "eva", "86288366757", **common)
    for svc in (ana, bia, caio):
        activated(api, svc["id"], datetime(2026, 10, 1, 12, tzinfo=UTC))
    activated(api, eva["id"], datetime(2026, 12, 16, 12, tzinfo=UTC))  # mid-December
    fee = api.post(
        f"/services/{ana['id']}/installation-fee",
        {"amount": "100.00", "installments": 3, "first_due": "2026-12-10"},
        expect=201,
    )
    assert [(c["amount"], c["due_date"], c["description"]) for c in fee] == [
        ("33.34", "2026-12-10", "Taxa de instalação 1/3"),
        ("33.33", "2027-01-10", "Taxa de instalação 2/3"),
        ("33.33", "2027-02-10", "Taxa de instalação 3/3"),
    ]

    preview = api.post("/billing-runs", {"competence": "2026-12-15"}, expect=201)
    assert preview["dry_run"] and preview["competence"] == "2026-12-01"
    assert preview["counts"] == {"charged": 3, "no_billing_method": 1, "pending_install": 1}
    assert preview["total"] == "251.36"  # 99.90 + 99.90 + 16/31 of 99.90 (51.56)
    lines = {line["login"]: (line["due_date"], line["amount"]) for line in preview["items"]}
    assert lines == {
        "ana": ("2026-12-10", "99.90"),
        "bia": ("2027-01-10", "99.90"),  # postpaid: December is paid in January
        "eva": ("2026-12-10", "51.56"),
    }
    assert [(w["login"], w["message"]) for w in preview["warnings"]] == [
        ("caio", "has no billing method: set one to bill it")
    ]
    assert (
        api.get(f"/services/{ana['id']}/charges", params={"limit": 10})["items"][0]["kind"] == "installation"
    )
    assert davi["status"] == "pending_install"

    run = api.post("/billing-runs", {"competence": "2026-12-01", "dry_run": False}, expect=201)
    assert run["counts"]["charged"] == 3 and run["items"] == []
    again = api.post("/billing-runs", {"competence": "2026-12-01", "dry_run": False}, expect=201)
    assert again["counts"]["charged"] == 0 and again["counts"]["already_charged"] == 3  # idempotent
    assert [r["id"] for r in api.get("/billing-runs")["items"]][:2] == [again["id"], run["id"]]

    # Ana's December boleto carries her monthly fee and the first installation instalment.
    [invoice] = api.get(f"/customers/{ana['customer_id']}/invoices")["items"]
    assert (invoice["status"], invoice["amount"], invoice["due_date"]) == ("issued", "133.24", "2026-12-10")
    assert sorted(c["kind"] for c in invoice["charges"]) == ["installation", "monthly"]

    # Quote on a late day: 2 % fee once, 1 % a month of interest (30 days late → 1 %).
    ids = invoice["charge_ids"]
    late = api.get("/charges/quote", params={"ids": ids, "on": "2027-01-09"})
    assert late["total"] == "137.24"  # 133.24 + fees 2.00 + 0.67 + interest 1.00 + 0.33
    assert {i["charge_id"]: i["fine"] for i in late["items"]} == {ids[0]: "2.00", ids[1]: "0.67"}
    early = api.get("/charges/quote", params={"ids": ids, "on": "2026-12-10"})
    assert early["total"] == "133.24"

    box = api.post("/cash-boxes", {"name": "Loja"}, expect=201)
    paid = api.post("/receipts", {"invoice_id": invoice["id"], "cash_box_id": box["id"]}, expect=201)
    assert paid["amount"] == "133.24"  # no amount given: what settles it today (before the due date)
    assert api.get(f"/invoices/{invoice['id']}")["status"] == "paid"
    assert api.post(f"/invoices/{invoice['id']}/cancel", {"reason": "x"}, expect=409)["detail"].endswith(
        "reverse its receipt first"
    )

    # Cancel and re-issue: the old invoice stays visible, cancelled.
    [eva_invoice] = api.get(f"/customers/{eva['customer_id']}/invoices")["items"]
    new = api.post(
        f"/invoices/{eva_invoice['id']}/reissue", {"due_date": "2026-12-20", "reason": "asked"}, expect=201
    )
    assert (new["reissued_from_id"], new["due_date"], new["amount"]) == (
        eva_invoice["id"],
        "2026-12-20",
        "51.56",
    )
    states = [(i["id"], i["status"]) for i in api.get(f"/customers/{eva['customer_id']}/invoices")["items"]]
    assert states == [(new["id"], "issued"), (eva_invoice["id"], "cancelled")]
    api.post(f"/invoices/{new['id']}/cancel", {"reason": "gave up", "cancel_charges": True})
    # Any status prints, with whom it is for and where it stands.
    page = api.client.get(
        f"/api/v1/invoices/{new['id']}/print", headers={"Authorization": f"Bearer {api.token}"}
    )
    assert page.status_code == 200 and "Fatura nº" in page.text and "Situação: <strong>CANCELADA" in page.text
    assert "Cliente: Maria da Silva" in page.text and "Cancelada: gave up" in page.text
    assert api.get(f"/services/{eva['id']}/charges")["items"][0]["status"] == "cancelled"
    assert api.post(f"/invoices/{new['id']}/reissue", {"due_date": "2026-12-21", "reason": "x"}, expect=409)

    # A loose charge and one on an invoice cannot share another invoice; one customer per invoice.
    [bia_invoice] = api.get(f"/customers/{bia['customer_id']}/invoices")["items"]
    loose = fee[1]["id"]
    mixed = {"charge_ids": [loose, *bia_invoice["charge_ids"]], "billing_method_id": method["id"]}
    assert (
        "already on an invoice"
        in api.post("/invoices", {**mixed, "due_date": "2027-01-10"}, expect=409)["detail"]
    )
    api.post(f"/invoices/{bia_invoice['id']}/cancel", {"reason": "regroup"})
    assert "one customer" in api.post("/invoices", {**mixed, "due_date": "2027-01-10"}, expect=422)["detail"]
    both = api.post(
        "/invoices",
        {
            "charge_ids": [fee[1]["id"], fee[2]["id"]],
            "billing_method_id": method["id"],
            "due_date": "2027-01-10",
        },
        expect=201,
    )
    assert both["amount"] == "66.66"
    entities = {e["entity"] for e in api.get("/audit", params={"limit": 200})["items"]}
    assert {"invoice", "billing_run", "charge", "receipt"} <= entities


def test_partial_payment_with_fees_and_discount(api: Api) -> None:
    method = api.post("/billing-methods", BOLETO, expect=201)
    svc = setup_service(api, billing_method_id=method["id"])
    today = utcnow().date()
    box = api.post("/cash-boxes", {"name": "Loja"}, expect=201)
    overdue = api.post(
        f"/services/{svc['id']}/charges",
        {"kind": "monthly", "due_date": (today - timedelta(days=30)).isoformat(), "amount": "100.00"},
        expect=201,
    )
    q = api.get("/charges/quote", params={"ids": [overdue["id"]]})
    api.get("/charges/quote", params={"ids": [2**63]}, expect=422)  # not a database overflow
    assert q["items"][0]["fine"] == "2.00" and q["items"][0]["interest"] in ("0.97", "1.00", "1.03")
    fees = float(q["items"][0]["fine"]) + float(q["items"][0]["interest"])
    short = api.post(
        "/receipts", {"charge_ids": [overdue["id"]], "amount": "1.00", "cash_box_id": box["id"]}, expect=422
    )
    assert "does not cover its late fee and interest" in short["detail"]
    part = api.post(
        "/receipts", {"charge_ids": [overdue["id"]], "amount": "53.00", "cash_box_id": box["id"]}, expect=201
    )
    item = part["items"][0]
    assert item["fine"] == "2.00" and f"{float(item['amount']) + fees:.2f}" == "53.00"
    again = api.get("/charges/quote", params={"ids": [overdue["id"]]})["items"][0]
    assert again["fine"] == "0.00" and again["interest"] == "0.00"  # fee once; interest paid to today
    rest = api.post("/receipts", {"charge_ids": [overdue["id"]], "cash_box_id": box["id"]}, expect=201)
    assert rest["amount"] == again["total"]
    api.post(f"/receipts/{rest['id']}/reverse", {"reason": "bounced"})
    assert api.get("/charges/quote", params={"ids": [overdue["id"]]})["items"][0]["fine"] == "0.00"

    promo = api.post(
        f"/services/{svc['id']}/charges",
        {
            "kind": "sale",
            "due_date": (today + timedelta(days=10)).isoformat(),
            "amount": "100.00",
            "discount_amount": "15.00",
            "discount_days_before": 5,
        },
        expect=201,
    )
    paid = api.post("/receipts", {"charge_ids": [promo["id"]], "cash_box_id": box["id"]}, expect=201)
    assert (paid["amount"], paid["items"][0]["discount"]) == ("85.00", "15.00")
    page = api.client.get(
        f"/api/v1/receipts/{paid['id']}/print", headers={"Authorization": f"Bearer {api.token}"}
    )
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Total recebido: R$ 85,00" in page.text and "<td>R$ 15,00</td>" in page.text
    assert "Cliente: Maria da Silva — CPF 529.982.247-25" in page.text
    charge = next(c for c in api.get(f"/services/{svc['id']}/charges")["items"] if c["id"] == promo["id"])
    assert (charge["status"], charge["paid_amount"], charge["discount_granted"]) == ("paid", "85.00", "15.00")
    api.post(f"/receipts/{paid['id']}/reverse", {"reason": "mistake"})
    charge = next(c for c in api.get(f"/services/{svc['id']}/charges")["items"] if c["id"] == promo["id"])
    assert (charge["status"], charge["open_amount"]) == ("open", "100.00")
    bad = {"kind": "sale", "due_date": today.isoformat(), "amount": "10.00", "discount_amount": "10.00"}
    assert "less than the amount" in api.post(f"/services/{svc['id']}/charges", bad, expect=422)["detail"]


def test_carne_and_then_the_billing_run_skips_its_months(api: Api) -> None:
    method = api.post("/billing-methods", BOLETO, expect=201)
    svc = setup_service(api, billing_method_id=method["id"], due_day=20, price="90.00")
    book = api.post(
        f"/services/{svc['id']}/carnes",
        {"first_due": "2026-11-20", "installments": 3, "start": "2026-11-16"},
        expect=201,
    )
    assert [(c["competence"], c["amount"], c["installment"]) for c in book["charges"]] == [
        ("2026-11-01", "45.00", 1),  # 15 of 30 days
        ("2026-12-01", "90.00", 2),
        ("2027-01-01", "90.00", 3),
    ]
    assert (
        book["charges"][0]["description"]
        == "Carnê 1/3 — Mensalidade 11/2026 (pro-rata 15/30 dias de R$ 90,00)"
    )
    overlap = api.post(
        f"/services/{svc['id']}/carnes", {"first_due": "2027-01-20", "installments": 2}, expect=409
    )
    assert "already has its monthly fee for 01/2027" in overlap["detail"]
    run = api.post("/billing-runs", {"competence": "2026-12-01", "dry_run": False}, expect=201)
    assert run["counts"] == {"charged": 0, "already_charged": 1}


def test_cancellation_with_loyalty_fine_and_pending_charges(api: Api) -> None:
    svc = setup_service(api, loyalty_months=12, loyalty_fine="600.00")
    activated(api, svc["id"], utcnow() - timedelta(days=100))  # 3 whole months served
    today = utcnow().date()
    url = f"/services/{svc['id']}/charges"
    old = api.post(
        url,
        {"kind": "monthly", "due_date": (today - timedelta(days=5)).isoformat(), "amount": "99.90"},
        expect=201,
    )
    future = api.post(
        url,
        {"kind": "monthly", "due_date": (today + timedelta(days=20)).isoformat(), "amount": "99.90"},
        expect=201,
    )
    done = api.post(
        f"/services/{svc['id']}/cancel",
        {"reason": "moving", "loyalty_fine": True, "cancel_pending_charges": True},
    )
    assert done["status"] == "cancelled" and done["cancelled_charge_ids"] == [future["id"]]
    assert (done["fine"]["kind"], done["fine"]["amount"]) == ("fine", "450.00")  # 9 of 12 months left
    assert done["notes"] == ["loyalty fine: 9 of 12 months left × R$ 600,00 / 12 = R$ 450,00"]
    statuses = {c["id"]: c["status"] for c in api.get(url)["items"]}
    assert statuses[old["id"]] == "open"  # overdue debt stays
    plain = another(api, "zeca", "98765432100")
    assert (
        "no loyalty term"
        in api.post(f"/services/{plain['id']}/cancel", {"reason": "x", "loyalty_fine": True}, expect=422)[
            "detail"
        ]
    )


def test_two_generating_runs_racing_charge_once(api: Api) -> None:
    """The partial unique index is the last word: a concurrent second run finds the month charged."""
    method = api.post("/billing-methods", BOLETO, expect=201)
    svc = setup_service(api, billing_method_id=method["id"], due_day=5)
    results: list[Any] = []

    def go() -> None:
        try:
            with factory_of(api).begin() as s:
                results.append(
                    run_billing(s, date(2027, 3, 1), ZoneInfo("America/Sao_Paulo"), dry_run=False).counts
                )
        except Exception as exc:  # SQLite may refuse the second writer outright: nothing is written
            results.append(type(exc).__name__)

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with factory_of(api)() as s:
        monthly = s.scalars(
            select(Charge).where(Charge.service_id == svc["id"], Charge.kind == "monthly")
        ).all()
    assert len(monthly) == 1, results


def test_billing_run_filters_and_a_contract_s_next_invoice(api: Api) -> None:
    """Bill only one billing method, due day or city; and see one contract's next fee first."""
    boleto = api.post("/billing-methods", {"name": "Boleto"}, expect=201)["id"]
    pix = api.post("/billing-methods", {"name": "PIX"}, expect=201)["id"]
    ana = setup_service(api, login="ana", billing_method_id=boleto, due_day=10, price="99.90")
    bia = another(api, "bia", "12345678909", billing_method_id=pix, due_day=20, price="79.90")
    caio = another(api, "caio", "11144477735", billing_method_id=boleto, due_day=20, price="59.90")
    for svc in (ana, bia, caio):
        activated(api, svc["id"], datetime(2026, 10, 1, 12, tzinfo=UTC))
    preview = api.get(f"/services/{bia['id']}/next-invoice", params={"competence": "2027-01-01"})
    assert (preview["billed"], preview["amount"], preview["due_date"]) == (True, "79.90", "2027-01-20")
    run = {"competence": "2027-01-01", "dry_run": True}
    by_method = api.post("/billing-runs", {**run, "billing_method_id": boleto}, expect=201)
    assert sorted(i["login"] for i in by_method["items"]) == ["ana", "caio"]
    by_day = api.post("/billing-runs", {**run, "due_day": 20}, expect=201)
    assert sorted(i["login"] for i in by_day["items"]) == ["bia", "caio"]
    assert api.post("/billing-runs", {**run, "city": "Arcos"}, expect=201)["items"] == []
    assert len(api.post("/billing-runs", {**run, "city": "formiga"}, expect=201)["items"]) == 3
    api.post("/billing-runs", {**run, "dry_run": False, "due_day": 10}, expect=201)
    done = api.get(f"/services/{ana['id']}/next-invoice", params={"competence": "2027-01-15"})
    assert done["billed"] is False and "already has its monthly fee" in done["reason"]
