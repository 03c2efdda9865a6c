"""Malformed and hostile datagrams: each is dropped and counted, and the worker keeps serving."""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
from typing import Any

import pytest
from pyrad import packet

from aaa import metrics
from aaa.radius.codec import DropPacket, check_structure
from tests import radius_client as rc
from tests.conftest import SECRET, RunningWorker, make_service

AUTH = os.urandom(16)


def attrs(*items: tuple[int, bytes]) -> bytes:
    return b"".join(bytes([code, len(value) + 2]) + value for code, value in items)


def access(body: bytes, length: int | None = None, code: int = 1) -> bytes:
    return struct.pack("!BBH", code, 42, length if length is not None else 20 + len(body)) + AUTH + body


def with_ma(body: bytes, secret: bytes = SECRET.encode(), code: int = 1) -> bytes:
    """A request whose Message-Authenticator is correct for ``secret`` (RFC 3579 §3.2)."""
    body = bytes([80, 18]) + b"\x00" * 16 + body
    raw = access(body, code=code)
    digest = hmac.new(secret, raw, hashlib.md5).digest()
    return raw[:22] + digest + raw[38:]


USER = (1, b"maria")
CASES: list[tuple[str, bytes, str]] = [
    ("empty", b"", "truncated"),
    ("19 octets", access(b"")[:19], "truncated"),
    ("length below 20", access(b"", length=12), "bad_length"),
    ("length beyond datagram", access(attrs(USER), length=200), "bad_length"),
    ("attribute length 0", access(b"\x01\x00maria"), "bad_attribute"),
    ("attribute length 1", access(b"\x01\x01maria"), "bad_attribute"),
    ("attribute overflowing", access(b"\x01\x40maria"), "bad_attribute"),
    ("attribute header cut", access(attrs(USER) + b"\x01"), "bad_attribute"),
    ("4097 octets", access(attrs(USER) + b"\x00" * 4077), "oversized"),
    ("unknown code", access(attrs(USER), code=99), "unknown_code"),
    ("accounting code on auth port", access(attrs(USER), code=4), "unknown_code"),
    ("missing Message-Authenticator", access(attrs(USER, (2, b"x" * 16))), "missing_message_authenticator"),
    (
        "wrong secret",
        with_ma(attrs(USER, (2, b"x" * 16)), secret=b"not-the-secret"),
        "bad_message_authenticator",
    ),
    (
        "Message-Authenticator of bad length",
        access(bytes([80, 10]) + b"\x00" * 8 + attrs(USER)),
        "bad_message_authenticator",
    ),
]


@pytest.mark.parametrize(("name", "datagram", "cause"), CASES, ids=[c[0] for c in CASES])
def test_bad_datagram_is_dropped_counted_and_the_worker_keeps_serving(
    worker: RunningWorker, factory: Any, name: str, datagram: bytes, cause: str
) -> None:
    with factory.begin() as session:
        make_service(session, login="maria", password="p")
    before = metrics.RADIUS_DROPPED.labels(cause)._value.get()
    assert rc.raw_exchange(worker.auth_port, datagram, timeout=0.3) is None
    assert metrics.RADIUS_DROPPED.labels(cause)._value.get() == before + 1
    nas = rc.client(worker.auth_port, worker.acct_port, SECRET)
    assert rc.send(nas, rc.pap(nas, "maria", "p")).code == packet.AccessAccept


ACCT_CASES = [
    ("wrong secret", "bad_authenticator"),
    ("no Acct-Status-Type", "bad_accounting"),
    ("no Acct-Session-Id", "bad_accounting"),
    ("bad Message-Authenticator", "bad_message_authenticator"),
]


@pytest.mark.parametrize(("name", "cause"), ACCT_CASES, ids=[c[0] for c in ACCT_CASES])
def test_bad_accounting_is_dropped_and_counted(worker: RunningWorker, name: str, cause: str) -> None:
    nas = rc.client(worker.auth_port, worker.acct_port, SECRET)
    if name == "wrong secret":
        nas.secret = b"wrong-secret-000000000"
        req = rc.accounting(nas, "Start", "maria", "s1")
    elif name == "no Acct-Status-Type":
        req = nas.CreateAcctPacket(User_Name="maria", Acct_Session_Id="s1")
    elif name == "no Acct-Session-Id":
        req = rc.accounting(nas, "Start", "maria")
    else:
        req = rc.accounting(nas, "Start", "maria", "s1")
        req["Message-Authenticator"] = b"\x01" * 16
    before = metrics.RADIUS_DROPPED.labels(cause)._value.get()
    assert rc.raw_exchange(worker.acct_port, req.RequestPacket(), timeout=0.3) is None
    assert metrics.RADIUS_DROPPED.labels(cause)._value.get() == before + 1
    good = rc.client(worker.auth_port, worker.acct_port, SECRET)
    assert rc.send(good, rc.accounting(good, "Start", "maria", "s2")).code == packet.AccountingResponse


def test_random_garbage_never_breaks_the_worker(worker: RunningWorker, factory: Any) -> None:
    with factory.begin() as session:
        make_service(session, login="maria", password="p")
    import random

    rnd = random.Random(2865)
    good = rc.client(worker.auth_port, worker.acct_port, SECRET)
    template = rc.pap(good, "maria", "p").RequestPacket()
    for _ in range(300):
        mutated = bytearray(template)
        for _ in range(rnd.randint(1, 8)):
            mutated[rnd.randrange(len(mutated))] = rnd.randrange(256)
        rc.raw_exchange(worker.auth_port, bytes(mutated[: rnd.randint(0, len(mutated))]), timeout=0.001)
    assert metrics.RADIUS_DROPPED.labels("internal_error")._value.get() == 0
    assert rc.send(good, rc.pap(good, "maria", "p")).code == packet.AccessAccept


@pytest.mark.parametrize(
    "data",
    [b"", b"\x01" * 19, access(b"\x01\x00"), access(b"", length=4097)],
    ids=["empty", "short", "bad-attribute", "too-long"],
)
def test_check_structure_unit(data: bytes) -> None:
    with pytest.raises(DropPacket):
        check_structure(data)


def test_padding_after_length_is_ignored() -> None:
    check_structure(access(attrs(USER)) + b"\x00" * 10)  # RFC 2865 §3: octets past Length are padding


def test_unknown_query_parameters_are_refused_by_name(api: Any) -> None:
    """A filter the route does not have is a 422 naming it, never "everything, 200"."""
    detail = api.get("/services", params={"due_day": 10}, expect=422)["detail"]
    assert "unknown query parameter 'due_day'" in detail and "status" in detail
    detail = api.get("/sessions", params={"online": "true", "sattus": "x"}, expect=422)["detail"]
    assert "'sattus'" in detail
    assert api.get("/services", params={"status": "enabled", "limit": 5})["total"] == 0


def test_validation_messages_name_values_not_python_reprs(api: Any) -> None:
    from tests.integration.test_api import setup_service

    service = setup_service(api)
    detail = api.post(f"/services/{service['id']}/suspend", {"status": "enabled", "reason": "x"}, expect=422)[
        "detail"
    ]
    assert "'suspended_request', 'blocked_manual' or 'reduced_manual'" in detail and "<" not in detail
