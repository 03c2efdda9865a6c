"""Logs: JSON lines with a correlation id, and no password or secret in them even at DEBUG, through
logins (API and RADIUS: PAP, bad password, wrong NAS secret), NAS creation and a failing insert."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from pyrad import packet
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from aaa.logs import configure
from aaa.tables.operators import Operator
from tests import radius_client as rc
from tests.api_client import ADMIN_PASSWORD, Api
from tests.conftest import SECRET, RunningWorker, make_service

PASSWORDS = ("maria-very-secret-1", "wrong-guess-9876", "operator-pass-4321", ADMIN_PASSWORD, SECRET)


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    configure("DEBUG", "json", stream)
    yield stream
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def test_json_logs_are_correlated_and_never_hold_a_secret(
    captured: io.StringIO, api: Api, worker: RunningWorker, factory: sessionmaker[Session]
) -> None:
    with factory.begin() as s:
        make_service(s, login="maria", password="maria-very-secret-1")
    nas = rc.client(worker.auth_port, worker.acct_port, SECRET)
    assert rc.send(nas, rc.pap(nas, "maria", "maria-very-secret-1")).code == packet.AccessAccept
    assert rc.send(nas, rc.pap(nas, "maria", "wrong-guess-9876")).code == packet.AccessReject
    wrong = rc.client(worker.auth_port, worker.acct_port, "not-the-secret-0000")
    wrong.timeout, wrong.retries = 0.3, 1
    with pytest.raises(Exception):  # noqa: B017 (pyrad's Timeout: the packet is dropped, logged)
        wrong.SendPacket(rc.pap(wrong, "maria", "maria-very-secret-1"))

    api.post("/operators", {"login": "ana", "name": "Ana", "password": "operator-pass-4321"}, expect=201)
    api.login("ana", "operator-pass-4321")
    api.as_token(None).post("/auth/login", {"login": "ana", "password": "wrong-guess-9876"}, expect=401)
    created = api.post(
        "/nas", {"name": "bras-9", "address": "10.9.9.9", "secret": "nas-secret-abcdef-9"}, expect=201
    )
    assert created
    response = api.client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {api.token}", "X-Request-Id": "req-42"}
    )
    assert response.headers["X-Request-Id"] == "req-42"
    with factory() as s, pytest.raises(IntegrityError) as failed:  # a failing insert names no parameter
        s.add(Operator(login="ana", name="Ana", password_hash="operator-pass-4321"))  # a taken login
        s.flush()
    assert "operator-pass" not in str(failed.value)
    logging.getLogger("test").warning("integrity error: %s", failed.value)

    lines = [json.loads(line) for line in captured.getvalue().splitlines()]
    logged = captured.getvalue()
    for secret in (*PASSWORDS, "nas-secret-abcdef-9", api.token or ""):
        assert secret not in logged, secret
    assert {"ts", "level", "logger", "pid", "msg"} <= set(lines[0])
    access = [line for line in lines if line["logger"] == "admin_api.access"]
    assert any(line["correlation"] == "req-42" and "/api/v1/auth/me 200" in line["msg"] for line in access)
    assert all(len(line.get("correlation", "")) > 0 for line in access)
    dropped = [line for line in lines if "dropped" in line["msg"]]
    assert dropped and dropped[0]["correlation"].startswith("radius:127.0.0.1:")


def test_text_format_is_the_default(captured: Any) -> None:
    stream = io.StringIO()
    configure("INFO", "text", stream)
    logging.getLogger("x").info("hello")
    assert stream.getvalue().rstrip().endswith("INFO x: hello")
