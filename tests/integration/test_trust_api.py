"""Attacks on a running admin API (uvicorn on a real socket): privilege escalation, login abuse,
spoofed client addresses, oversized bodies, missing security headers, a database outage."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from aaa.db.engine import make_engine
from tests.api_client import ADMIN_PASSWORD, Http, person, running_api, served
from tests.conftest import wait_for

PASSWORD = "correct-horse-battery"


def add_operator(admin: Http, login: str, **fields: Any) -> dict[str, Any]:
    body = {"login": login, "name": login.title(), "password": PASSWORD, **fields}
    result: dict[str, Any] = admin.post("/operators", body, expect=201)
    return result


# --- 1. nobody grants what they do not hold ------------------------------------------------------


def test_a_limited_administrator_cannot_raise_anyone_above_itself(http: Http) -> None:
    admin_id = http.get("/auth/me")["id"]
    add_operator(http, "rich", permissions=["operators.admin", "finance.reverse", "customers.read"])
    rich_id = http.get("/operators", params={"limit": 100})["items"][-1]["id"]
    me = add_operator(http, "city", permissions=["operators.admin", "customers.read"], cities=["Formiga"])
    city = http.login("city", PASSWORD)

    def refused(method: str, path: str, body: Any = None) -> str:
        response = city.client.request(method, path, json=body)
        assert response.status_code == 403, (method, path, body, response.status_code, response.text)
        return str(response.json()["detail"])

    assert "superuser" in refused(
        "POST", "/operators", {"login": "x1", "name": "X", "password": PASSWORD, "superuser": True}
    )
    assert "finance.reverse" in refused(
        "POST",
        "/operators",
        {
            "login": "x2",
            "name": "X",
            "password": PASSWORD,
            "permissions": ["finance.reverse"],
            "cities": ["Formiga"],
        },
    )
    assert "every city" in refused("POST", "/operators", {"login": "x3", "name": "X", "password": PASSWORD})
    assert "arcos" in refused(
        "POST", "/operators", {"login": "x4", "name": "X", "password": PASSWORD, "cities": ["Arcos"]}
    )
    assert "own rights" in refused(
        "PATCH", f"/operators/{me['id']}", {"permissions": ["operators.admin", "finance.reverse"]}
    )
    refused("PATCH", f"/operators/{me['id']}", {"cities": []})
    refused("PATCH", f"/operators/{admin_id}", {"password": "taken-over-password"})
    refused("POST", f"/operators/{admin_id}/deactivate")
    refused("PATCH", f"/operators/{rich_id}", {"password": "taken-over-password"})  # holds more
    refused("POST", "/roles", {"name": "sneaky", "permissions": ["finance.reverse"]})
    refused("POST", "/api-keys", {"name": "k", "scopes": ["finance.reverse"]})
    victim = add_operator(http, "victim", permissions=["customers.read"], cities=["Formiga"])
    refused("POST", f"/operators/{victim['id']}/clone-permissions", {"from_operator_id": rich_id})

    # What it holds, it may grant: within its city and permissions.
    made = city.post(
        "/operators",
        {
            "login": "clerk",
            "name": "Clerk",
            "password": PASSWORD,
            "permissions": ["customers.read"],
            "cities": ["formiga"],
        },
        expect=201,
    )
    assert made["cities"] == ["formiga"] and not made["superuser"]

    # An API key acts within its scopes only, even for its superuser owner.
    key = http.post("/api-keys", {"name": "erp", "scopes": ["operators.admin"]}, expect=201)["token"]
    erp = Http(http.base, key)
    detail = erp.post(
        "/operators",
        {"login": "x5", "name": "X", "password": PASSWORD, "permissions": ["customers.read"]},
        expect=403,
    )["detail"]
    assert "customers.read" in detail
    erp.post("/operators", {"login": "x6", "name": "X", "password": PASSWORD, "superuser": True}, expect=403)
    erp.post("/api-keys", {"name": "wider", "scopes": ["customers.read"]}, expect=403)

    # The last active superuser stays.
    assert "last active superuser" in http.post(f"/operators/{admin_id}/deactivate", expect=409)["detail"]
    http.patch(f"/operators/{admin_id}", {"superuser": False}, expect=409)


# --- 4, 5. logins ------------------------------------------------------------------------------


def test_wrong_passwords_lock_the_login_and_the_lock_is_audited(db_url: str) -> None:
    with running_api(db_url, api={"lockout_failures": 3, "login_rate_per_login": 100}) as admin:
        victim = add_operator(admin, "ana", permissions=["customers.read"])
        for _ in range(3):
            admin.login("ana", "wrong-password-guess", expect=401)
        locked = Http(admin.base).post("/auth/login", {"login": "ana", "password": PASSWORD}, expect=429)
        assert "locked" in locked["detail"]
        shown = admin.get(f"/operators/{victim['id']}")
        assert shown["locked_until"] is not None
        entries = admin.get("/audit", params={"entity": "operator", "action": "locked"})["items"]
        assert entries and "3 wrong passwords" in entries[0]["note"]
        admin.post(f"/operators/{victim['id']}/unlock")
        admin.login("ana", PASSWORD)


def test_logins_are_rate_limited_per_address(db_url: str) -> None:
    with running_api(db_url, api={"login_rate_per_source": 5, "login_rate_per_login": 100}) as admin:
        codes = [
            Http(admin.base).post("/auth/login", {"login": "ghost", "password": "x"}, expect=None)
            for _ in range(4)
        ]
        assert codes and all(c["status"] == 401 for c in codes)
        response = Http(admin.base).client.post("/auth/login", json={"login": "ghost", "password": "x"})
        assert response.status_code == 429 and response.headers["retry-after"]


def test_wrong_passwords_from_one_address_lock_the_address_out(db_url: str) -> None:
    with running_api(db_url, api={"source_lockout_failures": 3, "login_rate_per_login": 100}) as admin:
        for name in ("a1", "a2", "a3"):
            admin.login(name, "guess-guess-guess", expect=401)
        body = Http(admin.base).post(
            "/auth/login", {"login": "admin", "password": ADMIN_PASSWORD}, expect=429
        )
        assert "wrong passwords from 127.0.0.1" in body["detail"]
        assert admin.get("/audit", params={"entity": "login_source"})["items"][0]["action"] == "locked"


def test_a_login_flood_does_not_starve_the_api(db_url: str) -> None:
    with running_api(
        db_url, api={"login_concurrency": 2, "login_rate_per_source": 1000, "login_rate_per_login": 1000}
    ) as admin:
        start = threading.Event()
        late: list[float] = []

        def flood(_: int) -> int:
            start.wait()
            return (
                Http(admin.base)
                .client.post("/auth/login", json={"login": "admin", "password": "wrong-but-long"})
                .status_code
            )

        def meanwhile() -> None:
            start.wait()
            for _ in range(5):
                began = time.monotonic()
                admin.get("/auth/me")
                late.append(time.monotonic() - began)

        with ThreadPoolExecutor(41) as pool:
            codes = pool.map(flood, range(40))
            watcher = pool.submit(meanwhile)
            start.set()
            statuses = list(codes)
            watcher.result()
        assert 429 in statuses, statuses
        # Starved, every request would wait for the flood's hashing (tens of seconds). On SQLite
        # the first one may also queue behind the flood's lockout writes (one writer at a time).
        assert sorted(late)[len(late) // 2] < 2.0 and max(late) < 10.0, late


def test_password_policy_and_changes_end_every_session(http: Http) -> None:
    for weak in ("short-pass", "passwordpassword", "123456789012", "aaaaaaaaaaaaaaa"):
        body = {"login": "weak", "name": "W", "password": weak}
        assert http.post("/operators", body, expect=422)["detail"]
    made = add_operator(http, "bia", permissions=["customers.read"])
    first = http.login("bia", PASSWORD)
    second = http.login("bia", PASSWORD)
    changed = first.post(
        "/auth/password", {"current_password": "wrong", "new_password": "another-long-pass"}, expect=422
    )
    assert "current password" in changed["detail"]
    fresh = first.post("/auth/password", {"current_password": PASSWORD, "new_password": "another-long-pass"})
    first.get("/auth/me", expect=401)
    second.get("/auth/me", expect=401)
    Http(http.base, fresh["token"]).get("/auth/me")
    # A reset by an administrator ends the sessions too.
    third = http.login("bia", "another-long-pass")
    http.patch(f"/operators/{made['id']}", {"password": "reset-by-admin-123"})
    third.get("/auth/me", expect=401)


def test_a_flagged_operator_must_change_its_password_first(http: Http) -> None:
    add_operator(http, "novo", permissions=["customers.read"], must_change_password=True)
    body = Http(http.base).post("/auth/login", {"login": "novo", "password": PASSWORD})
    assert body["must_change_password"] is True
    novo = Http(http.base, body["token"])
    assert "must change its password" in novo.get("/customers", expect=403)["detail"]
    novo.get("/auth/me")
    fresh = novo.post("/auth/password", {"current_password": PASSWORD, "new_password": "my-own-secret-99"})
    assert fresh["must_change_password"] is False
    Http(http.base, fresh["token"]).get("/customers")


# --- 6, 7. client address, body size, headers ------------------------------------------------------


@pytest.mark.parametrize("trusted", [[], ["127.0.0.1"]])
def test_x_forwarded_for_counts_only_from_trusted_proxies(db_url: str, trusted: list[str]) -> None:
    with running_api(db_url, api={"trusted_proxies": trusted}) as admin:
        made = admin.post("/customers", person(), expect=201, headers={"X-Forwarded-For": "198.51.100.9"})
        entry = admin.get("/audit", params={"entity": "customer", "entity_id": made["id"]})["items"][0]
        assert entry["source"] == ("198.51.100.9" if trusted else "127.0.0.1")


def test_oversized_bodies_are_refused_and_every_answer_is_hardened(db_url: str) -> None:
    with running_api(db_url, api={"max_body_bytes": 4096}) as admin:
        big = {"kind": "person", "name": "x" * 10_000}
        response = admin.client.post("/customers", json=big)
        assert response.status_code == 413 and "4096" in response.json()["detail"]

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted while read
            yield b'{"name": "'
            for _ in range(10):
                yield b"y" * 1000
            yield b'"}'

        chunked = admin.client.post(
            "/customers", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert chunked.status_code == 413
        for path in ("/auth/me", "/customers", "/nope"):
            answer = admin.client.get(path)
            assert "server" not in answer.headers
            assert answer.headers["x-content-type-options"] == "nosniff"
            assert answer.headers["x-frame-options"] == "DENY"
            assert answer.headers["referrer-policy"] == "no-referrer"
            assert answer.headers["cache-control"] == "no-store"
        docs = admin.client.get("/docs")
        assert "frame-ancestors 'none'" in docs.headers["content-security-policy"]


def test_metrics_and_docs_can_require_a_token(db_url: str) -> None:
    with running_api(db_url, api={"protect_metrics_and_docs": True}) as admin:
        anonymous = httpx.Client(base_url=admin.base, timeout=10)
        for path in ("/metrics", "/api/v1/docs", "/api/v1/openapi.json"):
            assert anonymous.get(path).status_code == 401, path
            assert admin.client.get(admin.base + path).status_code == 200, path


# --- 20. health during a database outage ----------------------------------------------------------


@pytest.mark.pg
def test_api_answers_503_while_the_database_is_down_and_readyz_sees_read_only(pg_database: str) -> None:
    from tests.conftest import PG_URL, fresh_pg_database
    from tests.fakes.tcp_proxy import TcpProxy

    host, port = PG_URL.split("@", 1)[1].split("/", 1)[0].split(":")
    with fresh_pg_database("aaa_trust") as database, TcpProxy((host, int(port))) as proxy:
        proxied = database.replace(f"@{host}:{port}/", f"@127.0.0.1:{proxy.port}/")
        with running_api(proxied) as admin:
            admin.get("/customers")
            proxy.cut()
            down = admin.client.get("/customers")
            assert down.status_code == 503, down.text
            assert down.headers["content-type"] == "application/problem+json"
            assert "database is unavailable" in down.json()["detail"]
            assert httpx.get(admin.base + "/readyz").status_code == 503
            proxy.restore()
            assert httpx.get(admin.base + "/readyz").status_code == 200
            name = database.rsplit("/", 1)[1]
            engine = make_engine(database, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
            proxy.cut()  # new connections pick the setting up
            assert httpx.get(admin.base + "/readyz").status_code == 503
            proxy.restore()
            ready = wait_for(lambda: (r := httpx.get(admin.base + "/readyz")).status_code == 503 and r, 10)
            assert ready.status_code == 503 and "read" in ready.json()["checks"]["database"], ready.text
            with engine.connect() as conn:
                conn.execute(text("SET default_transaction_read_only = off"))
                conn.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = off'))
            engine.dispose()


def test_readyz_sees_a_read_only_sqlite_file(tmp_path: Any) -> None:
    from aaa.db.migrate import upgrade

    path = tmp_path / "aaa.db"
    upgrade(f"sqlite:///{path}")
    with running_api(f"sqlite:///{path}") as admin:
        assert httpx.get(admin.base + "/readyz").status_code == 200
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"
    from aaa.composition import build
    from aaa.settings import load_settings
    from admin_api.app import create_app

    settings = load_settings(None, database_url=read_only)
    components = build(settings)
    with served(create_app(settings, components)) as base:
        ready = httpx.get(base + "/readyz")
        assert ready.status_code == 503 and "read-only" in ready.json()["checks"]["database"], ready.text
    components.close()
