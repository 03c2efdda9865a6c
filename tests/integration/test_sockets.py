"""The steering program: one NAS (one source port) still reaches every worker socket."""

from __future__ import annotations

import os
import select
import socket
from collections import Counter

from aaa.radius.sockets import bind_udp, steer_by_authenticator


def test_requests_from_one_source_are_spread_and_retransmissions_stick() -> None:
    first = bind_udp("127.0.0.1", 0)
    port = first.getsockname()[1]
    second = bind_udp("127.0.0.1", port)
    assert steer_by_authenticator(first, 2)
    counts: Counter[int] = Counter()
    landed: dict[bytes, int] = {}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as nas:
        for i in range(200):
            datagram = bytes([1, i % 256, 0, 20]) + os.urandom(16)
            for _ in range(2):  # the original and its retransmission
                nas.sendto(datagram, ("127.0.0.1", port))
                ready, _, _ = select.select([first, second], [], [], 1)
                sock = ready[0]
                assert sock.recv(100) == datagram
                index = 0 if sock is first else 1
                assert landed.setdefault(datagram, index) == index
                counts[index] += 1
    assert counts[0] > 100 and counts[1] > 100, counts
    first.close()
    second.close()
