"""RADIUS load generator over real UDP (loopback only), bounded in count and time.

Every datagram gets a fresh Request Authenticator (and so a fresh Message-Authenticator and
PAP hiding), so no server can answer it from its duplicate cache. Two modes:
  closed loop: keep ``window`` requests outstanding for ``seconds``; report replies/s;
  open loop:   send at a fixed ``rate`` for ``seconds``; report latency percentiles.
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import os
import random
import select
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aaa.radius import crypto

Builder = Callable[[int, bytes], bytes]  # (identifier, authenticator) -> datagram


def _attr(code: int, value: bytes) -> bytes:
    return bytes([code, len(value) + 2]) + value


def _vsa(vendor: int, vtype: int, value: bytes) -> bytes:
    return _attr(26, struct.pack("!IBB", vendor, vtype, len(value) + 2) + value)


def _finish_access(ident: int, authenticator: bytes, body: bytes, secret: bytes) -> bytes:
    """Message-Authenticator first (as RouterOS 7.15+ and radclient send it), then sign."""
    body = _attr(80, b"\x00" * 16) + body
    raw = struct.pack("!BBH", 1, ident, 20 + len(body)) + authenticator + body
    digest = hmac.new(secret, raw, hashlib.md5).digest()
    return raw[:22] + digest + raw[38:]


def _common(login: str, mac: str) -> bytes:
    return (
        _attr(1, login.encode())
        + _attr(4, bytes([127, 0, 0, 1]))
        + _attr(5, struct.pack("!I", 15))
        + _attr(61, struct.pack("!I", 15))
        + _attr(6, struct.pack("!I", 2))
        + _attr(7, struct.pack("!I", 1))
        + _attr(31, mac.encode())
        + _attr(87, b"ether2")
        + _attr(32, b"bench-bras")
    )


def pap_builder(users: list[tuple[str, str]], secret: bytes) -> Builder:
    rnd = random.Random(1)

    def build(ident: int, authenticator: bytes) -> bytes:
        login, password = users[rnd.randrange(len(users))]
        hidden = crypto.hide_password(password.encode(), secret, authenticator)
        return _finish_access(
            ident, authenticator, _common(login, "AA:BB:CC:00:00:01") + _attr(2, hidden), secret
        )

    return build


def sequential_pap_builder(users: list[tuple[str, str]], secret: bytes) -> Builder:
    """Each subscriber once, in order: a reconnect storm."""
    order = iter(users)

    def build(ident: int, authenticator: bytes) -> bytes:
        login, password = next(order)
        hidden = crypto.hide_password(password.encode(), secret, authenticator)
        return _finish_access(
            ident, authenticator, _common(login, "AA:BB:CC:00:00:01") + _attr(2, hidden), secret
        )

    return build


def accounting_on(secret: bytes) -> bytes:
    """A NAS that rebooted: Accounting-On (RFC 2866 status 7)."""
    body = _attr(40, struct.pack("!I", 7)) + _attr(4, bytes([127, 0, 0, 1])) + _attr(32, b"bench-bras")
    raw = struct.pack("!BBH", 4, 1, 20 + len(body)) + b"\x00" * 16 + body
    return raw[:4] + hashlib.md5(raw + secret).digest() + raw[20:]


def sequential_start_builder(users: list[tuple[str, str]], secret: bytes, prefix: str) -> Builder:
    """One Accounting-Start per subscriber, in order, session ids ``prefix`` + number."""
    order = iter(range(len(users)))

    def build(ident: int, authenticator: bytes) -> bytes:
        n = next(order)
        body = (
            _attr(40, struct.pack("!I", 1))
            + _attr(44, f"{prefix}{n:08x}".encode())
            + _common(users[n][0], "AA:BB:CC:00:00:01")
            + _attr(8, bytes([100, 64 + (n >> 16 & 63), n >> 8 & 255, n & 255]))
        )
        raw = struct.pack("!BBH", 4, ident, 20 + len(body)) + b"\x00" * 16 + body
        return raw[:4] + hashlib.md5(raw + secret).digest() + raw[20:]

    return build


def sequential_stop_builder(sessions: list[tuple[str, str, int]], secret: bytes) -> Builder:
    """An Accounting-Stop for each open session (login, Acct-Session-Id, subscriber number), in
    order, Terminate-Cause Lost-Carrier: a concentrator's interface flapped."""
    order = iter(sessions)

    def build(ident: int, authenticator: bytes) -> bytes:
        login, session_id, n = next(order)
        body = (
            _attr(40, struct.pack("!I", 2))
            + _attr(44, session_id.encode())
            + _common(login, "AA:BB:CC:00:00:01")
            + _attr(8, bytes([100, 64 + (n >> 16 & 63), n >> 8 & 255, n & 255]))
            + _attr(46, struct.pack("!I", 3600))
            + _attr(42, struct.pack("!I", 1_000_000))
            + _attr(43, struct.pack("!I", 9_000_000))
            + _attr(49, struct.pack("!I", 2))
        )
        raw = struct.pack("!BBH", 4, ident, 20 + len(body)) + b"\x00" * 16 + body
        return raw[:4] + hashlib.md5(raw + secret).digest() + raw[20:]

    return build


def wave_builder(users: list[tuple[str, str]], secret: bytes) -> Builder:
    """An accounting wave over ``users``: a Start for each, then an Interim-Update for each, then
    a Stop for each (3 x len(users) requests; session ids new to every wave). What a PPPoE
    concentrator sends as its subscribers connect and leave."""
    prefix = f"w{os.getpid():x}{random.Random().randrange(1 << 16):04x}"
    state = {"n": 0}

    def build(ident: int, authenticator: bytes) -> bytes:
        n = state["n"]
        state["n"] += 1
        kind, i = divmod(n, len(users))
        kind = min(kind, 2)
        body = (
            _attr(40, struct.pack("!I", (1, 3, 2)[kind]))
            + _attr(44, f"{prefix}{i:08x}".encode())
            + _common(users[i][0], "AA:BB:CC:00:00:01")
            + _attr(8, bytes([100, 64 + (i >> 16 & 63), i >> 8 & 255, i & 255]))
        )
        if kind:
            body += _attr(46, struct.pack("!I", 300 * kind)) + _attr(42, struct.pack("!I", 1000 * kind))
        if kind == 2:
            body += _attr(49, struct.pack("!I", 1))
        raw = struct.pack("!BBH", 4, ident, 20 + len(body)) + b"\x00" * 16 + body
        return raw[:4] + hashlib.md5(raw + secret).digest() + raw[20:]

    return build


def chap_builder(users: list[tuple[str, str]], secret: bytes) -> Builder:
    rnd = random.Random(2)

    def build(ident: int, authenticator: bytes) -> bytes:
        login, password = users[rnd.randrange(len(users))]
        challenge = os.urandom(16)
        response = hashlib.md5(b"\x01" + password.encode() + challenge).digest()
        body = _common(login, "AA:BB:CC:00:00:01") + _attr(3, b"\x01" + response) + _attr(60, challenge)
        return _finish_access(ident, authenticator, body, secret)

    return build


def mschap2_builder(users: list[tuple[str, str]], secret: bytes, pool: int = 2000) -> Builder:
    """MS-CHAP exchanges are precomputed (the NAS computes them, not the load generator's
    budget); the RADIUS authenticator and Message-Authenticator are still fresh per send."""
    rnd = random.Random(3)
    prepared = []
    for login, password in rnd.sample(users, min(pool, len(users))):
        auth_challenge, peer = os.urandom(16), os.urandom(16)
        nt = crypto.mschap2_nt_response(auth_challenge, peer, login.encode(), password)
        prepared.append(
            _common(login, "AA:BB:CC:00:00:01")
            + _vsa(311, 11, auth_challenge)
            + _vsa(311, 25, b"\x01\x00" + peer + b"\x00" * 8 + nt)
        )

    def build(ident: int, authenticator: bytes) -> bytes:
        return _finish_access(ident, authenticator, prepared[rnd.randrange(len(prepared))], secret)

    return build


def accounting_builder(users: list[tuple[str, str]], secret: bytes, lag: int = 1000) -> Builder:
    """A NAS's steady stream: each step starts a new session, sends an Interim-Update for the
    session started ``lag`` steps earlier and stops the one started ``2 * lag`` steps earlier."""
    state = {"n": 0}
    prefix = f"b{os.getpid():x}{random.Random().randrange(1 << 16):04x}"

    def build(ident: int, authenticator: bytes) -> bytes:
        n = state["n"]
        state["n"] += 1
        step, kind = divmod(n, 3)
        session = step - (0, lag, 2 * lag)[kind]
        if session < 0:  # the stream's first steps only start sessions, each its own
            session, kind = -(2 * step + kind), 0
        login = users[session % len(users)][0]
        body = (
            _attr(40, struct.pack("!I", (1, 3, 2)[kind]))
            + _attr(44, f"{prefix}{session:08x}".encode())
            + _common(login, "AA:BB:CC:00:00:01")
            + _attr(8, bytes([100, 64, session >> 8 & 255, session & 255]))
        )
        if kind:
            body += (
                _attr(46, struct.pack("!I", 300 * kind))
                + _attr(42, struct.pack("!I", 1000 * kind))
                + _attr(43, struct.pack("!I", 9000 * kind))
            )
        if kind == 2:
            body += _attr(49, struct.pack("!I", 1))
        raw = struct.pack("!BBH", 4, ident, 20 + len(body)) + b"\x00" * 16 + body
        signed = hashlib.md5(raw + secret).digest()  # RFC 2866 §3 Request Authenticator
        return raw[:4] + signed + raw[20:]

    return build


@dataclass
class Result:
    sent: int = 0
    answered: int = 0
    lost: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    codes: dict[int, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


class LoadGen:
    """Several source sockets (like several NAS ports), 256 identifiers each."""

    def __init__(self, port: int, build: Builder, sockets: int = 8, timeout: float = 2.0):
        self.port = port
        self.build = build
        self.timeout = timeout
        self.socks = []
        for _ in range(sockets):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            s.bind(("127.0.0.1", 0))
            s.setblocking(False)
            self.socks.append(s)
        self.poller = select.epoll()
        self.by_fd = {s.fileno(): i for i, s in enumerate(self.socks)}
        for s in self.socks:
            self.poller.register(s.fileno(), select.EPOLLIN)
        self.free = [(i, ident) for ident in range(256) for i in range(len(self.socks))]
        random.Random(5).shuffle(self.free)
        self.inflight: dict[tuple[int, int], float] = {}

    def _send_one(self, result: Result) -> None:
        slot = self.free.pop()
        sock_index, ident = slot
        datagram = self.build(ident, os.urandom(16))
        self.inflight[slot] = time.perf_counter()
        self.socks[sock_index].sendto(datagram, ("127.0.0.1", self.port))
        result.sent += 1

    def _receive(self, result: Result, wait: float) -> None:
        for fd, _ in self.poller.poll(wait):
            index = self.by_fd[fd]
            sock = self.socks[index]
            while True:
                try:
                    data = sock.recv(4096)
                except BlockingIOError:
                    break
                slot = (index, data[1])
                started = self.inflight.pop(slot, None)
                if started is None:
                    continue  # a late answer to a request already given up
                result.latencies.append(time.perf_counter() - started)
                result.answered += 1
                result.codes[data[0]] = result.codes.get(data[0], 0) + 1
                self.free.append(slot)

    def _expire(self, result: Result) -> None:
        now = time.perf_counter()
        for slot, started in list(self.inflight.items()):
            if now - started > self.timeout:
                del self.inflight[slot]
                self.free.append(slot)
                result.lost += 1

    def closed_loop(self, seconds: float, window: int = 256, limit: int | None = None) -> Result:
        """Keep ``window`` requests outstanding for ``seconds`` (or until ``limit`` were sent)."""
        result = Result()
        start = time.perf_counter()
        end, next_expire = start + seconds, start + 0.5
        while (now := time.perf_counter()) < end and (limit is None or result.sent < limit or self.inflight):
            while len(self.inflight) < window and self.free and (limit is None or result.sent < limit):
                self._send_one(result)
            self._receive(result, 0.01)
            if now > next_expire:
                self._expire(result)
                next_expire = now + 0.5
        result.seconds = time.perf_counter() - start
        self._drain(result)
        return result

    def open_loop(self, seconds: float, rate: float) -> Result:
        # The generator's own garbage collections would show as the server's latency.
        collecting = gc.isenabled()
        gc.collect()
        gc.disable()
        try:
            return self._open_loop(seconds, rate)
        finally:
            if collecting:
                gc.enable()

    def _open_loop(self, seconds: float, rate: float) -> Result:
        result = Result()
        start = time.perf_counter()
        interval = 1.0 / rate
        due = start
        while (now := time.perf_counter()) < start + seconds:
            while due <= now and self.free:
                self._send_one(result)
                due += interval
            self._receive(result, max(0.0, min(due - time.perf_counter(), 0.005)))
            self._expire(result)
        result.seconds = time.perf_counter() - start
        self._drain(result)
        return result

    def _drain(self, result: Result) -> None:
        deadline = time.perf_counter() + self.timeout
        while self.inflight and time.perf_counter() < deadline:
            self._receive(result, 0.05)
        result.lost += len(self.inflight)
        self.inflight.clear()

    def close(self) -> None:
        self.poller.close()
        for s in self.socks:
            s.close()
