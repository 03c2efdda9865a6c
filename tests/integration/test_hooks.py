"""Payment notifications in (signed, idempotent, flagged when they do not match), webhooks out
(signed, retried with backoff, logged) against a real local HTTP server, and the routine reading
its charges from another ERP's database through a SQL view (PostgreSQL)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from aaa.audit.log import Actor, act_as
from aaa.db.base import utcnow
from aaa.settings import BillingSettings
from aaa.subscribers.lifecycle import change_status
from aaa.tables.subscribers import BillingMethod, Service
from aaa.vocabulary.subscribers import ServiceStatus
from billing_bridge.charges import add_charge
from billing_bridge.models import ChargeKind, Receipt
from billing_bridge.outbound import AddressPolicy
from billing_bridge.routine import run_routine
from billing_bridge.sources import charge_source
from billing_bridge.webhooks import deliver_due, sign
from tests.api_client import Api
from tests.conftest import _pg_admin, make_service
from tests.integration.test_api import setup_service

GATEWAY_SECRET = "gateway-secret-0123456789"
LOCAL = AddressPolicy.of(["127.0.0.0/8"])  # the receivers of these tests run on loopback
ZONE = ZoneInfo("America/Sao_Paulo")


def configure(api: Api, **billing: Any) -> None:
    app = api.client.app  # type: ignore[attr-defined]
    settings = app.state.settings
    app.state.settings = settings.model_copy(update={"billing": settings.billing.model_copy(update=billing)})


def notify(api: Api, payload: Any, *, secret: str = GATEWAY_SECRET, skew: int = 0, expect: int) -> Any:
    body = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
    signature = sign(secret, int(time.time()) + skew, body)
    response = api.client.post(
        "/api/v1/hooks/payments",
        content=body,
        headers={"X-Signature": signature, "Content-Type": "application/json"},
    )
    assert response.status_code == expect, response.text
    return response.json()


def invoice_for(api: Api, service_id: int, method_id: int, amount: str) -> dict[str, Any]:
    due = (utcnow().astimezone(ZONE).date() + timedelta(days=5)).isoformat()
    charge = api.post(
        f"/services/{service_id}/charges", {"kind": "monthly", "due_date": due, "amount": amount}, expect=201
    )
    return api.post(
        "/invoices",
        {"charge_ids": [charge["id"]], "billing_method_id": method_id, "due_date": due},
        expect=201,
    )


def test_payment_notifications(api: Api) -> None:
    configure(api, webhook_allowed_networks=["127.0.0.0/8"])
    method = api.post("/billing-methods", {"name": "Boleto"}, expect=201)
    svc = setup_service(api, billing_method_id=method["id"])
    hook = api.post(
        "/webhooks", {"url": "http://127.0.0.1:9/x", "secret": "s" * 16, "events": ["*"]}, expect=201
    )
    first = invoice_for(api, svc["id"], method["id"], "94.90")
    paid = {"external_id": "gw-1", "invoice_id": first["id"], "amount": "94.90"}
    assert "notifications are off" in notify(api, paid, expect=403)["detail"]
    configure(api, notification_secret=GATEWAY_SECRET)
    assert "does not match" in notify(api, paid, secret="another-secret-xxxxxxxx", expect=403)["detail"]
    assert "300 s away" in notify(api, paid, skew=-3600, expect=403)["detail"]  # a replay of an old notice
    bad = api.client.post("/api/v1/hooks/payments", content=b"{}", headers={"X-Signature": "v1=abc"})
    assert bad.status_code == 403 and "malformed X-Signature" in bad.json()["detail"]

    applied = notify(api, paid, expect=201)
    assert applied["status"] == "applied" and applied["receipt_id"]
    assert api.get(f"/invoices/{first['id']}")["status"] == "paid"
    again = notify(api, paid, expect=200)  # the gateway retries: same answer, nothing applied twice
    assert again["id"] == applied["id"] and again["receipt_id"] == applied["receipt_id"]
    with api.client.app.state.factory() as s:  # type: ignore[attr-defined]
        assert s.scalar(select(func.count()).select_from(Receipt)) == 1

    second = invoice_for(api, svc["id"], method["id"], "94.90")
    short = notify(api, {"external_id": "gw-2", "invoice_id": second["id"], "amount": "50.00"}, expect=202)
    assert short["status"] == "flagged"
    assert (
        short["reason"] == f"R$ 50,00 does not match the R$ 94,90 that settles invoice {second['id']} today"
    )
    unknown = notify(api, {"external_id": "gw-3", "invoice_id": 999999, "amount": "1.00"}, expect=202)
    assert unknown["reason"] == "invoice 999999 does not exist"
    junk = notify(api, {"external_id": "gw-4", "invoice_id": second["id"], "amount": "1e400"}, expect=202)
    assert "not a positive amount" in junk["reason"]
    assert "external_id" in notify(api, {"amount": "1.00"}, expect=422)["detail"]
    assert "not JSON" in notify(api, b"{nope", expect=422)["detail"]
    assert api.get(f"/invoices/{second['id']}")["status"] == "issued"  # nothing applied on a guess

    flagged = api.get("/payment-notifications", params={"status": "flagged"})["items"]
    assert [n["external_id"] for n in flagged] == ["gw-4", "gw-3", "gw-2"]
    partial = api.post(f"/payment-notifications/{short['id']}/resolve", {"action": "apply"})
    assert partial["status"] == "applied" and partial["resolved_by"] == "operator:admin"
    assert api.get(f"/invoices/{second['id']}")["status"] == "partially_paid"
    api.post(f"/payment-notifications/{short['id']}/resolve", {"action": "apply"}, expect=409)
    assert (
        api.post(f"/payment-notifications/{unknown['id']}/resolve", {"action": "dismiss"})["status"]
        == "dismissed"
    )
    assert (
        "no invoice"
        in api.post(f"/payment-notifications/{junk['id']}/resolve", {"action": "apply"}, expect=409)["detail"]
    )

    events = [
        d["event"] for d in api.get(f"/webhooks/{hook['id']}/deliveries", params={"limit": 20})["items"]
    ]
    assert events.count("payment.received") == 2 and events.count("payment.flagged") == 3
    audited = {e["entity"] for e in api.get("/audit", params={"limit": 100})["items"]}
    assert {"payment_notification", "receipt", "webhook"} <= audited


class Receiver(ThreadingHTTPServer):
    """A webhook receiver on 127.0.0.1 that answers 500 to the first ``failures`` requests."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.received: list[tuple[Message, bytes, int]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                code = 500 if len(receiver.received) < receiver.failures else 204
                receiver.received.append((self.headers, body, code))
                self.send_response(code)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(failures=1)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_webhooks_signed_retried_and_logged(api: Api, receiver: Receiver) -> None:
    configure(api, webhook_allowed_networks=["127.0.0.0/8"])
    factory: sessionmaker[Session] = api.client.app.state.factory  # type: ignore[attr-defined]
    hook = api.post(
        "/webhooks",
        {"url": receiver.url, "secret": "hook-secret-0123456789", "events": ["service.status_changed"]},
        expect=201,
    )
    dead = api.post(
        "/webhooks", {"url": "http://127.0.0.1:9/nobody", "secret": "x" * 16, "events": ["*"]}, expect=201
    )
    svc = setup_service(api)
    api.post(f"/services/{svc['id']}/suspend", {"status": "blocked_manual", "reason": "fraud check"})
    with factory.begin() as s:  # a change that rolls back sends nothing
        change_status(s, s.get(Service, svc["id"]), ServiceStatus.ENABLED, reason="never committed")
        s.flush()
        s.rollback()

    now = utcnow()
    first = deliver_due(factory, now, max_attempts=2, backoff=30, policy=LOCAL)
    assert sorted(o.code or 0 for o in first) == [0, 500]  # the receiver fails once; the dead one refuses
    [log] = api.get(f"/webhooks/{hook['id']}/deliveries")["items"]
    assert (log["status"], log["attempts"], log["last_code"]) == ("pending", 1, 500)
    assert deliver_due(factory, now + timedelta(seconds=10)) == []  # backing off
    second = deliver_due(factory, now + timedelta(seconds=31), max_attempts=2, backoff=30, policy=LOCAL)
    assert sorted(o.code or 0 for o in second) == [0, 204]
    [log] = api.get(f"/webhooks/{hook['id']}/deliveries")["items"]
    assert (log["status"], log["attempts"], log["last_code"]) == ("delivered", 2, 204)
    [gave_up] = api.get(f"/webhooks/{dead['id']}/deliveries")["items"]
    assert gave_up["status"] == "failed" and gave_up["last_error"] == "connection failed"

    headers, body, _ = receiver.received[-1]
    stamp = int(headers["X-AAA-Signature"].split(",")[0][2:])
    assert headers["X-AAA-Signature"] == sign("hook-secret-0123456789", stamp, body)
    assert headers["X-AAA-Event"] == "service.status_changed"
    event = json.loads(body)
    assert event["data"] == {
        "service_id": svc["id"],
        "login": "maria",
        "from": "enabled",
        "to": "blocked_manual",
        "reason": "fraud check",
    }
    assert len(receiver.received) == 2  # one event, sent twice (the first answer was 500)


@pytest.fixture
def erp_url() -> Iterator[str]:
    """Another ERP's database on the same PostgreSQL server, with the documented view."""
    name = f"erp_{uuid.uuid4().hex[:10]}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{_pg_admin_base()}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    yield url
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pg_admin_base() -> str:
    from tests.conftest import PG_URL

    return PG_URL.rsplit("/", 1)[0]


def test_standing_from_an_external_erp_view(pg_factory: sessionmaker[Session], erp_url: str) -> None:
    from sqlalchemy import create_engine

    erp = create_engine(erp_url)
    with erp.begin() as conn:
        conn.execute(
            text("CREATE TABLE titulo (cliente_login text, vencimento date, valor numeric, pago numeric)")
        )
        conn.execute(
            text(
                "CREATE VIEW aaa_open_charges AS SELECT cliente_login AS login, vencimento AS due_date,"
                " valor - pago AS open_amount FROM titulo"
            )
        )
        today = utcnow().astimezone(ZONE).date()
        conn.execute(
            text("INSERT INTO titulo VALUES (:l, :d, 120, 0), (:p, :d, 120, 120), ('stranger', :d, 50, 0)"),
            {"l": "erp-debtor", "p": "erp-payer", "d": today - timedelta(days=20)},
        )
    erp.dispose()
    with pg_factory.begin() as s:
        method = BillingMethod(name="ERP", total_suspension=True, total_suspension_days=15)
        s.add(method)
        s.flush()
        debtor = make_service(s, login="erp-debtor", billing_method_id=method.id)
        payer = make_service(s, login="erp-payer", billing_method_id=method.id)
        # Our own tables say the payer owes: the ERP is the source, so this is ignored.
        add_charge(s, payer, kind=ChargeKind.MONTHLY, due_date=today - timedelta(days=30), amount=99)
        ids = (debtor.id, payer.id)
    source = charge_source(BillingSettings(charges_source="sql_view", external_database_url=erp_url))
    with pg_factory.begin() as s:
        act_as(s, Actor("scheduler", "local"))
        run = run_routine(s, today, ZONE, utcnow(), dry_run=False, source=source)
        changed = {c["login"]: c["target"] for c in run.changes if c["service_id"] in ids}
    assert changed == {"erp-debtor": "suspended_debt"}
    with pg_factory() as s:
        statuses = dict(s.execute(select(Service.login, Service.status).where(Service.id.in_(ids))).all())
    assert statuses == {"erp-debtor": ServiceStatus.SUSPENDED_DEBT, "erp-payer": ServiceStatus.ENABLED}
    with pytest.raises(ValueError, match=r"needs billing\.external_database_url"):
        charge_source(BillingSettings(charges_source="sql_view"))
