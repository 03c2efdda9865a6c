"""Live state follows an operator's change, through the HTTP API on SQLite and PostgreSQL: a mass
plan change, a plan change in place (with the "lower plan" permission) and the manual reduced
state reach the online session by CoA (seen by the CoA responder fake) and the next login's
answer (the diagnostics' decision)."""

from __future__ import annotations

from typing import Any

from pyrad import packet
from sqlalchemy.orm import Session, sessionmaker

from aaa.subscribers.lifecycle import change_status
from aaa.tables.subscribers import Service
from aaa.vocabulary.subscribers import ServiceStatus
from tests import radius_client as rc
from tests.api_client import CPF, person
from tests.conftest import SECRET, RunningWorker, wait_for
from tests.fakes.coa_responder import CoaResponder
from tests.integration.test_api import setup_service
from tests.integration.test_enforcement import add_nas, enforce, go_online, settings_for
from tests.integration.test_invoicing import factory_of

FIBRA = {"name": "Fibra 300M", "price": "99.90", "download_kbps": 300_000, "upload_kbps": 150_000}
GIGA = {"name": "Giga 1G", "price": "199.90", "download_kbps": 1_000_000, "upload_kbps": 500_000}
PASSWORD = "operator-password-1"


def online(
    api: Any, factory: sessionmaker[Session], responder: CoaResponder
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """maria on Fibra 300M, online with the rate her Access-Accept gave; Giga 1G beside it."""
    nas_id = add_nas(factory, responder)
    fibra = api.post("/plans", FIBRA, expect=201)
    giga = api.post("/plans", GIGA, expect=201)
    customer = api.post("/customers", person(CPF), expect=201)["id"]
    maria = api.post(
        "/services", {"customer_id": customer, "plan_id": fibra["id"], "login": "maria"}, expect=201
    )
    granted = {"rate": "150M/300M", "address_list": None, "addresses": []}
    go_online(factory, "maria", nas_id, "81a00001", "100.64.0.7", responder, granted=granted)
    return maria, fibra, giga


def rate_now(api: Any, service_id: int) -> str:
    return str(
        api.get(f"/services/{service_id}/diagnostics")["next_login"]["attributes"]["Mikrotik-Rate-Limit"]
    )


def test_a_mass_plan_change_reaches_online_subscribers(
    api: Any, db_url: str, factory: sessionmaker[Session]
) -> None:
    with CoaResponder(SECRET) as responder:
        maria, fibra, giga = online(api, factory, responder)
        changed = api.post(
            f"/plans/{fibra['id']}/mass-change", {"target_plan_id": giga["id"], "change_price": True}
        )
        assert changed["changed"] == [maria["id"]]
        enforce(settings_for(db_url), factory)
        coa = responder.received[-1]
        assert coa.code == packet.CoARequest and coa.first("Mikrotik-Rate-Limit") == "500M/1000M"
    assert rate_now(api, maria["id"]) == "500M/1000M"


def test_a_plan_change_in_place_keeps_the_service_and_reaches_the_session(
    api: Any, db_url: str, factory: sessionmaker[Session]
) -> None:
    with CoaResponder(SECRET) as responder:
        maria, fibra, giga = online(api, factory, responder)
        up = api.post(f"/services/{maria['id']}/plan", {"plan_id": giga["id"], "reason": "upgrade pedido"})
        assert (up["id"], up["login"], up["plan_id"], up["price"]) == (
            maria["id"],
            "maria",
            giga["id"],
            "199.90",
        )
        enforce(settings_for(db_url), factory)
        assert responder.received[-1].first("Mikrotik-Rate-Limit") == "500M/1000M"
        history = api.get(f"/services/{maria['id']}/history")["items"]
        assert any(
            h["action"] == "plan_changed" and "Fibra 300M → Giga 1G" in (h["note"] or "") for h in history
        )
        # Down to a lower plan: its own permission.
        api.post(
            "/operators",
            {
                "login": "atendente",
                "name": "A",
                "password": PASSWORD,
                "permissions": ["services.migrate", "services.read"],
            },
            expect=201,
        )
        attendant = api.login("atendente", PASSWORD)
        detail = attendant.post(
            f"/services/{maria['id']}/plan", {"plan_id": fibra["id"], "reason": "downgrade"}, expect=403
        )["detail"]
        assert "services.plan_lower" in detail
        kept = api.post(
            f"/services/{maria['id']}/plan",
            {"plan_id": fibra["id"], "reason": "downgrade", "change_price": False},
        )
        assert kept["price"] == "199.90"
        enforce(settings_for(db_url), factory)
        assert responder.received[-1].first("Mikrotik-Rate-Limit") == "150M/300M"
    api.post(f"/services/{maria['id']}/plan", {"plan_id": fibra["id"], "reason": "again"}, expect=422)


def test_the_manual_reduced_state_reduces_and_no_routine_undoes_it(
    api: Any, db_url: str, factory: sessionmaker[Session]
) -> None:
    with CoaResponder(SECRET) as responder:
        maria, _fibra, _giga = online(api, factory, responder)
        reduced = api.post(
            f"/services/{maria['id']}/suspend", {"status": "reduced_manual", "reason": "uso abusivo"}
        )
        assert reduced["status"] == "reduced_manual"
        enforce(settings_for(db_url), factory)
        coa = responder.received[-1]
        assert coa.code == packet.CoARequest
        assert coa.first("Mikrotik-Rate-Limit") == rate_now(api, maria["id"]) != "150M/300M"
        next_login = api.get(f"/services/{maria['id']}/diagnostics")["next_login"]
        assert next_login["outcome"] == "accept" and any("reduced_manual" in r for r in next_login["reasons"])
        run = api.post("/routines/suspension", {"dry_run": False}, expect=201)
        assert run["changes"] == [] and run["counts"]["skipped_reduced_manual"] == 1
        assert api.get(f"/services/{maria['id']}")["status"] == "reduced_manual"
        api.post(f"/services/{maria['id']}/enable", {"reason": "normalizado"})
        enforce(settings_for(db_url), factory)
        assert responder.received[-1].first("Mikrotik-Rate-Limit") == "150M/300M"


def test_the_suspended_action_per_billing_method_and_per_nas(
    api: Any, worker: RunningWorker, factory: sessionmaker[Session]
) -> None:
    """The ISP rejects debtors (default); the "Boleto" method puts its debtors in the blocked
    address list instead; a NAS set to reject overrides the method for requests through it."""

    boleto = api.post("/billing-methods", {"name": "Boleto", "suspended_action": "address_list"}, expect=201)
    assert boleto["suspended_action"] == "address_list"
    listed = setup_service(api, login="lista", billing_method_id=boleto["id"], password="lista-pass")
    plain = setup_service(api, login="simples", document="12345678909", password="simples-pass")

    with factory_of(api).begin() as s:
        for service_id in (listed["id"], plain["id"]):
            service = s.get(Service, service_id)
            assert service is not None
            change_status(s, service, ServiceStatus.SUSPENDED_DEBT, reason="overdue")
    listed_next = api.get(f"/services/{listed['id']}/diagnostics")["next_login"]
    assert (
        listed_next["outcome"] == "accept" and listed_next["attributes"]["Mikrotik-Address-List"] == "blocked"
    )
    assert api.get(f"/services/{plain['id']}/diagnostics")["next_login"]["outcome"] == "reject"  # the ISP's

    nas = rc.client(worker.auth_port, worker.acct_port, SECRET)

    def reply(login: str, password: str) -> Any:
        return rc.send(nas, rc.pap(nas, login, password))

    assert wait_for(lambda: reply("lista", "lista-pass").code == packet.AccessAccept)
    nas_id = api.get("/nas")["items"][0]["id"]
    assert api.patch(f"/nas/{nas_id}", {"suspended_action": "reject"})["suspended_action"] == "reject"
    assert wait_for(lambda: reply("lista", "lista-pass").code == packet.AccessReject, timeout=5)
