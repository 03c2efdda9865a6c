"""The admin API through HTTP, on SQLite and PostgreSQL: every workflow and its error paths."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from aaa.db.base import utcnow
from aaa.errors import Invalid
from aaa.subscribers.lifecycle import change_status
from aaa.subscribers.service import reenable_due
from aaa.tables.accounting import AcctSession, AuthLog, AuthResult
from aaa.tables.subscribers import Service
from aaa.vocabulary.subscribers import ServiceStatus
from tests.api_client import CNPJ, CPF, CPF2, CPF3, Api, fixed_subnet, person
from tests.dates import business_today

SUSPENDED = ServiceStatus.SUSPENDED_REQUEST

PLAN = {"name": "Fibra 100M", "price": "99.90", "download_kbps": 100_000, "upload_kbps": 50_000}


def setup_service(api: Api, *, login: str = "maria", document: str = CPF, **extra: Any) -> dict[str, Any]:
    plans = api.get("/plans")["items"]
    plan = plans[0] if plans else api.post("/plans", PLAN, expect=201)
    customer = api.post("/customers", person(document), expect=201)
    body = {"customer_id": customer["id"], "plan_id": plan["id"], "login": login, **extra}
    return api.post("/services", body, expect=201)


def operator(api: Api, login: str, *, password: str = "operator-pass", **fields: Any) -> Api:
    api.post(
        "/operators", {"login": login, "name": login.title(), "password": password, **fields}, expect=201
    )
    return api.login(login, password)


def fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


# --- authentication and permissions ------------------------------------------------------------


PUBLIC = {
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/hooks/payments"),  # signed by the gateway instead
    ("post", "/api/v1/hooks/asaas"),  # the provider's own token instead
    ("post", "/api/v1/hooks/efi"),  # the secret in the registered URL instead
    ("get", "/health"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
}
NO_PERMISSION = {"/api/v1/auth/logout", "/api/v1/auth/me", "/api/v1/auth/password", "/api/v1/permissions"}


def operations(api: Api) -> list[tuple[str, str]]:
    spec = api.client.app.openapi()  # type: ignore[attr-defined]
    return [(method, path) for path, item in spec["paths"].items() for method in item]


def test_every_operation_but_health_metrics_and_login_needs_a_token(api: Api) -> None:
    anonymous = api.as_token(None)
    checked = 0
    for method, path in operations(api):
        response = api.client.request(method.upper(), fill(path), json={})
        if (method, path) in PUBLIC:
            assert response.status_code != 401, path
            continue
        assert response.status_code == 401, (method, path, response.status_code)
        assert response.headers["content-type"] == "application/problem+json"
        assert "Bearer" in response.headers["www-authenticate"]
        checked += 1
    assert checked > 40
    assert anonymous.get("/customers", expect=401)["detail"].startswith("send 'Authorization: Bearer")
    bad = api.as_token("aaa_not-a-real-token").get("/customers", expect=401)
    assert "not valid" in bad["detail"]


def test_every_operation_checks_its_permission(api: Api) -> None:
    nobody = operator(api, "nobody")
    for method, path in operations(api):
        if (method, path) in PUBLIC or path in NO_PERMISSION or path.startswith("/api/v1/auth/logout"):
            continue
        response = nobody.client.request(
            method.upper(), fill(path), json={}, headers={"Authorization": f"Bearer {nobody.token}"}
        )
        assert response.status_code == 403, (method, path, response.status_code, response.text)
        assert "needs the permission" in response.json()["detail"]


def test_login_logout_inactivate_and_disconnect(api: Api) -> None:
    assert api.as_token(None).post("/auth/login", {"login": "admin", "password": "wrong"}, expect=401)
    assert api.as_token(None).post("/auth/login", {"login": "ghost", "password": "x"}, expect=401)[
        "detail"
    ] == ("wrong login or password")
    ana = operator(api, "ana", permissions=["customers.read"])
    me = ana.get("/auth/me")
    assert me["login"] == "ana" and me["effective_permissions"] == ["customers.read"]
    ana.post("/auth/logout", expect=204)
    ana.get("/customers", expect=401)

    ana = api.login("ana", "operator-pass")
    second = api.login("ana", "operator-pass")
    api.post(f"/operators/{me['id']}/disconnect", expect=204)  # Desconectar
    ana.get("/customers", expect=401)
    second.get("/customers", expect=401)

    ana = api.login("ana", "operator-pass")
    api.post(f"/operators/{me['id']}/deactivate", expect=200)  # Inativar
    ana.get("/customers", expect=401)
    refused = api.as_token(None).post(
        "/auth/login", {"login": "ana", "password": "operator-pass"}, expect=401
    )
    assert "inactive" in refused["detail"]
    assert [o["login"] for o in api.get("/operators?active=false")["items"]] == ["ana"]
    api.post(f"/operators/{me['id']}/activate", expect=200)
    api.login("ana", "operator-pass").get("/customers", expect=200)


def test_roles_permissions_and_cloning(api: Api) -> None:
    role = api.post(
        "/roles", {"name": "support", "permissions": ["customers.read", "services.read"]}, expect=201
    )
    assert api.post("/roles", {"name": "bad", "permissions": ["customers.fly"]}, expect=422)[
        "detail"
    ].startswith("unknown permission(s): customers.fly")
    bia = operator(api, "bia", roles=[role["id"]])
    bia.get("/customers", expect=200)
    denied = bia.post("/customers", person(), expect=403)
    assert denied["detail"] == "this action needs the permission 'customers.write', which operator bia lacks"

    # Permission changes take effect on the next request, without logging in again.
    api.patch("/roles/" + str(role["id"]), {"permissions": ["customers.read", "customers.write"]})
    bia.post("/customers", person(), expect=201)

    caio = operator(api, "caio", permissions=["nas.read"])
    admin_id = api.get("/auth/me")["id"]
    cloned = api.post(
        f"/operators/{bia.get('/auth/me')['id']}/clone-permissions", {"from_operator_id": admin_id}
    )
    assert cloned["permissions"] == [] and cloned["roles"] == []  # admin has no explicit ones: bia loses hers
    bia.get("/customers", expect=403)
    caio_id = caio.get("/auth/me")["id"]
    api.post(f"/operators/{caio_id}/clone-permissions", {"from_operator_id": caio_id}, expect=422)
    api.post("/operators", {"login": "caio", "name": "C", "password": "another-pass"}, expect=409)
    box = api.post("/cash-boxes", {"name": "Loja centro"}, expect=201)
    updated = api.patch(f"/operators/{caio_id}", {"cash_boxes": [box["id"]], "cities": ["Formiga"]})
    assert updated["cash_boxes"] == [box["id"]] and updated["cities"] == ["Formiga"]
    api.patch(f"/operators/{caio_id}", {"cash_boxes": [999]}, expect=404)
    names = {p["name"] for p in api.get("/permissions")["items"]}
    assert {
        "customers.write",
        "services.suspend",
        "finance.receive",
        "finance.reverse",
        "ipam.assign",
    } <= names


def test_api_keys_are_scoped_and_revocable(api: Api) -> None:
    key = api.post("/api-keys", {"name": "erp", "scopes": ["customers.read"]}, expect=201)
    erp = api.as_token(key["token"])
    erp.get("/customers", expect=200)
    assert "API key 'erp'" in erp.post("/customers", person(), expect=403)["detail"]
    assert api.get("/api-keys")["items"][0]["token"] is None  # shown once only

    limited = operator(api, "dani", permissions=["customers.read", "operators.admin"])
    refused = limited.post("/api-keys", {"name": "x", "scopes": ["customers.write"]}, expect=403)
    assert "lacks: customers.write" in refused["detail"]
    api.call("DELETE", f"/api-keys/{key['id']}", 204)
    erp.get("/customers", expect=401)

    dani_key = limited.post("/api-keys", {"name": "d", "scopes": ["customers.read"]}, expect=201)
    api.post(f"/operators/{limited.get('/auth/me')['id']}/deactivate")
    api.as_token(dani_key["token"]).get("/customers", expect=401)  # an inactive owner's keys stop too


# --- customers ------------------------------------------------------------------------------------


def test_customer_documents_and_validation(api: Api) -> None:
    first = api.post("/customers", person(), expect=201)
    assert first["document"] == "52998224725"
    assert {a["kind"] for a in first["addresses"]} == {"registration", "billing"}  # billing defaults to it
    duplicate = api.post("/customers", person("52998224725"), expect=409)
    assert duplicate["detail"] == f"CPF/CNPJ already registered for customer {first['id']}"
    assert (
        "CPF '123.456.789-00' is invalid"
        in api.post("/customers", person("123.456.789-00"), expect=422)["detail"]
    )
    company = {**person(CNPJ), "kind": "company", "name": "Padaria Pão Quente LTDA", "birth_date": None}
    assert api.post("/customers", company, expect=201)["kind"] == "company"
    bad_cnpj = {**company, "document": "11.222.333/0001-82"}
    assert "CNPJ" in api.post("/customers", bad_cnpj, expect=422)["detail"]
    no_birth = api.post("/customers", {**person(CPF2), "birth_date": None}, expect=422)
    assert "birth_date" in no_birth["detail"]
    assert "phone" in api.post("/customers", {**person(CPF2), "phones": []}, expect=422)["detail"]
    assert "typo" in api.post("/customers", {**person(CPF2), "typo": 1}, expect=422)["detail"]
    bad_cep = person(CPF2)
    bad_cep["addresses"]["registration"]["cep"] = "123"
    assert "CEP" in api.post("/customers", bad_cep, expect=422)["detail"]

    patched = api.patch(f"/customers/{first['id']}", {"notes": "prefers WhatsApp", "group_name": "Centro"})
    assert patched["notes"] == "prefers WhatsApp"
    api.patch(f"/customers/{first['id']}", {"document": CNPJ}, expect=422)  # a CNPJ for a person
    api.put(
        f"/customers/{first['id']}/addresses/fiscal", {"street": "Rua B", "city": "Formiga", "state": "mg"}
    )
    assert len(api.get(f"/customers/{first['id']}")["addresses"]) == 3

    page = api.get("/customers?search=padaria")
    assert page["total"] == 1 and page["items"][0]["kind"] == "company"
    assert api.get("/customers?search=529982")["total"] == 1
    assert api.get("/customers?limit=1&offset=1")["items"][0]["kind"] == "company"
    api.get("/customers?limit=0", expect=422)
    api.get("/customers/999", expect=404)


def test_operators_limited_to_cities_see_only_their_customers(api: Api) -> None:
    here = setup_service(api, login="formiga-1")
    api.post("/customers", person(CPF2, city="Arcos"), expect=201)
    arcos_service = setup_service(api, login="arcos-1", document=CPF3)
    api.patch(f"/customers/{arcos_service['customer_id']}", {"notes": "x"})
    api.put(
        f"/customers/{arcos_service['customer_id']}/addresses/registration",
        {"street": "Rua C", "city": "Arcos", "state": "MG"},
    )
    local = operator(
        api, "eva", cities=["formiga"], permissions=["customers.read", "customers.write", "services.read"]
    )
    customers = local.get("/customers")
    assert [c["id"] for c in customers["items"]] == [here["customer_id"]] and customers["total"] == 1
    local.get(f"/customers/{arcos_service['customer_id']}", expect=404)
    local.get(f"/services/{arcos_service['id']}", expect=404)
    assert [s["login"] for s in local.get("/services")["items"]] == ["formiga-1"]
    refused = local.post("/customers", person("714.602.380-01", city="Arcos"), expect=422)
    assert "your cities" in refused["detail"]
    assert api.get("/customers")["total"] == 3


# --- plans and NAS ------------------------------------------------------------------------------


def test_plans_clone_and_mass_change(api: Api) -> None:
    old = api.post("/plans", {**PLAN, "technology": "fiber"}, expect=201)
    assert old["price"] == "99.90"
    api.post("/plans", PLAN, expect=409)
    api.post("/plans", {**PLAN, "name": "x", "burst_download_kbps": 1000}, expect=422)
    new = api.post(f"/plans/{old['id']}/clone", {"name": "Fibra 300M"}, expect=201)
    assert new["technology"] == "fiber" and new["download_kbps"] == 100_000
    new = api.patch(f"/plans/{new['id']}", {"download_kbps": 300_000, "price": "129.90"})
    a = setup_service(api, login="a")
    b = setup_service(api, login="b", document=CPF2)
    c = setup_service(api, login="c", document=CPF3)
    api.post(f"/services/{c['id']}/suspend", {"status": "blocked_manual", "reason": "fraud check"})

    kept = api.post(
        f"/plans/{old['id']}/mass-change",
        {
            "target_plan_id": new["id"],
            "change_price": False,
            "statuses": ["enabled"],
            "service_ids": [a["id"]],
        },
    )
    assert kept["changed"] == [a["id"]]
    assert api.get(f"/services/{a['id']}")["price"] == "99.90"
    changed = api.post(f"/plans/{old['id']}/mass-change", {"target_plan_id": new["id"], "change_price": True})
    assert changed["changed"] == [b["id"], c["id"]]
    assert api.get(f"/services/{b['id']}")["price"] == "129.90"
    notes = [e["note"] for e in api.get(f"/services/{a['id']}/history")["items"] if e["note"]]
    assert notes == ["mass plan change from Fibra 100M to Fibra 300M (price kept)"]
    entry = next(e for e in api.get(f"/services/{b['id']}/history")["items"] if e["action"] == "updated")
    assert entry["changes"]["plan_id"] == [old["id"], new["id"]]
    assert entry["changes"]["price"] == ["99.90", "129.90"]
    api.post(
        f"/plans/{old['id']}/mass-change", {"target_plan_id": old["id"], "change_price": True}, expect=422
    )


def test_nas_crud_and_secret_rotation(api: Api) -> None:
    nas = api.post("/nas", {"name": "bng-1", "address": "10.0.0.1"}, expect=201)
    assert len(nas["secret"]) >= 24 and nas["coa_port"] == 3799
    assert api.get(f"/nas/{nas['id']}")["secret"] is None
    api.post("/nas", {"name": "bng-2", "address": "10.0.0.1"}, expect=409)
    api.post("/nas", {"name": "bng-2", "address": "10.0.0.1/24"}, expect=422)
    assert api.patch(f"/nas/{nas['id']}", {"interim_interval": 300})["interim_interval"] == 300
    rotated = api.post(f"/nas/{nas['id']}/rotate-secret", {"secret": "a-new-secret-of-length"})
    assert rotated["secret"] == "a-new-secret-of-length"
    generated = api.post(f"/nas/{nas['id']}/rotate-secret", {})
    assert generated["secret"] != rotated["secret"]
    history = api.get(f"/audit?entity=nas&entity_id={nas['id']}")["items"]
    assert {"secret": ["***", "***"]} in [e["changes"] for e in history]  # audited, never revealed
    api.call("DELETE", f"/nas/{nas['id']}", 204)
    api.get(f"/nas/{nas['id']}", expect=404)


def test_a_nas_with_history_cannot_be_deleted(api: Api, factory: sessionmaker[Session]) -> None:
    """Neither acct_session nor auth_log has a foreign key to its NAS (migrations 0022, 0023):
    the refusal to delete a NAS that has sessions or authentications is what keeps them whole."""
    now = utcnow()
    for row in (
        lambda nas_id: AcctSession(
            nas_id=nas_id, acct_session_id="s1", login="maria", start_time=now, last_update=now
        ),
        lambda nas_id: AuthLog(
            time=now, nas_id=nas_id, login="maria", method="pap", result=AuthResult.ACCEPT, reason=""
        ),
    ):
        nas = api.post("/nas", {"name": "bng-h", "address": "10.0.0.9"}, expect=201)
        with factory.begin() as session:
            session.add(row(nas["id"]))
        refused = api.call("DELETE", f"/nas/{nas['id']}", 409)
        assert "cannot be deleted" in str(refused)
        assert api.get(f"/nas/{nas['id']}")["name"] == "bng-h"
        with factory.begin() as session:  # the history gone, the NAS may go
            session.execute(text("DELETE FROM acct_session WHERE login = 'maria'"))
            session.execute(text("DELETE FROM auth_log WHERE login = 'maria'"))
        api.call("DELETE", f"/nas/{nas['id']}", 204)


# --- services ---------------------------------------------------------------------------------


def test_service_creation_edit_and_password(api: Api) -> None:
    fixed_subnet(api)
    boleto = api.post("/billing-methods", {"name": "boleto"}, expect=201)
    service = setup_service(api, due_day=10, billing_method_id=boleto["id"], fixed_ipv4="100.64.0.10")
    assert service["billing_method_id"] == boleto["id"] and service["auto_block"] is True
    assert len(service["password"]) == 10 and service["status"] == "enabled" and service["price"] == "99.90"
    assert api.get(f"/services/{service['id']}")["password"] is None
    second = api.post(
        "/services",
        {
            "customer_id": service["customer_id"],
            "plan_id": service["plan_id"],
            "login": "maria2",
            "password": "given",
            "status": "pending_install",
            "installation_address": {"street": "Sítio", "city": "Formiga", "state": "MG"},
        },
        expect=201,
    )
    assert second["status"] == "pending_install" and second["password"] == "given"
    duplicate = api.post(
        "/services",
        {"customer_id": service["customer_id"], "plan_id": service["plan_id"], "login": "maria"},
        expect=409,
    )
    assert duplicate["detail"] == f"login 'maria' is already used by service {service['id']}"
    api.patch(f"/services/{second['id']}", {"fixed_ipv4": "100.64.0.10"}, expect=409)
    api.patch(f"/services/{second['id']}", {"mac": "not-a-mac"}, expect=422)
    api.patch(f"/services/{second['id']}", {"due_day": 31}, expect=422)
    edited = api.patch(f"/services/{service['id']}", {"mac": "aa-bb-cc-dd-ee-ff", "mac_binding": "enforce"})
    assert edited["mac"] == "AA:BB:CC:DD:EE:FF"
    changed = api.post(f"/services/{service['id']}/password", {})
    assert changed["password"] not in (service["password"], None)
    entry = api.get(f"/services/{service['id']}/history")["items"][0]
    assert entry["changes"] == {"password": ["***", "***"]}
    assert api.get(f"/services?customer_id={service['customer_id']}")["total"] == 2
    assert api.get("/services?status=pending_install")["items"][0]["login"] == "maria2"


def test_a_reenable_date_is_checked_against_the_isps_today(api: Api, factory: sessionmaker[Session]) -> None:
    """At 21:00 in São Paulo on the 4th it is already the 5th in UTC: "until the 5th" is still
    tomorrow for the ISP. The caller gives the ISP's today; without it the check refuses to guess."""
    sid = setup_service(api)["id"]
    fifth = date(2026, 12, 5)
    with factory.begin() as session:
        service = session.get(Service, sid)
        assert service is not None
        with pytest.raises(TypeError, match="pass today"):
            change_status(session, service, SUSPENDED, reason="viagem", reenable_on=fifth)
        with pytest.raises(Invalid, match="must be in the future"):
            change_status(session, service, SUSPENDED, reason="viagem", reenable_on=fifth, today=fifth)
        change_status(
            session, service, SUSPENDED, reason="viagem", reenable_on=fifth, today=date(2026, 12, 4)
        )
        assert service.status is SUSPENDED and service.reenable_on == fifth


def test_status_transitions(api: Api, factory: sessionmaker[Session]) -> None:
    service = setup_service(api)
    sid = service["id"]
    api.post(f"/services/{sid}/enable", {"reason": "again"}, expect=409)
    tomorrow = (business_today() + timedelta(days=1)).isoformat()
    suspended = api.post(
        f"/services/{sid}/suspend",
        {"status": "suspended_request", "reason": "travelling", "reenable_on": tomorrow},
    )
    assert suspended["status"] == "suspended_request" and suspended["reenable_on"] == tomorrow
    past = api.post(
        f"/services/{sid}/suspend",
        {"status": "blocked_manual", "reason": "x", "reenable_on": tomorrow},
        expect=422,
    )
    assert "only for a suspension on the customer's request" in past["detail"]
    api.post(f"/services/{sid}/suspend", {"status": "suspended_debt", "reason": "x"}, expect=422)
    api.post(f"/services/{sid}/suspend", {"status": "blocked_manual", "reason": ""}, expect=422)

    with factory.begin() as session:  # the housekeeping job's re-enable
        assert reenable_due(session, business_today()) == []
        assert reenable_due(session, business_today() + timedelta(days=1)) == [sid]
    assert api.get(f"/services/{sid}")["status"] == "enabled"

    cancelled = api.post(f"/services/{sid}/cancel", {"reason": "moved away"})
    assert (
        cancelled["status"] == "cancelled"
        and cancelled["login"] is None
        and cancelled["former_login"] == "maria"
    )
    refused = api.post(f"/services/{sid}/enable", {"reason": "oops"}, expect=409)
    assert refused["detail"] == "the service is cancelled, which is final; create a new service instead"
    api.patch(f"/services/{sid}", {"due_day": 5}, expect=409)
    # the login is free again
    api.post(
        "/services",
        {"customer_id": service["customer_id"], "plan_id": service["plan_id"], "login": "maria"},
        expect=201,
    )
    statuses = [e["changes"].get("status") for e in api.get(f"/services/{sid}/history")["items"]]
    assert ["enabled", "cancelled"] in statuses and ["suspended_request", "enabled"] in statuses


def test_immediate_migration_moves_the_authentication(api: Api) -> None:
    fixed_subnet(api)
    old = setup_service(api, fixed_ipv4="100.64.0.20", mac="AA:BB:CC:00:00:01", mac_binding="enforce")
    faster = api.post(
        "/plans", {**PLAN, "name": "Fibra 500M", "download_kbps": 500_000, "price": "149.90"}, expect=201
    )
    api.post(
        f"/services/{old['id']}/migrate",
        {"plan_id": old["plan_id"], "immediate": True, "reason": "x"},
        expect=422,
    )
    new = api.post(
        f"/services/{old['id']}/migrate",
        {"plan_id": faster["id"], "immediate": True, "reason": "upgrade"},
        expect=201,
    )
    assert new["status"] == "enabled" and new["login"] == "maria" and new["fixed_ipv4"] == "100.64.0.20"
    assert (
        new["mac"] == "AA:BB:CC:00:00:01"
        and new["price"] == "149.90"
        and new["migrated_from_id"] == old["id"]
    )
    retired = api.get(f"/services/{old['id']}")
    assert retired["status"] == "cancelled" and retired["login"] is None and retired["fixed_ipv4"] is None
    actions = [e["action"] for e in api.get(f"/services/{new['id']}/history")["items"]]
    assert "migration_started" in actions and "migration_completed" in actions


def test_non_immediate_migration_waits_until_enabled(api: Api) -> None:
    fixed_subnet(api)
    old = setup_service(api, fixed_ipv4="100.64.0.21")
    radio = api.post("/plans", {**PLAN, "name": "Rádio 20M", "download_kbps": 20_000}, expect=201)
    new = api.post(
        f"/services/{old['id']}/migrate",
        {"plan_id": radio["id"], "immediate": False, "reason": "radio to fiber"},
        expect=201,
    )
    assert new["status"] == "awaiting_migration" and new["login"] is None
    assert api.get(f"/services/{old['id']}")["status"] == "enabled"  # still browsing until the visit
    again = api.post(
        f"/services/{old['id']}/migrate",
        {"plan_id": radio["id"], "immediate": False, "reason": "x"},
        expect=409,
    )
    assert "already has a migration waiting" in again["detail"]
    api.patch(f"/services/{old['id']}", {"mac": "AA:BB:CC:00:00:09"})  # edited while waiting: carried
    done = api.post(f"/services/{new['id']}/enable", {"reason": "technician installed the radio"})
    assert done["status"] == "enabled" and done["login"] == "maria" and done["fixed_ipv4"] == "100.64.0.21"
    assert done["mac"] == "AA:BB:CC:00:00:09"
    assert api.get(f"/services/{old['id']}")["status"] == "cancelled"


def test_ownership_transfer_to_existing_and_new_customer(api: Api) -> None:
    service = setup_service(api)
    other = api.post("/customers", person(CPF2), expect=201)
    moved = api.post(
        f"/services/{service['id']}/transfer", {"customer_id": other["id"], "reason": "sold house"}
    )
    assert moved["customer_id"] == other["id"] and moved["login"] == "maria"
    for customer_id, word in ((service["customer_id"], "transferred to"), (other["id"], "received from")):
        notes = [e["note"] or "" for e in api.get(f"/customers/{customer_id}/history")["items"]]
        assert any(word in note and "sold house" in note for note in notes), notes
    fresh = api.post(f"/services/{service['id']}/transfer", {"new_customer": person(CPF3), "reason": "heir"})
    assert fresh["customer_id"] not in (service["customer_id"], other["id"])
    api.post(f"/services/{service['id']}/transfer", {"reason": "x"}, expect=422)
    api.post(
        f"/services/{service['id']}/transfer",
        {"customer_id": fresh["customer_id"], "reason": "x"},
        expect=422,
    )
    failed = api.post(
        f"/services/{service['id']}/transfer", {"new_customer": person(CPF), "reason": "x"}, expect=409
    )
    assert "already registered" in failed["detail"]


def test_service_addresses_update_all(api: Api) -> None:
    service = setup_service(api)
    address = {"street": "Rua Nova", "number": "99", "city": "Formiga", "state": "MG", "cep": "35570-001"}
    api.put(
        f"/services/{service['id']}/addresses",
        {"kinds": ["installation", "registration", "billing", "fiscal"], "address": address},
    )
    customer = api.get(f"/customers/{service['customer_id']}")
    assert {a["kind"]: a["street"] for a in customer["addresses"]}["registration"] == "Rua Nova"
    history = api.get(f"/services/{service['id']}/history")["items"]
    kinds = {e["changes"].get("kind", [None, None])[1] for e in history if e["entity"] == "address"}
    assert {"installation", "billing", "fiscal"} <= kinds
    api.put(f"/services/{service['id']}/addresses", {"kinds": [], "address": address}, expect=422)


def test_diagnostics_panel(api: Api, factory: sessionmaker[Session]) -> None:
    service = setup_service(api, mac="AA:BB:CC:00:00:01", mac_binding="enforce")
    nas = api.post("/nas", {"name": "bng", "address": "127.0.0.1"}, expect=201)
    now = utcnow()
    with factory.begin() as session:
        session.add(
            AuthLog(
                time=now,
                nas_id=nas["id"],
                login="maria",
                service_id=service["id"],
                method="pap",
                mac="AA:BB:CC:00:00:02",
                result=AuthResult.REJECT,
                reason="MAC differs",
                mac_differs=True,
            )
        )
        session.add(
            AcctSession(
                nas_id=nas["id"],
                acct_session_id="s1",
                login="maria",
                service_id=service["id"],
                framed_ip="100.64.1.1",
                start_time=now - timedelta(hours=2),
                last_update=now,
                input_octets=10,
                output_octets=20,
            )
        )
    found = api.get(f"/services/{service['id']}/diagnostics")
    assert found["status"] == "enabled"
    assert found["next_login"]["outcome"] == "accept"
    assert found["next_login"]["attributes"]["Mikrotik-Rate-Limit"] == "50M/100M"
    assert found["online"][0]["framed_ip"] == "100.64.1.1" and found["history"] == []
    auth = found["authentications"][0]
    assert auth["result"] == "reject" and auth["mac_differs"] is True and auth["reason"] == "MAC differs"
    api.post(f"/services/{service['id']}/suspend", {"status": "blocked_manual", "reason": "x"})
    blocked = api.get(f"/services/{service['id']}/diagnostics")["next_login"]
    assert blocked["outcome"] == "reject" and blocked["reasons"][0] == "status blocked_manual"


# --- audit log ------------------------------------------------------------------------------------


def test_audit_records_who_when_where_and_what(api: Api, factory: sessionmaker[Session]) -> None:
    started = utcnow()
    service = setup_service(api)
    api.patch(f"/services/{service['id']}", {"simultaneous_use": 2})
    entry = api.get(f"/services/{service['id']}/history")["items"][0]
    admin_id = api.get("/auth/me")["id"]
    assert entry["actor"] == "operator:admin" and entry["operator_id"] == admin_id
    assert entry["source"] == "203.0.113.7"
    assert entry["changes"] == {"simultaneous_use": [1, 2]} and entry["action"] == "updated"
    assert entry["at"] >= started.isoformat().replace("+00:00", "Z")[:19]
    created = api.get(f"/customers/{service['customer_id']}/history")["items"][-1]
    assert created["entity"] == "customer" and created["changes"]["document"] == [None, "52998224725"]
    assert api.get("/audit?entity=plan")["total"] == 1
    # Append-only in the database itself, whatever the code path.
    with pytest.raises(DBAPIError, match="append-only"), factory.begin() as session:
        session.execute(text("UPDATE audit_entry SET actor = 'someone else'"))
    others = [e for e in api.get("/audit?limit=500")["items"] if e["operator_id"] != admin_id]
    assert [(e["actor"], e["entity"], e["action"]) for e in others] == [("system", "operator", "created")]
    login = api.get("/audit?entity=api_token")["items"][-1]
    assert login["actor"] == "operator:admin" and login["changes"]["kind"] == [None, "session"]


def test_docs_render_offline(api: Api) -> None:
    page = api.client.get("/api/v1/docs")
    assert page.status_code == 200
    assets = re.findall(r"""(?:src|href)=["']?([^"' >]+)""", page.text) + re.findall(
        r"url: '([^']+)'", page.text
    )
    assert not [a for a in assets if a.startswith("http")], assets
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
        assert api.client.get(f"/api/v1/static/{asset}").status_code == 200
    assert "redoc.standalone.js" in api.client.get("/api/v1/redoc").text
    assert api.client.get("/health").json() == {"status": "ok"}
    assert api.client.get("/api/v1/openapi.json").json()["info"]["title"] == "isp-aaa admin API"


def test_diagnostics_keep_a_reused_logins_history_apart(api: Api, factory: sessionmaker[Session]) -> None:
    nas = api.post("/nas", {"name": "bng", "address": "127.0.0.1"}, expect=201)

    def auth(service_id: int, reason: str) -> None:
        with factory.begin() as session:
            session.add(
                AuthLog(
                    time=utcnow(),
                    nas_id=nas["id"],
                    login="maria",
                    service_id=service_id,
                    method="pap",
                    result=AuthResult.REJECT,
                    reason=reason,
                )
            )

    first = setup_service(api)
    auth(first["id"], "first holder")
    api.post(f"/services/{first['id']}/cancel", {"reason": "moved away"})
    second = api.post(
        "/services",
        {"customer_id": first["customer_id"], "plan_id": first["plan_id"], "login": "maria"},
        expect=201,
    )
    auth(second["id"], "second holder")
    reasons = [a["reason"] for a in api.get(f"/services/{second['id']}/diagnostics")["authentications"]]
    assert reasons == ["second holder"]
    faster = api.post("/plans", {**PLAN, "name": "Fibra 1G"}, expect=201)
    third = api.post(
        f"/services/{second['id']}/migrate",
        {"plan_id": faster["id"], "immediate": True, "reason": "upgrade"},
        expect=201,
    )
    auth(third["id"], "after migration")
    reasons = [a["reason"] for a in api.get(f"/services/{third['id']}/diagnostics")["authentications"]]
    assert reasons == ["after migration", "second holder"]  # a migration keeps the history


def test_roles_are_given_by_name_or_id(api: Api) -> None:
    role = api.post("/roles", {"name": "Atendimento", "permissions": ["customers.read"]}, expect=201)
    by_name = api.post(
        "/operators",
        {"login": "ana", "name": "Ana", "password": "operator-pass-123", "roles": ["Atendimento"]},
        expect=201,
    )
    assert by_name["roles"] == [role["id"]]
    patched = api.patch(f"/operators/{by_name['id']}", {"roles": [role["id"]]})
    assert patched["roles"] == [role["id"]]
    detail = api.patch(f"/operators/{by_name['id']}", {"roles": ["Financeiro"]}, expect=404)["detail"]
    assert "role 'Financeiro' does not exist" in detail
