"""Test-side RADIUS client helpers: pyrad (the reference client library) and raw datagrams."""

from __future__ import annotations

import hashlib
import os
import socket
import struct
from typing import Any

from pyrad import packet
from pyrad.client import Client
from pyrad.dictionary import Dictionary

from aaa.radius import crypto
from aaa.settings import DEFAULT_DICTIONARY

DICTIONARY = Dictionary(str(DEFAULT_DICTIONARY))


def client(auth_port: int, acct_port: int, secret: str, timeout: float = 2.0) -> Client:
    c = Client(
        server="127.0.0.1",
        authport=auth_port,
        acctport=acct_port,
        secret=secret.encode(),
        dict=DICTIONARY,
        retries=1,
        timeout=timeout,
        enforce_ma=True,
    )
    return c


def access_request(c: Client, login: str, *, ma: bool = True, **attrs: Any) -> packet.AuthPacket:
    req = c.CreateAuthPacket(code=packet.AccessRequest, User_Name=login, message_authenticator=ma)
    req["NAS-IP-Address"] = "127.0.0.1"
    req["NAS-Port-Type"] = "Ethernet"
    req["Service-Type"] = "Framed-User"
    req["Framed-Protocol"] = "PPP"
    for key, value in attrs.items():
        req[key.replace("_", "-")] = value
    return req


def pap(c: Client, login: str, password: str, **attrs: Any) -> packet.AuthPacket:
    req = access_request(c, login, **attrs)
    req["User-Password"] = req.PwCrypt(password)
    return req


def chap(
    c: Client, login: str, password: str, challenge: bytes | None = None, **attrs: Any
) -> packet.AuthPacket:
    req = access_request(c, login, **attrs)
    ident = 7
    challenge = challenge or os.urandom(16)
    req["CHAP-Challenge"] = challenge
    req["CHAP-Password"] = (
        bytes([ident]) + hashlib.md5(bytes([ident]) + password.encode() + challenge).digest()
    )
    return req


def mschap2(
    c: Client, login: str, password: str, **attrs: Any
) -> tuple[packet.AuthPacket, bytes, bytes, bytes]:
    """Returns the request, the authenticator challenge, the peer challenge and the NT-Response."""
    req = access_request(c, login, **attrs)
    auth_challenge, peer_challenge = os.urandom(16), os.urandom(16)
    nt = crypto.mschap2_nt_response(auth_challenge, peer_challenge, login.encode(), password)
    req["MS-CHAP-Challenge"] = auth_challenge
    req["MS-CHAP2-Response"] = bytes([1, 0]) + peer_challenge + b"\x00" * 8 + nt
    return req, auth_challenge, peer_challenge, nt


def mschap1(c: Client, login: str, password: str, **attrs: Any) -> packet.AuthPacket:
    req = access_request(c, login, **attrs)
    challenge = os.urandom(8)
    nt = crypto.challenge_response(challenge, crypto.nt_password_hash(password))
    req["MS-CHAP-Challenge"] = challenge
    req["MS-CHAP-Response"] = bytes([1, 1]) + b"\x00" * 24 + nt
    return req


def accounting(
    c: Client, status: str, login: str = "", session_id: str = "", **attrs: Any
) -> packet.AcctPacket:
    req = c.CreateAcctPacket(Acct_Status_Type=status)
    req["NAS-IP-Address"] = "127.0.0.1"
    if login:
        req["User-Name"] = login
    if session_id:
        req["Acct-Session-Id"] = session_id
    for key, value in attrs.items():
        req[key.replace("_", "-")] = value
    return req


ACCOUNTING_ATTEMPTS = 3


def send(c: Client, req: packet.Packet) -> packet.Packet:
    """One exchange. Accounting is retransmitted as a NAS does (with Acct-Delay-Time, answered
    once by the server's duplicate detection): a first write on a loaded CI machine may outlast
    one timeout, and a test asserting an unanswered request uses an Access-Request."""
    if req.code != packet.AccountingRequest:
        return c.SendPacket(req)
    retries, c.retries = c.retries, max(c.retries, ACCOUNTING_ATTEMPTS)
    try:
        return c.SendPacket(req)
    finally:
        c.retries = retries


def raw_exchange(port: int, datagram: bytes, timeout: float = 0.5) -> bytes | None:
    """Send one datagram from a fresh source port; return the reply or None on silence."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(datagram, ("127.0.0.1", port))
        try:
            return sock.recv(8192)
        except TimeoutError:
            return None


def first_attribute_code(reply: bytes) -> int | None:
    return reply[20] if len(reply) > 20 else None


def header(code: int, ident: int, length: int, authenticator: bytes = b"\x00" * 16) -> bytes:
    return struct.pack("!BBH", code, ident, length) + authenticator
