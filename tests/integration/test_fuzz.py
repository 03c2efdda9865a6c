"""Fuzzing the decoder and the request handlers with hypothesis: structure-aware datagrams (valid
headers and Message-Authenticators around random attributes, so they reach the deep paths:
attribute parsing, PAP/CHAP/MS-CHAP, accounting records) and raw garbage. Nothing may raise out
of a handler (``internal_error`` stays 0) and the worker keeps answering.

Bounded in CI (AAA_FUZZ_EXAMPLES, default 200 per property); the longer run is
``scripts/fuzz.sh`` (100,000 examples per property, or AAA_FUZZ_EXAMPLES).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import struct
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyrad import packet

from aaa import metrics
from aaa.radius.codec import Codec, DropPacket
from aaa.settings import RadiusSettings
from tests import radius_client as rc
from tests.conftest import SECRET, RunningWorker, make_service

EXAMPLES = int(os.environ.get("AAA_FUZZ_EXAMPLES", "200"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
KEY = SECRET.encode()
# Attribute types worth hitting: User-Name, passwords, CHAP, NAS ids, accounting, vendor, MA, EAP.
TYPES = st.sampled_from(
    [1, 2, 3, 4, 5, 6, 7, 8, 30, 31, 32, 40, 41, 42, 43, 44, 46, 49, 52, 53, 60, 61, 79, 87, 26]
)
ATTRIBUTE = st.tuples(TYPES | st.integers(0, 255), st.binary(max_size=60))
VENDOR = st.builds(
    lambda vendor, vtype, value: (26, struct.pack("!IBB", vendor, vtype, len(value) + 2) + value),
    st.sampled_from([311, 14988, 9, 0]),
    st.integers(0, 255),
    st.binary(max_size=40),
)


def encode(attrs: list[tuple[int, bytes]]) -> bytes:
    return b"".join(bytes([t, len(v) + 2]) + v for t, v in attrs if len(v) <= 253)


def signed_access(ident: int, authenticator: bytes, attrs: list[tuple[int, bytes]]) -> bytes:
    body = bytes([80, 18]) + b"\x00" * 16 + encode(attrs)
    raw = struct.pack("!BBH", 1, ident, 20 + len(body)) + authenticator + body
    digest = hmac.new(KEY, raw, hashlib.md5).digest()
    return raw[:22] + digest + raw[38:]


def signed_accounting(ident: int, attrs: list[tuple[int, bytes]]) -> bytes:
    body = encode(attrs)
    raw = struct.pack("!BBH", 4, ident, 20 + len(body)) + b"\x00" * 16 + body
    return raw[:4] + hashlib.md5(raw + KEY).digest() + raw[20:]


ATTRS = st.lists(ATTRIBUTE | VENDOR, max_size=12)


def internal_errors() -> float:
    return float(metrics.RADIUS_DROPPED.labels("internal_error")._value.get())


CODEC = Codec(RadiusSettings().dictionary)


@FUZZ
@given(data=st.binary(max_size=4200))
def test_decoder_raises_only_drop_packet(data: bytes) -> None:
    with contextlib.suppress(DropPacket):
        CODEC.decode(data)


def test_handlers_never_raise_and_the_worker_keeps_answering(worker: RunningWorker, factory: Any) -> None:
    with factory.begin() as session:
        make_service(session, login="maria", password="p")

    @FUZZ
    @given(
        ident=st.integers(0, 255),
        authenticator=st.binary(min_size=16, max_size=16),
        attrs=ATTRS,
        accounting=st.booleans(),
        garbage=st.binary(max_size=64),
        cut=st.integers(0, 4),
    )
    def one(
        ident: int,
        authenticator: bytes,
        attrs: list[tuple[int, bytes]],
        accounting: bool,
        garbage: bytes,
        cut: int,
    ) -> None:
        before = internal_errors()
        if accounting:
            datagram, handler = signed_accounting(ident, attrs), worker.worker.on_acct
        else:
            datagram, handler = signed_access(ident, authenticator, attrs), worker.worker.on_auth
        for variant in (datagram, datagram + garbage, datagram[: max(0, len(datagram) - cut)]):
            worker.call(handler, variant, ("127.0.0.1", 9))
        assert internal_errors() == before

    one()
    nas = rc.client(worker.auth_port, worker.acct_port, SECRET)
    assert rc.send(nas, rc.pap(nas, "maria", "p")).code == packet.AccessAccept
