"""The MikroTik RouterOS API (librouteros), as enforcement and the reconciler use it.

Blocking calls (librouteros is synchronous, one command at a time per connection): callers run
them in a thread. Every failure surfaces as ``RouterOsError`` with a sentence an operator can act
on (refused login, !trap text, unreachable).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import librouteros
from librouteros.exceptions import LibRouterosError
from librouteros.query import Key


class RouterOsError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class ActiveSession:
    """One row of /ppp/active."""

    id: str
    name: str
    address: str | None
    caller_id: str | None
    session_id: str | None


class RouterOs:
    def __init__(self, api: librouteros.api.Api):
        self.api = api

    def active(self, name: str | None = None) -> list[ActiveSession]:
        path = self.api.path("ppp", "active")
        query = path.select(Key(".id"), Key("name"), Key("address"), Key("caller-id"), Key("session-id"))
        rows = query.where(Key("name") == name) if name is not None else query
        return [
            ActiveSession(
                str(row[".id"]),
                str(row.get("name", "")),
                row.get("address"),
                row.get("caller-id"),
                row.get("session-id"),
            )
            for row in rows
        ]

    def kick(self, name: str) -> int:
        """Remove every active PPP session of ``name`` (the CPE redials and gets the new decision)."""
        ids = [row.id for row in self.active(name)]
        if ids:
            self.api.path("ppp", "active").remove(*ids)
        return len(ids)

    def list_add(self, list_name: str, address: str, comment: str) -> None:
        """Put ``address`` in the firewall address list (once)."""
        path = self.api.path("ip", "firewall", "address-list")
        present = path.select(Key(".id")).where(Key("list") == list_name, Key("address") == address)
        if not list(present):
            path.add(list=list_name, address=address, comment=comment)

    def list_remove(self, list_name: str, address: str) -> int:
        path = self.api.path("ip", "firewall", "address-list")
        ids = [
            str(row[".id"])
            for row in path.select(Key(".id")).where(Key("list") == list_name, Key("address") == address)
        ]
        if ids:
            path.remove(*ids)
        return len(ids)


@contextmanager
def connect(
    host: str,
    port: int,
    username: str,
    password: str,
    timeout: float,
    *,
    tls: bool = False,
    verify: bool = False,
    ca_file: str = "",
) -> Iterator[RouterOs]:
    """``tls``: RouterOS's api-ssl service (port 8729), so the login and every command travel
    encrypted; plain api (8728) sends the password in clear. ``verify`` checks the router's
    certificate against ``ca_file`` (or the system's CAs) and its address."""
    options: dict[str, Any] = {}
    if tls:
        context = ssl.create_default_context(cafile=ca_file or None)
        if not verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        options["ssl_wrapper"] = lambda sock: context.wrap_socket(sock, server_hostname=host)
    try:
        api = librouteros.connect(
            host, username, password, port=port, timeout=timeout, encoding="utf-8", **options
        )
    except (OSError, LibRouterosError) as exc:
        raise RouterOsError(f"RouterOS API {host}:{port}: {exc}") from exc
    try:
        yield RouterOs(api)
    except LibRouterosError as exc:
        raise RouterOsError(f"RouterOS API {host}:{port}: {exc}") from exc
    except OSError as exc:
        raise RouterOsError(f"RouterOS API {host}:{port}: connection lost: {exc}") from exc
    finally:
        api.close()
