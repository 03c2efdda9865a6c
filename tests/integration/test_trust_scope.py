"""City scope on every route that takes an id: a city-A operator holding every permission walks
the OpenAPI spec of a running API and aims each id-taking route (path, query, body) at city-B
objects. Each must read as absent (404) or, for what spans the whole ISP, be refused (403);
nothing of city B may show in what it can list."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from aaa.composition import session_factory
from aaa.db.engine import make_engine
from aaa.operators.permissions import PERMISSIONS
from aaa.tables.accounting import AcctSession, AuthLog, AuthResult
from tests.api_client import CPF, CPF2, CPF3, Http, admin_app, person, served
from tests.conftest import make_nas
from tests.integration.test_trust_api import PASSWORD

NOTIFY_SECRET = "gateway-secret-0123456789"
# Path parameters naming an object that belongs to one customer, hence to one city.
CITY_PARAMS = {
    "customer_id",
    "service_id",
    "charge_id",
    "invoice_id",
    "receipt_id",
    "notification_id",
    "session_id",
    "carne_id",
}
# Operations over the whole ISP: a city-limited operator is refused whatever the ids.
WHOLE_ISP = {
    ("post", "/api/v1/ipam/import"),
    ("post", "/api/v1/enforcement/reconcile"),
    ("post", "/api/v1/billing-runs"),
    ("get", "/api/v1/billing-runs"),
    ("post", "/api/v1/routines/suspension"),
    ("get", "/api/v1/routines/runs"),
    ("get", "/api/v1/webhooks"),
    ("post", "/api/v1/webhooks"),
    ("patch", "/api/v1/webhooks/{webhook_id}"),
    ("get", "/api/v1/webhooks/{webhook_id}/deliveries"),
    ("post", "/api/v1/radius/traces"),
    ("get", "/api/v1/radius/traces/{trace_id}"),
}
WHOLE_ISP_BODIES = {
    ("post", "/api/v1/ipam/import"): {"csv": "bruno,100.64.0.9"},
    ("post", "/api/v1/billing-runs"): {"competence": "2026-12-01"},
    ("post", "/api/v1/routines/suspension"): {"dry_run": True},
    ("post", "/api/v1/webhooks"): {
        "url": "http://192.0.2.10/hook",
        "secret": "0123456789abcdef",
        "events": ["*"],
    },
    ("patch", "/api/v1/webhooks/{webhook_id}"): {"active": False},
}
ADDRESS = {"street": "Rua B", "number": "2", "city": "Formiga", "state": "MG", "cep": "35570-000"}


def bodies(w: dict[str, Any]) -> dict[tuple[str, str], Any]:
    """A valid body for every operation that takes one and a city object in its path, so that
    what answers is the scope check, not the validation."""
    soon = "2027-01-10"
    return {
        ("patch", "/api/v1/customers/{customer_id}"): {"name": "Renamed"},
        ("put", "/api/v1/customers/{customer_id}/addresses/{kind}"): ADDRESS,
        ("patch", "/api/v1/services/{service_id}"): {"due_day": 5},
        ("post", "/api/v1/services/{service_id}/password"): {},
        ("post", "/api/v1/services/{service_id}/enable"): {"reason": "x"},
        ("post", "/api/v1/services/{service_id}/suspend"): {"status": "blocked_manual", "reason": "x"},
        ("post", "/api/v1/services/{service_id}/cancel"): {"reason": "x"},
        ("post", "/api/v1/services/{service_id}/migrate"): {
            "plan_id": w["plan"],
            "immediate": True,
            "reason": "x",
        },
        ("post", "/api/v1/services/{service_id}/transfer"): {"customer_id": w["customer_a"], "reason": "x"},
        ("put", "/api/v1/services/{service_id}/addresses"): {"kinds": ["installation"], "address": ADDRESS},
        ("post", "/api/v1/services/{service_id}/addresses"): {"subnet_id": w["subnet"]},
        ("put", "/api/v1/services/{service_id}/custom-speed"): {"download_kbps": 1000, "upload_kbps": 1000},
        ("put", "/api/v1/services/{service_id}/trial"): {"plan_id": w["plan"], "until": soon},
        ("post", "/api/v1/services/{service_id}/trust-unlock"): {"reason": "x", "until": "2026-12-04"},
        ("put", "/api/v1/services/{service_id}/bonus"): {"until": soon},
        ("put", "/api/v1/services/{service_id}/exempt"): {"exempt": True},
        ("post", "/api/v1/services/{service_id}/charges"): {
            "kind": "other",
            "due_date": soon,
            "amount": "10.00",
        },
        ("post", "/api/v1/charges/{charge_id}/cancel"): {"reason": "x"},
        ("post", "/api/v1/charges/{charge_id}/discount"): {"discount_amount": "1.00"},
        ("post", "/api/v1/receipts/{receipt_id}/reverse"): {"reason": "x"},
        ("post", "/api/v1/invoices/{invoice_id}/cancel"): {"reason": "x"},
        ("post", "/api/v1/invoices/{invoice_id}/reissue"): {"due_date": soon, "reason": "x"},
        ("post", "/api/v1/services/{service_id}/carnes"): {
            "first_due": soon,
            "installments": 2,
            "start": "2026-12-01",
        },
        ("post", "/api/v1/services/{service_id}/installation-fee"): {"amount": "100.00", "first_due": soon},
        ("post", "/api/v1/payment-notifications/{notification_id}/resolve"): {"action": "dismiss"},
        ("post", "/api/v1/services/{service_id}/disconnect"): {"reason": "x"},
        ("post", "/api/v1/services/{service_id}/plan"): {"plan_id": w["plan2"], "reason": "x"},
        ("post", "/api/v1/carnes/{carne_id}/cancel"): {"reason": "x"},
        ("post", "/api/v1/carnes/{carne_id}/charges"): {"charge_ids": [w["charge_b"]]},
        ("post", "/api/v1/sessions/{session_id}/disconnect"): {"reason": "x"},
    }


# Operations that take city objects in the body or the query, aimed at city B.
def body_attacks(w: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        ("post", "/api/v1/receipts"): {"json": {"charge_ids": [w["charge_b"]], "cash_box_id": w["box"]}},
        ("post", "/api/v1/invoices"): {
            "json": {
                "charge_ids": [w["charge_b"]],
                "billing_method_id": w["method"],
                "due_date": "2027-01-10",
            }
        },
        ("post", "/api/v1/services"): {
            "json": {"customer_id": w["customer_b"], "plan_id": w["plan"], "login": "intruso"}
        },
        ("get", "/api/v1/charges/quote"): {"params": {"ids": [w["charge_b"]]}},
        ("post", "/api/v1/plans/{plan_id}/mass-change"): {
            "path": {"plan_id": w["plan"]},
            "json": {"target_plan_id": w["plan2"], "change_price": False, "service_ids": [w["service_b"]]},
        },
        ("get", "/api/v1/sessions"): {"params": {"service_id": w["service_b"]}},
        ("get", "/api/v1/audit"): {"params": {"customer_id": w["customer_b"]}},
        ("get", "/api/v1/charges"): {"params": {"customer_id": w["customer_b"]}},
        ("get", "/api/v1/invoices"): {"params": {"service_id": w["service_b"]}},
        ("get", "/api/v1/receipts"): {"params": {"customer_id": w["customer_b"]}},
        ("get", "/api/v1/carnes"): {"params": {"service_id": w["service_b"]}},
    }


@pytest.fixture
def world(db_url: str) -> Iterator[tuple[Http, Http, dict[str, Any]]]:
    """Customers in Formiga (city A) and Arcos (city B), B with a service, charges, an invoice,
    a receipt, a payment notification and a fixed IP; an operator of Formiga with every
    permission."""
    with admin_app(db_url, billing={"notification_secret": NOTIFY_SECRET}) as app, served(app) as base:
        admin = Http(base).login("admin", "admin-password-1")
        w: dict[str, Any] = {}
        plan = {"price": "99.90", "download_kbps": 100_000, "upload_kbps": 50_000}
        w["plan"] = admin.post("/plans", {"name": "Fibra", **plan}, expect=201)["id"]
        w["plan2"] = admin.post("/plans", {"name": "Fibra 2", **plan}, expect=201)["id"]
        w["customer_a"] = admin.post("/customers", person(CPF, city="Formiga"), expect=201)["id"]
        w["customer_b"] = admin.post("/customers", person(CPF2, city="Arcos"), expect=201)["id"]
        service = {"plan_id": w["plan"], "password": "secret-pass"}
        w["service_a"] = admin.post(
            "/services", {"customer_id": w["customer_a"], "login": "ana", **service}, expect=201
        )["id"]
        w["service_b"] = admin.post(
            "/services", {"customer_id": w["customer_b"], "login": "bruno", **service}, expect=201
        )["id"]
        method = {"name": "Boleto"}
        w["method"] = admin.post("/billing-methods", method, expect=201)["id"]
        w["box"] = admin.post("/cash-boxes", {"name": "Caixa"}, expect=201)["id"]
        charge = {"kind": "other", "due_date": "2026-12-20", "amount": "50.00"}
        w["charge_b"] = admin.post(f"/services/{w['service_b']}/charges", charge, expect=201)["id"]
        paid = admin.post(f"/services/{w['service_b']}/charges", charge, expect=201)["id"]
        on_invoice = admin.post(f"/services/{w['service_b']}/charges", charge, expect=201)["id"]
        w["invoice_b"] = admin.post(
            "/invoices",
            {"charge_ids": [on_invoice], "billing_method_id": w["method"], "due_date": "2026-12-20"},
            expect=201,
        )["id"]
        w["receipt_b"] = admin.post("/receipts", {"charge_ids": [paid], "cash_box_id": w["box"]}, expect=201)[
            "id"
        ]
        body = json.dumps({"external_id": "gw-1", "invoice_id": w["invoice_b"], "amount": "1.00"}).encode()
        stamp = int(time.time())
        digest = hmac.new(NOTIFY_SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
        note = admin.client.post(
            "/hooks/payments",
            content=body,
            headers={"X-Signature": f"t={stamp},v1={digest}", "Content-Type": "application/json"},
        )
        assert note.status_code == 202, note.text  # flagged: the amount does not match
        w["notification_b"] = note.json()["id"]
        folder = admin.post("/ipam/folders", {"name": "Fixos"}, expect=201)["id"]
        w["subnet"] = admin.post(
            "/ipam/subnets", {"folder_id": folder, "cidr": "100.64.0.0/24", "purpose": "fixed"}, expect=201
        )["id"]
        held = admin.post(f"/services/{w['service_b']}/addresses", {"subnet_id": w["subnet"]}, expect=201)
        w["address_b"], w["assignment_b"] = held["address"], held["id"]
        admin.post(
            f"/services/{w['service_b']}/trust-unlock",
            {"reason": "promessa", "until": "2026-12-04"},
            expect=None,
        )
        operator = {
            "login": "formiga",
            "name": "Formiga",
            "password": PASSWORD,
            "permissions": sorted(PERMISSIONS),
            "cities": ["Formiga"],
            "cash_boxes": [w["box"]],
        }
        admin.post("/operators", operator, expect=201)
        w["session_b"] = online(db_url, "bruno", w["service_b"])
        w["carne_b"] = admin.post(
            f"/services/{w['service_b']}/carnes",
            {"first_due": "2027-02-10", "installments": 2, "start": "2026-12-01"},
            expect=201,
        )["id"]
        yield admin, admin.login("formiga", PASSWORD), w


def online(db_url: str, login: str, service_id: int) -> int:
    """An open session and an Access-Accept of ``login`` (what RADIUS would have written)."""
    engine = make_engine(db_url)
    try:
        with session_factory(engine).begin() as s:
            nas_id = make_nas(s, address="192.0.2.1")
            s.add(
                AuthLog(
                    nas_id=nas_id, login=login, service_id=service_id, method="pap", result=AuthResult.ACCEPT
                )
            )
            row = AcctSession(
                nas_id=nas_id,
                acct_session_id="b-1",
                login=login,
                service_id=service_id,
                framed_ip="100.64.0.9",
            )
            s.add(row)
            s.flush()
            return row.id
    finally:
        engine.dispose()


def ids_for(w: dict[str, Any]) -> dict[str, Any]:
    return {
        "customer_id": w["customer_b"],
        "service_id": w["service_b"],
        "charge_id": w["charge_b"],
        "invoice_id": w["invoice_b"],
        "receipt_id": w["receipt_b"],
        "notification_id": w["notification_b"],
        "session_id": w["session_b"],
        "carne_id": w["carne_b"],
        "assignment_id": w["assignment_b"],
        "kind": "billing",
        "plan_id": w["plan"],
        "subnet_id": w["subnet"],
        "webhook_id": 1,
    }


def test_a_city_limited_operator_reaches_no_other_city_through_any_route(
    world: tuple[Http, Http, dict[str, Any]],
) -> None:
    admin, city, w = world
    spec = admin.get("/openapi.json")
    known = bodies(w)
    attacks = body_attacks(w)
    ids = ids_for(w)
    tried: list[tuple[str, str, int]] = []
    leaks = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            params = set(re.findall(r"\{([^}]+)\}", path))
            body_ids = _body_ids(spec, op)
            key = (method, path)
            if key in WHOLE_ISP:
                kw: dict[str, Any] = {"json": WHOLE_ISP_BODIES.get(key, {})} if "requestBody" in op else {}
                response = city.client.request(method, _fill(path, ids), **kw)
                if response.status_code != 403:
                    leaks.append((method, path, response.status_code, response.text[:200]))
                tried.append((method, path, response.status_code))
                continue
            if params & CITY_PARAMS:
                kw = {"json": known[key]} if "requestBody" in op else {}
                assert "requestBody" not in op or key in known, f"add a valid body for {key} to bodies()"
                response = city.client.request(method, _fill(path, ids), **kw)
                if response.status_code != 404:
                    leaks.append((method, path, response.status_code, response.text[:200]))
                tried.append((method, path, response.status_code))
            if (
                body_ids & {"customer_id", "charge_ids", "invoice_id", "service_ids"}
                and not params & CITY_PARAMS
            ):
                assert key in attacks, f"add an attack with city-B ids in the body of {key} to body_attacks()"
            if key in attacks:
                attack = dict(attacks[key])
                url = _fill(path, attack.pop("path", {}))
                response = city.client.request(method, url, **attack)
                if response.status_code not in (404, 422) or "bruno" in response.text:
                    leaks.append((method, path, response.status_code, response.text[:200]))
                tried.append((method, path, response.status_code))
    assert not leaks, "\n".join(map(str, leaks))
    assert len(tried) >= 55, tried
    # Paying with another city's invoice is refused too.
    city.post("/receipts", {"invoice_id": w["invoice_b"], "cash_box_id": w["box"]}, expect=404)
    # A transfer to a new customer registered in another city is refused.
    new = person(CPF3, city="Arcos")
    detail = city.post(
        f"/services/{w['service_a']}/transfer", {"new_customer": new, "reason": "x"}, expect=422
    )["detail"]
    assert "one of your cities" in detail
    # The duplicate-CPF error does not name another city's customer.
    detail = city.post("/customers", person(CPF2, city="Formiga"), expect=409)["detail"]
    assert str(w["customer_b"]) not in detail and "another city" in detail


def test_lists_and_lookups_show_nothing_of_another_city(world: tuple[Http, Http, dict[str, Any]]) -> None:
    admin, city, w = world
    everything = admin.get("/audit", params={"limit": 500})["items"]
    assert any(e["entity"] == "receipt" for e in everything) and any(
        e["entity"] == "charge" for e in everything
    )
    seen = city.get("/audit", params={"limit": 500})["items"]
    for entry in seen:
        assert entry["customer_id"] in (None, w["customer_a"]), entry
        assert entry["service_id"] in (None, w["service_a"]), entry
        assert entry["entity"] not in (
            "receipt",
            "charge",
            "invoice",
            "payment_notification",
            "trust_unlock",
        ), entry
    report = city.get("/ipam/address", params={"address": w["address_b"]})
    assert report["holder"] is not None and report["holder"]["login"] is None
    assert report["holder"]["service_id"] is None
    held = city.get(f"/ipam/subnets/{w['subnet']}/assignments")["items"]
    assert held and all(a["login"] is None and a["service_id"] is None for a in held if a["kind"] == "fixed")
    assert city.get("/payment-notifications")["items"] == []
    assert city.get("/services", params={"customer_id": w["customer_b"]})["items"] == []
    assert city.get("/customers", params={"search": "Maria"})["total"] == 1
    assert city.get("/sessions")["items"] == [] and admin.get("/sessions")["total"] == 1
    assert city.get("/authlog")["items"] == [] and admin.get("/authlog")["total"] == 1
    assert city.get("/authlog", params={"login": "bruno"})["items"] == []
    for path in ("/charges", "/invoices", "/receipts", "/carnes"):
        assert city.get(path)["items"] == [] and admin.get(path)["total"] >= 1, path
    assert city.get("/overdue")["items"] == []
    assert city.get("/sessions", params={"login": "bruno", "online": True})["items"] == []
    assert admin.get(f"/sessions/{w['session_b']}")["login"] == "bruno"


def _fill(path: str, ids: dict[str, Any]) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: str(ids.get(m.group(1), 1)), path).removeprefix("/api/v1")


def _body_ids(spec: dict[str, Any], op: dict[str, Any]) -> set[str]:
    ref = (
        op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
    )
    if not ref:
        return set()
    names = set(spec["components"]["schemas"][ref.rsplit("/", 1)[1]].get("properties", {}))
    names |= {p["name"] for p in op.get("parameters", []) if p.get("in") == "query"}
    return names
