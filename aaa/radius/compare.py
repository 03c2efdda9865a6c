"""`aaa compare`: the same Access-Request to this server and to FreeRADIUS, for a sample of
logins, and what differs in the result and the reply attributes. For a cut-over: run both side
by side on the same data, compare, then point the NAS here.

Each request is built as a MikroTik would send it (User-Name, the credentials, NAS-IP-Address,
NAS-Port-Type Ethernet, Service-Type Framed, Framed-Protocol PPP, Calling-Station-Id,
Message-Authenticator) for PAP, CHAP or MS-CHAPv2. Replies are compared as sets of
(attribute, value); Mikrotik-Rate-Limit by the rates it means ("50M/100M" equals
"50000k/100000k"); Message-Authenticator, Proxy-State, the MS-CHAP success/MPPE keys (random
per request) and a reject's Reply-Message (this server explains rejects in words) are left out,
and so is what ``ignore`` names. A rate compares by what it means, whichever attributes carry it
("50M/100M" in Mikrotik-Rate-Limit equals Huawei's 100000000 down and 50000000 up).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass

from aaa.policies.ratelimit import RateLimit
from aaa.radius import crypto
from aaa.radius.codec import Codec

ACCEPT, REJECT = 2, 3
CODES = {2: "Access-Accept", 3: "Access-Reject", 11: "Access-Challenge"}
IGNORED = frozenset(
    {
        "Message-Authenticator",
        "Proxy-State",
        "MS-CHAP2-Success",
        "MS-MPPE-Send-Key",
        "MS-MPPE-Recv-Key",
        "MS-MPPE-Encryption-Policy",
        "MS-MPPE-Encryption-Types",
        "MS-CHAP-Error",
    }
)


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    secret: bytes


@dataclass(frozen=True)
class Difference:
    login: str
    method: str
    ours: str  # result and attributes as text
    theirs: str
    what: str  # "result" or "attributes"


def request(
    codec: Codec, secret: bytes, login: str, password: str, method: str, nas_ip: str
) -> tuple[int, bytes, bytes]:
    """(identifier, Request Authenticator, packet)."""
    identifier, authenticator = os.urandom(1)[0], os.urandom(16)
    attributes: list[tuple[str, object]] = [("User-Name", login)]
    if method == "pap":
        attributes.append(("User-Password", crypto.hide_password(password.encode(), secret, authenticator)))
    elif method == "chap":
        chap_id = os.urandom(1)[0]
        digest = hashlib.md5(bytes([chap_id]) + password.encode() + authenticator).digest()
        attributes.append(("CHAP-Password", bytes([chap_id]) + digest))
    elif method == "mschapv2":
        auth_challenge, peer_challenge = os.urandom(16), os.urandom(16)
        challenge = crypto.challenge_hash(peer_challenge, auth_challenge, login.encode())
        nt_response = crypto.challenge_response(challenge, crypto.nt_password_hash(password))
        attributes += [
            ("MS-CHAP-Challenge", auth_challenge),
            ("MS-CHAP2-Response", b"\x01\x00" + peer_challenge + b"\x00" * 8 + nt_response),
        ]
    else:
        raise ValueError(f"unknown method {method!r} (pap, chap, mschapv2)")
    attributes += [
        ("NAS-IP-Address", nas_ip),
        ("NAS-Port-Type", "Ethernet"),
        ("Service-Type", "Framed-User"),
        ("Framed-Protocol", "PPP"),
        ("Calling-Station-Id", "AA:BB:CC:DD:EE:FF"),
    ]
    return identifier, authenticator, codec.access_request(identifier, authenticator, secret, attributes)


def ask(server: Server, packet: bytes, identifier: int, timeout: float) -> bytes | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        for _ in range(3):
            sock.sendto(packet, (server.host, server.port))
            try:
                while True:
                    data, _ = sock.recvfrom(4096)
                    if len(data) >= 20 and data[1] == identifier:
                        return data
            except TimeoutError:
                continue
    return None


RATES = {
    "Huawei-Input-Average-Rate": "up",
    "Huawei-Output-Average-Rate": "down",
    "WISPr-Bandwidth-Max-Up": "up",
    "WISPr-Bandwidth-Max-Down": "down",
}


def normal(
    code: int | None, attributes: Iterable[tuple[str, str]], ignore: frozenset[str] = frozenset()
) -> tuple[str, frozenset[tuple[str, str]]]:
    """The result and the attributes that matter. A rate, whichever vendor's attributes carry it
    (the NAS's profile decides that here), becomes one ("rate", "download/upload" bit/s) item."""
    kept = set()
    rate: dict[str, str] = {}
    for name, value in attributes:
        if name in IGNORED or name in ignore or (code == REJECT and name == "Reply-Message"):
            continue
        if name == "Mikrotik-Rate-Limit":
            with contextlib.suppress(ValueError):  # kept as sent when it does not parse
                limit = RateLimit.parse(value)
                kept.add(("rate", f"{limit.tx_rate}/{limit.rx_rate}"))
                if limit.rx_burst_rate is not None:
                    kept.add(("rate bursts", RateLimit.render(limit).split(" ", 1)[1]))
                continue
        if name in RATES:
            rate[RATES[name]] = value
            continue
        kept.add((name, value))
    if rate:
        kept.add(("rate", f"{rate.get('down', '?')}/{rate.get('up', '?')}"))
    return CODES.get(code or 0, "no answer" if code is None else f"code {code}"), frozenset(kept)


def compare(
    codec: Codec,
    ours: Server,
    theirs: Server,
    cases: Iterable[tuple[str, str]],
    methods: Iterable[str] = ("pap",),
    *,
    nas_ip: str = "127.0.0.1",
    timeout: float = 2.0,
    ignore: Iterable[str] = (),
) -> tuple[int, list[Difference]]:
    """(requests compared, differences) for each (login, password) and method."""
    differences, count = [], 0
    skipped = frozenset(ignore)
    for login, password in cases:
        for method in methods:
            answers = []
            for server in (ours, theirs):
                identifier, _, packet = request(codec, server.secret, login, password, method, nas_ip)
                raw = ask(server, packet, identifier, timeout)
                answers.append(
                    normal(raw[0], codec.reply_attributes(raw), skipped) if raw else normal(None, ())
                )
            count += 1
            (our_code, our_attrs), (their_code, their_attrs) = answers
            if our_code != their_code or our_attrs != their_attrs:
                differences.append(
                    Difference(
                        login,
                        method,
                        f"{our_code} {sorted(our_attrs)}",
                        f"{their_code} {sorted(their_attrs)}",
                        "result" if our_code != their_code else "attributes",
                    )
                )
    return count, differences
