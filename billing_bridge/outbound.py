"""One outbound HTTP POST to a webhook receiver: checked address, hard deadline, no redirects.

A receiver is somebody else's server, so each attempt must end on time and go only where it
may. The host is resolved at send time and every address it resolves to must be allowed (so
a name that later resolves to 127.0.0.1 or the cloud metadata address, DNS rebinding, is
refused), and the connection goes to the address that was checked. Loopback, private,
link-local (metadata), multicast and reserved addresses are refused unless
``billing.webhook_allowed_networks`` names them. The whole attempt (resolve aside: connect,
TLS, send, the status line) has one deadline, so a tarpit that trickles a byte every few
seconds costs one timeout, not forever. Only the status line is read; a redirect is an answer
like any other non-2xx and is never followed.

What a caller of the API sees of a failure is a category ("connection failed", "timed out",
"address not allowed", "not an HTTP answer", "HTTP 302 (redirects are not followed)"); the
socket-level detail goes to the log only.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from aaa.errors import Invalid

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Answer:
    code: int | None  # the HTTP status, None when there was none
    error: str | None  # for the delivery log (shown through the API): a category only
    detail: str | None = None  # for the server's log


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses a receiver may have: public ones, plus ``allowed``."""

    allowed: tuple[Network, ...] = ()

    @classmethod
    def of(cls, networks: Iterable[str]) -> AddressPolicy:
        return cls(tuple(ipaddress.ip_network(n, strict=False) for n in networks))

    def permits(self, address: Address) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if any(address in network for network in self.allowed):
            return True
        return not (
            address.is_private
            or address.is_loopback
            or address.is_link_local
            or address.is_multicast
            or address.is_reserved
            or address.is_unspecified
        )


PUBLIC_ONLY = AddressPolicy()


def check_url(url: str, policy: AddressPolicy) -> None:
    """Invalid unless ``url`` is http(s) with a host and a port that parses, and (when the host
    is an address, or a name that resolves now) every address it names is allowed."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Invalid(f"the webhook URL does not parse: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid("the webhook URL must be http:// or https:// with a host")
    if parts.username or parts.password:
        raise Invalid("the webhook URL must not carry credentials; the deliveries are signed")
    try:
        addresses = _resolve(parts.hostname, port or 443)
    except UnicodeError:
        raise Invalid(f"the webhook URL's host {parts.hostname!r} is not a valid host name") from None
    except OSError:
        return  # not resolvable now: every attempt checks again and is recorded
    refused = [str(a) for a in addresses if not policy.permits(a)]
    if refused:
        raise Invalid(
            f"the webhook URL points at {', '.join(refused)}, a loopback, private, link-local or "
            "reserved address; add it to billing.webhook_allowed_networks if that is intended"
        )


def post(url: str, body: bytes, headers: dict[str, str], deadline: float, policy: AddressPolicy) -> Answer:
    """POST ``body``; the answer's status, within ``deadline`` seconds from now."""
    ends = time.monotonic() + deadline
    parts = urlsplit(url)
    host = parts.hostname or ""
    secure = parts.scheme == "https"
    try:
        port = parts.port or (443 if secure else 80)
        addresses = _resolve(host, port)
    except (OSError, ValueError) as exc:  # UnicodeError (a name IDNA refuses) is a ValueError
        return Answer(None, "connection failed", f"cannot resolve {host}: {exc}")
    allowed = [a for a in addresses if policy.permits(a)]
    if not allowed or len(allowed) < len(addresses):
        return Answer(None, "address not allowed", f"{host} resolves to {', '.join(map(str, addresses))}")
    target = (str(allowed[0]), port)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    head = [f"POST {path} HTTP/1.1", f"Host: {parts.netloc.rsplit('@', 1)[-1]}", "Connection: close"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    head.append(f"Content-Length: {len(body)}")
    request = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
    sock: socket.socket | None = None
    try:
        sock = socket.create_connection(target, timeout=_left(ends))
        if secure:
            sock.settimeout(_left(ends))
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        sock.settimeout(_left(ends))
        sock.sendall(request)
        line = _status_line(sock, ends)
    except TimeoutError:
        return Answer(None, "timed out", f"no answer from {url} within {deadline:g} s")
    except (OSError, ssl.SSLError) as exc:
        return Answer(None, "connection failed", f"{url}: {type(exc).__name__}: {exc}")
    finally:
        if sock is not None:
            sock.close()
    fields = line.split(b" ", 2)
    if len(fields) < 2 or not fields[0].startswith(b"HTTP/1.") or not fields[1].isdigit():
        return Answer(None, "not an HTTP answer", f"{url} answered {line[:80]!r}")
    code = int(fields[1])
    if 200 <= code < 300:
        return Answer(code, None)
    if 300 <= code < 400:
        return Answer(code, f"HTTP {code} (redirects are not followed)")
    return Answer(code, f"HTTP {code}")


def _status_line(sock: socket.socket, ends: float) -> bytes:
    data = b""
    while b"\r\n" not in data and len(data) < 512:
        sock.settimeout(_left(ends))
        chunk = sock.recv(512)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n", 1)[0]


def _left(ends: float) -> float:
    left = ends - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left


def _resolve(host: str, port: int) -> list[Address]:
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in found))
