"""Replies in one system call (aaa.radius.sendmany) over real loopback sockets."""

from __future__ import annotations

import errno
import socket
from typing import Any

import pytest

from aaa.radius import sendmany
from aaa.radius.sendmany import Batch


def _receiver(family: int, host: str) -> socket.socket:
    rx = socket.socket(family, socket.SOCK_DGRAM)
    rx.bind((host, 0))
    rx.settimeout(2)
    return rx


@pytest.mark.parametrize(("family", "host"), [(socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")])
def test_a_batch_arrives_whole_and_in_order(family: int, host: str) -> None:
    assert sendmany._LIBC is not None, "Linux's C library has sendmmsg"
    rx, other = _receiver(family, host), _receiver(family, host)
    tx = socket.socket(family, socket.SOCK_DGRAM)
    failures: list[Any] = []
    batch = Batch(tx, lambda addr, exc: failures.append((addr, exc)), capacity=8)
    sent = [(bytes([i]) * (20 + i), (rx if i % 3 else other).getsockname()) for i in range(21)]
    full = [batch.add(data, addr) for data, addr in sent[:8]]
    assert full == [False] * 7 + [True]
    for data, addr in sent[8:]:
        batch.add(data, addr)
    assert len(batch) == 21
    batch.send()  # more than its capacity: sent in three calls
    assert len(batch) == 0 and failures == []
    got_rx = [rx.recvfrom(100)[0] for _ in range(14)]
    got_other = [other.recvfrom(100)[0] for _ in range(7)]
    assert got_rx == [d for i, (d, _) in enumerate(sent) if i % 3]
    assert got_other == [d for i, (d, _) in enumerate(sent) if not i % 3]
    for sock in (rx, other, tx):
        sock.close()


def test_a_refused_datagram_is_reported_and_the_rest_still_go() -> None:
    rx = _receiver(socket.AF_INET, "127.0.0.1")
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    failures: list[Any] = []
    batch = Batch(tx, lambda addr, exc: failures.append((addr, exc.errno)))
    target = rx.getsockname()
    batch.add(b"first", target)
    batch.add(b"x" * 70_000, target)  # larger than any UDP datagram: EMSGSIZE
    batch.add(b"port zero", ("127.0.0.1", 0))  # nobody can be sent to: EINVAL
    batch.add(b"last", target)
    batch.send()
    assert [rx.recvfrom(100)[0] for _ in range(2)] == [b"first", b"last"]
    assert [error for _, error in failures] == [errno.EMSGSIZE, errno.EINVAL]
    rx.close()
    tx.close()
