"""UDP sockets shared by the worker processes (SO_REUSEPORT), and how datagrams are spread.

By default the kernel picks a worker by hashing the source address and port, which puts a
whole NAS on one core. A classic BPF program attached to the group picks the worker from
the first four octets of the Request Authenticator instead: random per request, identical
for a retransmission, so both cores work and a retransmission meets its reply cache.
"""

from __future__ import annotations

import ctypes
import socket
import struct

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
