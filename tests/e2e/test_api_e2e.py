"""End to end: changes made through the admin API over real HTTP reach a running RADIUS worker."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from pyrad import client as pyrad_client
from pyrad import packet

from tests import radius_client as rc
from tests.api_client import ADMIN_PASSWORD, admin_app, person
from tests.conftest import SECRET, RunningWorker, wait_for


@pytest.fixture
def http_api(db_url: str) -> Iterator[httpx.Client]:
    """The admin API served by uvicorn on a real loopback socket, with an admin logged in."""
    with admin_app(db_url) as app:
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        assert wait_for(lambda: server.started, timeout=10)
        port = server.servers[0].sockets[0].getsockname()[1]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=10) as client:
            login = {"login": "admin", "password": ADMIN_PASSWORD}
            client.headers["Authorization"] = (
                f"Bearer {client.post('/auth/login', json=login).json()['token']}"
            )
            yield client
        server.should_exit = True
        thread.join(10)


def ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def test_api_changes_reach_a_running_worker(worker: RunningWorker, http_api: httpx.Client) -> None:
    nas = rc.client(worker.auth_port, worker.acct_port, SECRET)
    plan = ok(
        http_api.post(
            "/plans",
            json={"name": "Fibra 100M", "price": "99.90", "download_kbps": 100_000, "upload_kbps": 50_000},
        )
    )
    customer = ok(http_api.post("/customers", json=person()))
    service = ok(
        http_api.post(
            "/services",
            json={
                "customer_id": customer["id"],
                "plan_id": plan["id"],
                "login": "maria",
                "password": "maria-pass",
            },
        )
    )

    def attempt(login: str = "maria", password: str = "maria-pass", client: Any = nas) -> packet.Packet:
        return rc.send(client, rc.pap(client, login, password))

    first = wait_for(lambda: (r := attempt()).code == packet.AccessAccept and r)
    assert first["Mikrotik-Rate-Limit"] == ["50M/100M"]

    # A plan edit: the next Access-Accept carries the new speed, no restart.
    ok(http_api.patch(f"/plans/{plan['id']}", json={"download_kbps": 300_000, "upload_kbps": 150_000}))
    faster = wait_for(lambda: (r := attempt())["Mikrotik-Rate-Limit"] == ["150M/300M"] and r)
    assert faster, "the worker never saw the plan change"

    # A suspension, then an immediate migration that moves the login to a new service.
    ok(
        http_api.post(
            f"/services/{service['id']}/suspend", json={"status": "blocked_manual", "reason": "check"}
        )
    )
    assert wait_for(lambda: attempt().code == packet.AccessReject)
    ok(http_api.post(f"/services/{service['id']}/enable", json={"reason": "ok"}))
    giga = ok(
        http_api.post(
            "/plans",
            json={"name": "Giga", "price": "199.90", "download_kbps": 1_000_000, "upload_kbps": 500_000},
        )
    )
    ok(
        http_api.post(
            f"/services/{service['id']}/migrate",
            json={"plan_id": giga["id"], "immediate": True, "reason": "upgrade"},
        )
    )
    migrated = wait_for(
        lambda: (
            (r := attempt()).code == packet.AccessAccept and r["Mikrotik-Rate-Limit"] == ["500M/1000M"] and r
        )
    )
    assert migrated, (attempt().code, dict(attempt()))

    # Rotating the NAS secret: the old secret stops working, the new one works.
    nas_id = ok(http_api.get("/nas"))["items"][0]["id"]
    secret = ok(http_api.post(f"/nas/{nas_id}/rotate-secret", json={"secret": "rotated-secret-0123"}))[
        "secret"
    ]
    rotated = rc.client(worker.auth_port, worker.acct_port, secret, timeout=0.5)

    def with_new_secret() -> bool:
        try:
            return attempt(client=rotated).code == packet.AccessAccept
        except Exception:
            return False

    assert wait_for(with_new_secret)
    with pytest.raises(pyrad_client.Timeout):  # the old secret's requests are dropped
        attempt(client=rc.client(worker.auth_port, worker.acct_port, SECRET, timeout=0.5))
