"""Attacks through the integrations: webhook receivers that misbehave or point inward, payment
notifications with malformed signatures and ids, money, dates and NULs out of range."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from aaa.db.base import utcnow
from billing_bridge.models import Webhook
from billing_bridge.outbound import AddressPolicy
from billing_bridge.webhooks import deliver_due, sign
from tests.api_client import CPF, Http, person, running_api

LOCAL = ["127.0.0.0/8"]
NOTIFY_SECRET = "gateway-secret-0123456789"
PLAN = {"name": "Fibra", "price": "99.90", "download_kbps": 100_000, "upload_kbps": 50_000}


class Recorder(ThreadingHTTPServer):
    """An HTTP receiver: 204 to every POST (or ``status`` with a Location), keeping the bodies."""

    def __init__(self, status: int = 204):
        self.bodies: list[bytes] = []
        self.status = status
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                recorder.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(recorder.status)
                if recorder.status in (301, 302, 307, 308):
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


@contextmanager
def raw_server(behaviour: str) -> Iterator[str]:
    """A TCP server that speaks no HTTP ("banner") or trickles one byte every two seconds
    forever ("tarpit")."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn:
            if behaviour == "banner":
                conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
                return
            while not stop.wait(2):
                try:
                    conn.sendall(b"H")
                except OSError:
                    return

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/hook"
    finally:
        stop.set()
        listener.close()


def factory_of(admin: Http, app_state: Any) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = app_state.factory
    return factory


@pytest.fixture
def served_api(db_url: str) -> Iterator[Http]:
    with running_api(
        db_url, billing={"webhook_allowed_networks": LOCAL, "notification_secret": NOTIFY_SECRET}
    ) as admin:
        yield admin


def suspend_a_service(admin: Http) -> None:
    plan = admin.post("/plans", PLAN, expect=201)
    customer = admin.post("/customers", person(CPF), expect=201)
    service = admin.post(
        "/services", {"customer_id": customer["id"], "plan_id": plan["id"], "login": "maria"}, expect=201
    )
    admin.post(f"/services/{service['id']}/suspend", {"status": "blocked_manual", "reason": "check"})


def test_bad_receivers_never_hold_up_good_ones(served_api: Http, db_url: str) -> None:
    admin = served_api
    healthy, redirecting = Recorder(), Recorder(status=302)
    hooks = {}
    with raw_server("banner") as banner, raw_server("tarpit") as tarpit:
        for name, url in (
            ("healthy", healthy.url),
            ("typo", "http://no-such-host.invalid/hook"),
            ("refused", "http://127.0.0.1:9/hook"),
            ("banner", banner),
            ("tarpit", tarpit),
            ("redirect", redirecting.url),
        ):
            hooks[name] = admin.post(
                "/webhooks", {"url": url, "secret": "s" * 16, "events": ["*"]}, expect=201
            )
        suspend_a_service(admin)
        from aaa.composition import build
        from aaa.settings import load_settings

        components = build(load_settings(None, database_url=db_url))
        began = time.monotonic()
        outcomes = deliver_due(components.factory, utcnow(), timeout=2.0, policy=AddressPolicy.of(LOCAL))
        took = time.monotonic() - began
        assert len(outcomes) == 6 and took < 5, (outcomes, took)
        again = deliver_due(
            components.factory, utcnow() + timedelta(hours=2), timeout=2.0, policy=AddressPolicy.of(LOCAL)
        )
        components.close()
    assert len(healthy.bodies) == 1 and json.loads(healthy.bodies[0])["event"] == "service.status_changed"
    assert len(again) == 5  # the five failures retried, the delivered one never again
    assert len(redirecting.bodies) == 2  # asked twice, never followed to its Location
    expected = {
        "healthy": ("delivered", None),
        "typo": ("pending", "connection failed"),
        "refused": ("pending", "connection failed"),
        "banner": ("pending", "not an HTTP answer"),
        "tarpit": ("pending", "timed out"),
        "redirect": ("pending", "HTTP 302 (redirects are not followed)"),
    }
    for name, (status, error) in expected.items():
        [delivery] = admin.get(f"/webhooks/{hooks[name]['id']}/deliveries")["items"]
        assert (delivery["status"], delivery["last_error"]) == (status, error), (name, delivery)
    # Deactivating a webhook ends its pending deliveries.
    admin.patch(f"/webhooks/{hooks['tarpit']['id']}", {"active": False})
    [ended] = admin.get(f"/webhooks/{hooks['tarpit']['id']}/deliveries")["items"]
    assert (ended["status"], ended["last_error"]) == ("failed", "webhook deactivated")


def test_webhooks_cannot_point_inward(db_url: str) -> None:
    healthy = Recorder()
    with running_api(db_url) as admin:
        for url in (
            "http://169.254.169.254/latest/meta-data/",
            "http://127.0.0.1:8080/api/v1/operators",
            "http://10.1.2.3/hook",
            "http://[::1]/hook",
            "http://localhost:9/hook",
            "http://[::ffff:127.0.0.1]/hook",
        ):
            body = {"url": url, "secret": "s" * 16, "events": ["*"]}
            assert "address" in admin.post("/webhooks", body, expect=422)["detail"], url
        for url in ("http://example.com:http/x", "http://user:pw@example.com/x", "ftp://example.com/x"):
            admin.post("/webhooks", {"url": url, "secret": "s" * 16, "events": ["*"]}, expect=422)
        # A name that resolved elsewhere when registered and to loopback now (DNS rebinding): the
        # send-time check refuses it and nothing reaches the inside.
        from aaa.composition import build
        from aaa.settings import load_settings

        components = build(load_settings(None, database_url=db_url))
        rebound = healthy.url.replace("127.0.0.1", "localhost")
        with components.factory.begin() as session:
            session.add(Webhook(url=rebound, secret="s" * 16, events=["*"], active=True))
        suspend_a_service(admin)
        [outcome] = deliver_due(components.factory, utcnow(), timeout=2.0)
        components.close()
        assert outcome.error == "address not allowed" and healthy.bodies == []


# --- 9, 10. payment notifications, money, dates and NULs ---------------------------------------


def notify(base: str, body: bytes, signature: str | bytes) -> httpx.Response:
    raw = signature if isinstance(signature, bytes) else signature.encode()
    headers = {b"X-Signature": raw, b"Content-Type": b"application/json"}
    return httpx.post(f"{base}/api/v1/hooks/payments", content=body, headers=headers, timeout=10)


def test_malformed_payment_notifications_are_4xx(served_api: Http) -> None:
    base = served_api.base
    body = json.dumps({"external_id": "gw-1", "invoice_id": 1, "amount": "10.00"}).encode()
    for header in (
        "t=1é,v1=ab",
        "t=" + "9" * 5000 + ",v1=ab",
        "t=99999999999999999999,v1=00",
        "v1=ab",
        "t=-5,v1=1",
    ):
        response = notify(base, body, header.encode("utf-8"))
        assert response.status_code == 403, (header[:40], response.status_code, response.text)
    stamp = int(time.time())
    non_ascii = notify(base, body, f"t={stamp},v1=é".encode())
    assert non_ascii.status_code == 403
    for invoice_id in (True, 2**63, -1, "12", 1.5):
        payload = json.dumps(
            {"external_id": f"gw-{invoice_id!r}", "invoice_id": invoice_id, "amount": "1.00"}
        ).encode()
        response = notify(base, payload, sign(NOTIFY_SECRET, stamp, payload))
        assert response.status_code == 422, (invoice_id, response.text)
        assert "invoice_id" in response.json()["detail"]
    nul = json.dumps({"external_id": "gw-nul", "note": "a\u0000b", "amount": "1.00"}).encode()
    assert notify(base, nul, sign(NOTIFY_SECRET, stamp, nul)).status_code == 422
    huge = json.dumps({"external_id": "gw-huge", "invoice_id": 1, "amount": "1e30"}).encode()
    assert notify(base, huge, sign(NOTIFY_SECRET, stamp, huge)).status_code in (200, 201, 202)


def test_money_dates_and_nuls_out_of_range_are_422(served_api: Http) -> None:
    admin = served_api
    plan = admin.post("/plans", PLAN, expect=201)
    customer = admin.post("/customers", person(CPF), expect=201)
    service = admin.post(
        "/services", {"customer_id": customer["id"], "plan_id": plan["id"], "login": "maria"}, expect=201
    )
    charges = f"/services/{service['id']}/charges"
    for body in (
        {"kind": "other", "due_date": "1999-12-31", "amount": "10.00"},
        {"kind": "other", "due_date": "2101-01-01", "amount": "10.00"},
        {"kind": "other", "due_date": "9999-12-31", "amount": "10.00"},
        {"kind": "other", "due_date": "2026-12-10", "amount": "10000000000.00"},
        {"kind": "other", "due_date": "2026-12-10", "amount": "1e20"},
        {"kind": "other", "due_date": "2026-12-10", "amount": "10.00", "description": "a\u0000b"},
    ):
        assert admin.post(charges, body, expect=422)["detail"], body
    for bad in ({"name": "Maria\u0000"}, {"notes": "x\u0000"}, {"birth_date": "1800-01-01"}):
        admin.patch(f"/customers/{customer['id']}", bad, expect=422)
    assert admin.client.get("/customers", params={"search": "a\u0000b"}).status_code == 422
    # Interest that would overflow: a charge due in 2000 under 100 % a month, quoted in 2100.
    method = admin.post("/billing-methods", {"name": "Caro", "interest_percent_month": "100.00"}, expect=201)
    admin.patch(f"/services/{service['id']}", {"billing_method_id": method["id"]})
    old = admin.post(charges, {"kind": "other", "due_date": "2000-01-01", "amount": "9999999.00"}, expect=201)
    quote = admin.get("/charges/quote", params={"ids": old["id"], "on": "2100-12-31"}, expect=422)
    assert "beyond" in quote["detail"]
