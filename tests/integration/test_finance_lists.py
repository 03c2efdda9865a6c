"""Finance navigation through the API (seed 000/001/004), on SQLite and PostgreSQL: charges,
invoices, receipts and carnês across customers with filters and totals; which receipts paid a
charge; a customer's receipts; the overdue list (inadimplentes) and its CSV."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.api_client import CPF2, person
from tests.dates import business_today
from tests.integration.test_api import setup_service

TODAY = business_today()


def day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


def world(api: Any) -> dict[str, Any]:
    method = api.post("/billing-methods", {"name": "Boleto"}, expect=201)["id"]
    ana = setup_service(api, login="ana", billing_method_id=method)
    customer = api.post("/customers", person(CPF2, city="Arcos", name="Bruno Arcos"), expect=201)
    plan = api.get("/plans")["items"][0]["id"]
    bruno = api.post(
        "/services", {"customer_id": customer["id"], "plan_id": plan, "login": "bruno"}, expect=201
    )

    def charge(service: dict[str, Any], due: int, amount: str) -> dict[str, Any]:
        body = {"kind": "other", "due_date": day(due), "amount": amount}
        return dict(api.post(f"/services/{service['id']}/charges", body, expect=201))

    w = {
        "method": method,
        "ana": ana,
        "bruno": bruno,
        "ana_old": charge(ana, -40, "100.00"),
        "ana_late": charge(ana, -10, "50.00"),
        "ana_next": charge(ana, 15, "99.90"),
        "bruno_late": charge(bruno, -5, "70.00"),
    }
    w["box"] = api.post("/cash-boxes", {"name": "Caixa"}, expect=201)["id"]
    w["receipt"] = api.post(
        "/receipts", {"charge_ids": [w["ana_old"]["id"]], "cash_box_id": w["box"]}, expect=201
    )
    w["invoice"] = api.post(
        "/invoices",
        {"charge_ids": [w["ana_next"]["id"]], "billing_method_id": method, "due_date": day(15)},
        expect=201,
    )
    return w


def test_lists_filter_and_total_what_they_select(api: Any) -> None:
    w = world(api)
    everything = api.get("/charges")
    assert (
        everything["total"] == 4
        and everything["amount"] == "319.90"
        and everything["open_amount"] == "219.90"
    )
    overdue = api.get("/charges", params={"status": "overdue"})
    assert (
        sorted(c["amount"] for c in overdue["items"]) == ["50.00", "70.00"]
        and overdue["open_amount"] == "120.00"
    )
    arcos = api.get("/charges", params={"city": "Arcos"})
    assert [c["id"] for c in arcos["items"]] == [w["bruno_late"]["id"]]
    window = api.get("/charges", params={"due_after": day(-20), "due_before": day(0)})
    assert window["total"] == 2
    ana_only = api.get("/charges", params={"customer_id": w["ana"]["customer_id"], "limit": 1})
    assert ana_only["total"] == 3 and len(ana_only["items"]) == 1 and ana_only["amount"] == "249.90"
    assert api.get("/charges", params={"billing_method_id": w["method"]})["total"] == 3
    invoices = api.get("/invoices", params={"status": "open"})
    assert [i["id"] for i in invoices["items"]] == [w["invoice"]["id"]] and invoices["open_amount"] == "99.90"
    api.get("/charges", params={"status": "owing"}, expect=422)


def test_a_charge_names_the_receipts_that_paid_it(api: Any) -> None:
    w = world(api)
    charges = {c["id"]: c for c in api.get(f"/services/{w['ana']['id']}/charges")["items"]}
    assert charges[w["ana_old"]["id"]]["receipt_ids"] == [w["receipt"]["id"]]
    assert charges[w["ana_late"]["id"]]["receipt_ids"] == []
    by_charge = api.get("/receipts", params={"charge_id": w["ana_old"]["id"]})
    assert [r["id"] for r in by_charge["items"]] == [w["receipt"]["id"]] and by_charge["amount"] == "100.00"
    mine = api.get(f"/customers/{w['ana']['customer_id']}/receipts")
    assert [r["id"] for r in mine["items"]] == [w["receipt"]["id"]]
    api.post(f"/receipts/{w['receipt']['id']}/reverse", {"reason": "cheque devolvido"})
    assert api.get("/receipts", params={"status": "reversed"})["total"] == 1
    assert api.get("/receipts", params={"status": "valid"})["amount"] == "0.00"  # nothing left received


def test_carnes_across_customers(api: Any) -> None:
    w = world(api)
    api.post(
        f"/services/{w['bruno']['id']}/carnes",
        {"first_due": day(20), "installments": 2, "start": day(-30)},
        expect=201,
    )
    books = api.get("/carnes")
    assert books["total"] == 1 and len(books["items"][0]["charges"]) == 2
    assert api.get("/carnes", params={"city": "Formiga"})["total"] == 0


def test_the_overdue_list_and_its_csv(api: Any) -> None:
    w = world(api)
    debtors = api.get("/overdue")
    assert [(d["name"], d["total_open"], d["charges"], d["logins"]) for d in debtors["items"]] == [
        ("Bruno Arcos", "70.00", 1, ["bruno"]),
        ("Maria da Silva", "50.00", 1, ["ana"]),
    ]
    assert debtors["total_open"] == "120.00"
    assert [d["days"] for d in debtors["items"]] == [5, 10]
    assert [d["name"] for d in api.get("/overdue", params={"min_days": 7})["items"]] == ["Maria da Silva"]
    page = api.client.get(
        "/api/v1/overdue", params={"format": "csv"}, headers={"Authorization": f"Bearer {api.token}"}
    )
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/csv")
    lines = page.text.strip().splitlines()
    assert lines[0] == "cliente;documento;logins;cobrancas;vencimento_mais_antigo;em_aberto;dias"
    assert lines[1].startswith("Bruno Arcos;") and lines[1].endswith(";70,00;5")
    assert w["ana"]["login"] in page.text
