"""ERP exports in: the documented CSV layout and the MK-Auth and IXC presets, through the API
(POST /imports, followed with GET /imports/{id}), on SQLite and PostgreSQL. Malformed rows are
listed with their reason and never stop the others; a subscriber suspended for debt without an
overdue charge in the import is named; a second run changes nothing. And a FreeRADIUS import
through the API, with its permission and city checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import wait_for
from tests.integration.test_api import operator

SAMPLES = Path(__file__).parent / "samples"


def sample(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


def finished(api: Any, run: dict[str, Any]) -> dict[str, Any]:
    assert wait_for(lambda: api.get(f"/imports/{run['id']}")["status"] != "running", timeout=60)
    done: dict[str, Any] = api.get(f"/imports/{run['id']}")
    assert done["status"] == "done", done
    return done


def rows(run: dict[str, Any], action: str) -> dict[str, str]:
    return {r["key"]: r["reason"] for r in run["rows"] if r["action"] == action}


@pytest.fixture
def plan(api: Any) -> dict[str, Any]:
    body = {"name": "Fibra 100M", "price": "99.90", "download_kbps": 100_000, "upload_kbps": 50_000}
    return dict(api.post("/plans", body, expect=201))


def test_generic_layout(api: Any, plan: dict[str, Any]) -> None:
    body = {
        "kind": "erp_csv",
        "customers_csv": sample("generic_clientes.csv"),
        "services_csv": sample("generic_servicos.csv"),
        "charges_csv": sample("generic_cobrancas.csv"),
    }
    run = finished(api, api.post("/imports", body, expect=202))
    assert run["counts"]["service"]["created"] == 4 and run["counts"]["charge"]["created"] == 2
    errors = rows(run, "error")
    assert errors["semsenha"] == "needs login and senha"
    assert "status 'em analise' is not known" in errors["estranho"]
    assert (
        "'31/02/2026' is not a date" in errors["line 4"] and "'noventa' is not an amount" in errors["line 5"]
    )
    notes = rows(run, "note")
    assert notes["antigo"] == "cancelled in the ERP: not imported"
    assert "first suspension routine will enable it again" in notes["padaria2"] and "padaria" not in notes
    services = {s["login"]: s for s in api.get("/services", params={"limit": 50})["items"]}
    assert services["maria"]["status"] == "enabled" and services["maria"]["due_day"] == 10
    assert services["maria"]["mac"] == "AA:BB:CC:00:10:01" and services["maria"]["price"] == "99.90"
    assert (
        services["padaria"]["status"] == "suspended_debt" and services["jose"]["status"] == "blocked_manual"
    )
    company = api.get(f"/customers/{services['padaria']['customer_id']}")
    assert company["kind"] == "company" and company["document"] == "11222333000181"
    assert services["padaria"]["customer_id"] == services["padaria2"]["customer_id"]
    charges = api.get(f"/services/{services['padaria']['id']}/charges")["items"]
    assert [(c["due_date"], c["amount"]) for c in charges] == [("2026-11-10", "149.90")]
    again = finished(api, api.post("/imports", body, expect=202))
    assert "created" not in {a for counts in again["counts"].values() for a in counts}


def test_mkauth_and_ixc_presets(api: Any, plan: dict[str, Any]) -> None:
    mkauth = {
        "kind": "erp_csv",
        "preset": "mkauth",
        "customers_csv": sample("mkauth_sis_cliente.csv"),
        "services_csv": sample("mkauth_sis_cliente.csv"),
        "charges_csv": sample("mkauth_sis_lanc.csv"),
    }
    run = finished(api, api.post("/imports", mkauth, expect=202))
    assert run["counts"]["service"] == {"created": 2} and run["counts"]["customer"] == {"created": 2}
    services = {s["login"]: s for s in api.get("/services")["items"]}
    assert services["ana.souza"]["status"] == "enabled" and services["ana.souza"]["due_day"] == 5
    assert services["bruno"]["status"] == "suspended_debt"  # blocked for debt, and the debt came along
    ixc = {
        "kind": "erp_csv",
        "preset": "ixc",
        "customers_csv": sample("ixc_cliente.csv"),
        "services_csv": sample("ixc_radusuarios.csv"),
        "charges_csv": sample("ixc_fn_areceber.csv"),
    }
    run = finished(api, api.post("/imports", ixc, expect=202))
    services = {s["login"]: s for s in api.get("/services", params={"limit": 50})["items"]}
    assert services["carlos"]["status"] == "suspended_debt" and services["carlos2"]["status"] == "enabled"
    assert services["carlos"]["customer_id"] == services["carlos2"]["customer_id"]
    # Carlos's CPF is Ana's (imported from the other ERP): his services join the customer who has
    # it, and the report says so.
    assert api.get(f"/customers/{services['carlos']['customer_id']}")["name"] == "Ana Souza"
    assert "has this CPF/CNPJ" in rows(run, "linked")["erp:501"]


def test_imports_need_their_permission_and_every_city(api: Any) -> None:
    body = {"kind": "freeradius", "url": "postgresql://nobody@127.0.0.1:1/none", "dry_run": True}
    ana = operator(api, "ana", permissions=["customers.read"])
    assert "imports.run" in ana.post("/imports", body, expect=403)["detail"]
    city = operator(api, "cidade", permissions=["imports.run"], cities=["Formiga"])
    assert "spans every city" in city.post("/imports", body, expect=403)["detail"]
    failed = api.post("/imports", body, expect=202)
    assert wait_for(lambda: api.get(f"/imports/{failed['id']}")["status"] == "failed", timeout=30)
    assert "reading the source failed" in api.get(f"/imports/{failed['id']}")["error"]
    assert "needs url" in api.post("/imports", {"kind": "freeradius"}, expect=422)["detail"]
    wrong = api.post("/imports", {"kind": "freeradius", "url": "http://example.com/x"}, expect=422)
    assert "must be postgresql://… or mysql://…" in wrong["detail"]
    assert api.get("/imports")["total"] == 1
