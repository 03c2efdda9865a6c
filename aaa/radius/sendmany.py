"""Many UDP datagrams in one system call: Linux's sendmmsg, called through cffi's ABI mode
(the C library is opened at run time; nothing is compiled).

A worker answers many requests at one wake-up: a burst of Access-Requests read together, or
a group commit's Accounting-Responses. One sendto per reply costs a system call each, and
each may wake the NAS's socket reader again; one sendmmsg hands the kernel all of them.
Where sendmmsg is not available (not Linux, no C library found), ``Batch.send`` sends one
datagram at a time, as sendto did.
"""

from __future__ import annotations

import logging
import os
import socket
import struct
from collections.abc import Callable
from typing import Any

import cffi

log = logging.getLogger(__name__)
Address = tuple[Any, ...]  # (host, port) or (host, port, flowinfo, scope_id)

_ffi = cffi.FFI()
# The kernel's layout on 64- and 32-bit Linux alike (socklen_t is 32 bits; size_t is the word).
_ffi.cdef(
    """
    struct iovec { void *iov_base; size_t iov_len; };
    struct msghdr {
        void *msg_name; uint32_t msg_namelen; struct iovec *msg_iov; size_t msg_iovlen;
        void *msg_control; size_t msg_controllen; int msg_flags;
    };
    struct mmsghdr { struct msghdr msg_hdr; unsigned int msg_len; };
    int sendmmsg(int sockfd, struct mmsghdr *msgvec, unsigned int vlen, int flags);
    """
)


def _open_libc() -> Any:
    try:
        libc = _ffi.dlopen(None)
        libc.sendmmsg  # noqa: B018 - raises AttributeError where the C library has none
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _open_libc()
_NAMES_MAX = 4096  # sockaddrs kept (a NAS sends from a few ports; a flood of sources is cut)


def _sockaddr(addr: Address) -> bytes:
    """The C sockaddr of a Python socket address (IPv4 or IPv6, as recvfrom gives it)."""
    if len(addr) == 2:  # sockaddr_in: family (host order), port, address, zeros
        family = struct.pack("=H", socket.AF_INET)
        return family + struct.pack("!H4s8x", addr[1], socket.inet_aton(addr[0]))
    host, port, flowinfo, scope_id = addr  # sockaddr_in6: the scope id in host order
    packed = socket.inet_pton(socket.AF_INET6, host.partition("%")[0])
    family = struct.pack("=H", socket.AF_INET6)
    return family + struct.pack("!HI16s", port, flowinfo, packed) + struct.pack("=I", scope_id)


class Batch:
    """Datagrams waiting to go out on one socket, sent by ``send`` in one system call.

    ``failed(addr, error)`` is told of each datagram the kernel would not take (a full send
    buffer, a route gone); the others are sent regardless. Used from one thread (the event
    loop's)."""

    def __init__(self, sock: socket.socket, failed: Callable[[Address, OSError], None], capacity: int = 64):
        self._sock = sock
        self._failed = failed
        self.capacity = capacity
        self._waiting: list[tuple[bytes, Address]] = []
        self._names: dict[Address, Any] = {}
        if _LIBC is not None:
            self._messages = _ffi.new("struct mmsghdr[]", capacity)
            self._vectors = _ffi.new("struct iovec[]", capacity)
            for i in range(capacity):
                self._messages[i].msg_hdr.msg_iov = self._vectors + i
                self._messages[i].msg_hdr.msg_iovlen = 1

    def __len__(self) -> int:
        return len(self._waiting)

    def add(self, data: bytes, addr: Address) -> bool:
        """Queue one datagram; True when the batch is full (send it)."""
        self._waiting.append((data, addr))
        return len(self._waiting) >= self.capacity

    def send(self) -> None:
        waiting, self._waiting = self._waiting, []
        if not waiting:
            return
        if _LIBC is None or len(waiting) == 1:
            for data, addr in waiting:
                self._send_one(data, addr)
            return
        for start in range(0, len(waiting), self.capacity):
            self._send_many(waiting[start : start + self.capacity])

    def _send_one(self, data: bytes, addr: Address) -> None:
        try:
            self._sock.sendto(data, addr)
        except OSError as exc:
            self._failed(addr, exc)

    def _send_many(self, waiting: list[tuple[bytes, Address]]) -> None:
        messages, vectors, names = self._messages, self._vectors, self._names
        buffers = []  # each keeps its datagram's memory alive until the call returns
        addresses: list[Address] = []
        count = 0
        for data, addr in waiting:
            name = names.get(addr)
            if name is None:
                try:
                    name = _ffi.new("char[]", _sockaddr(addr))
                except (OSError, ValueError, struct.error, TypeError):
                    self._send_one(data, addr)  # an address this module cannot spell: the socket can
                    continue
                if len(names) >= _NAMES_MAX:
                    names.clear()
                names[addr] = name
            buffer = _ffi.from_buffer(data)
            buffers.append(buffer)
            vectors[count].iov_base = buffer
            vectors[count].iov_len = len(data)
            header = messages[count].msg_hdr
            header.msg_name = name
            header.msg_namelen = len(name) - 1  # char[] from bytes counts a terminating NUL
            addresses.append(addr)
            count += 1
        fd = self._sock.fileno()
        sent = 0
        while sent < count:
            done = _LIBC.sendmmsg(fd, messages + sent, count - sent, 0)
            if done < 0:  # the datagram at ``sent`` was refused: report it, go on after it
                error = _ffi.errno
                self._failed(addresses[sent], OSError(error, os.strerror(error)))
                sent += 1
            else:
                sent += done
