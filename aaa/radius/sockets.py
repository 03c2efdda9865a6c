"""UDP sockets shared by the worker processes (SO_REUSEPORT), and how datagrams are spread.

By default the kernel picks a worker by hashing the source address and port, which puts a
whole NAS on one core. A classic BPF program attached to the group picks the worker from
the first four octets of the Request Authenticator instead: random per request, identical
for a retransmission, so both cores work and a retransmission meets its reply cache.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import socket
import struct
from collections.abc import Callable, Sequence

from aaa import metrics
from aaa.radius.codec import MAX_PACKET
from aaa.radius.sendmany import Batch

log = logging.getLogger(__name__)
Address = tuple[str, int]

SO_ATTACH_REUSEPORT_CBPF = 51
_BPF_LD_W_ABS = 0x20  # A = u32 at payload offset k (the UDP header is already pulled)
_BPF_ALU_MOD_K = 0x94  # A %= k
_BPF_RET_A = 0x16  # return A: index of the socket in the group


def bind_udp(host: str, port: int, reuse_port: bool = True, rcvbuf: int = 4 << 20) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.bind((host, port))
    sock.setblocking(False)
    return sock


def steer_by_authenticator(sock: socket.socket, workers: int) -> bool:
    """Attach the steering program to the socket's group; False where the kernel refuses."""
    if workers < 2:
        return True
    program = [(_BPF_LD_W_ABS, 0, 0, 4), (_BPF_ALU_MOD_K, 0, 0, workers), (_BPF_RET_A, 0, 0, 0)]
    filters = b"".join(struct.pack("HBBI", *insn) for insn in program)
    buffer = ctypes.create_string_buffer(filters)
    fprog = struct.pack("HL", len(program), ctypes.addressof(buffer))
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, fprog)
    except OSError:
        return False
    return True


class DatagramPort:
    """A UDP socket served on the event loop. Every datagram already queued is read at one
    wake-up (asyncio's datagram transport reads one per loop pass: under load, a pass and an
    epoll call per request). Replies wait in a batch (aaa.radius.sendmany) that goes out in
    one system call at the end of the wake-up, or once it holds ``batch`` replies, or at the
    loop's next turn for a reply sent from elsewhere (a commit's answers, a delayed reject).
    A reply the kernel will not take is dropped and counted; the NAS retransmits and meets the
    reply cache."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sock: socket.socket,
        handle: Callable[[bytes, Address], None],
        burst: int = 64,
        batch: int = 16,
    ):
        self._loop = loop
        self._sock = sock
        self._handle = handle
        self._burst = burst  # then other callbacks (replies, timers) get their turn
        self._replies = Batch(sock, _not_sent, capacity=batch)
        self._flush_due = False
        self.closed = False
        loop.add_reader(sock.fileno(), self._readable)

    def _readable(self) -> None:
        recvfrom = self._sock.recvfrom
        try:
            for _ in range(self._burst):
                try:
                    # One octet more than a RADIUS packet may have, so an oversized one shows.
                    data, addr = recvfrom(MAX_PACKET + 1)
                except (BlockingIOError, InterruptedError):
                    return
                except OSError as exc:  # an ICMP error from an earlier send, reported here
                    log.debug("UDP receive error: %s", exc)
                    continue
                self._handle(data, addr)
        finally:
            self.flush()

    def sendto(self, data: bytes, addr: Address) -> None:
        if self.closed:
            return
        if self._replies.add(data, addr):
            self._replies.send()
        elif not self._flush_due:
            self._flush_due = True
            self._loop.call_soon(self.flush)

    def flush(self) -> None:
        """Send the replies waiting now."""
        self._flush_due = False
        if not self.closed:
            self._replies.send()

    def close(self) -> None:
        if not self.closed:
            self.flush()
            self.closed = True
            self._loop.remove_reader(self._sock.fileno())
            self._sock.close()


def _not_sent(addr: Address, exc: OSError) -> None:
    """The send buffer is full, or the route is gone."""
    metrics.child(metrics.RADIUS_DROPPED, "reply_not_sent").inc()
    log.debug("UDP reply to %s not sent: %s", addr[0], exc)


class PortTaken(Exception):
    """Another instance or program holds a port this node must own."""


def claim_ports(ports: Sequence[tuple[str, int, int]]) -> list[socket.socket]:
    """Own every (host, port, socket type) before any worker binds, or raise PortTaken naming it.

    Workers bind with SO_REUSEPORT, so a second instance would silently join the group and take
    part of the traffic. Each port is claimed with an abstract Unix socket named after it (held
    for the node's life: a second instance fails to bind the same name, even when both start
    at once), then probed with a bind without SO_REUSEPORT (which fails while anyone, another
    program included, holds the port). Port 0 means "any" and is not claimed. Returns the lock
    sockets: keep them open.
    """
    held: list[socket.socket] = []
    try:
        for host, port, kind in ports:
            if port == 0:
                continue
            proto = "udp" if kind == socket.SOCK_DGRAM else "tcp"
            lock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            try:
                lock.bind(f"\0isp-aaa:{proto}:{host}:{port}")
            except OSError:
                lock.close()
                raise PortTaken(
                    f"{proto} {host}:{port} is held by another isp-aaa instance on this host; stop it first"
                ) from None
            held.append(lock)
            probe = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, kind)
            try:
                probe.bind((host, port))
            except OSError as exc:
                raise PortTaken(
                    f"{proto} {host}:{port} cannot be bound: {exc.strerror} (another program?)"
                ) from None
            finally:
                probe.close()
    except PortTaken:
        for lock in held:
            lock.close()
        raise
    return held
