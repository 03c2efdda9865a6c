"""A node run as the operator runs it (`aaa serve` as a process) on a fresh PostgreSQL database,
with a superuser ``admin`` and an API client logged in as it; for the end-to-end tests that need
the RADIUS worker, the enforcer, the jobs and the admin API together."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import fresh_pg_database, wait_for
from tests.e2e.test_e2e import AAA, free_port

ADMIN_PASSWORD = "admin-node-e2e-123"


@dataclass
class ServedNode:
    url: str  # http://127.0.0.1:PORT
    api: httpx.Client  # on /api/v1, logged in as admin
    auth_port: int
    acct_port: int
    log: Path


def ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, (response.request.url, response.status_code, response.text)
    return response.json() if response.content else None


@contextmanager
def served_node(tmp: Path, prefix: str, extra_toml: str = "") -> Iterator[ServedNode]:
    """``extra_toml``: more sections for aaa.toml (say, [billing])."""
    auth, acct, api_port = free_port(), free_port(), free_port(socket.SOCK_STREAM)
    with fresh_pg_database(prefix) as url:
        config = tmp / "aaa.toml"
        config.write_text(
            f'database_url = "{url}"\n'
            f"[radius]\nauth_port = {auth}\nacct_port = {acct}\nworkers = 1\nchange_poll_interval = 0.1\n"
            f"[metrics]\nport = {free_port(socket.SOCK_STREAM)}\n"
            f"[api]\nport = {api_port}\n"
            f'[accounting]\nspool_dir = "{tmp / "spool"}"\n'
            f"[enforcer]\npoll_interval = 0.1\ntimeout = 0.3\n" + extra_toml
        )
        admin = ["operator", "add", "admin", "--superuser", "--password", ADMIN_PASSWORD]
        for args in (["db", "upgrade"], admin):
            done = subprocess.run([*AAA, "--config", str(config), *args], capture_output=True, text=True)
            assert done.returncode == 0, done.stderr
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp / "metrics")}
        os.makedirs(env["PROMETHEUS_MULTIPROC_DIR"])
        log_path = tmp / "node.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [*AAA, "--config", str(config), "serve"], stdout=log, stderr=subprocess.STDOUT, env=env
            )
            base = f"http://127.0.0.1:{api_port}"
            try:
                assert wait_for(lambda: _up(base), timeout=30), log_path.read_text()
                api = httpx.Client(base_url=f"{base}/api/v1", timeout=10)
                login = {"login": "admin", "password": ADMIN_PASSWORD}
                api.headers["Authorization"] = f"Bearer {ok(api.post('/auth/login', json=login))['token']}"
                yield ServedNode(base, api, auth, acct, log_path)
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(30)


def _up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
