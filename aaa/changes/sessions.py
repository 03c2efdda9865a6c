"""Session changes that carry the session itself, so every worker updates the login's open
sessions in its snapshot in place instead of dropping the snapshot: PPPoE sessions start and
stop all day, and a dropped snapshot costs a database load at the subscriber's next request.

Keys are compact JSON arrays (no raw newline can appear in one, and the feed joins keys with
newlines). The accounting merge builds the same arrays in SQL (``json_build_array``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from aaa.policies.inputs import OpenSession
from aaa.tables.changes import ChangeKind

_COMPACT = (",", ":")


def opened_key(
    login: str,
    nas_id: int,
    acct_session_id: str,
    calling_station_id: str | None,
    nas_port_id: str | None,
    start_time: datetime | None,
) -> str:
    start = start_time.isoformat() if start_time is not None else None
    return json.dumps(
        [login, nas_id, acct_session_id, calling_station_id, nas_port_id, start], separators=_COMPACT
    )


def closed_key(login: str, nas_id: int, acct_session_id: str) -> str:
    return json.dumps([login, nas_id, acct_session_id], separators=_COMPACT)


def session_closed(login: str, nas_id: int, acct_session_id: str) -> tuple[str, str]:
    """The change that a session closed (a Stop, the reaper, the reconciler)."""
    return ChangeKind.SESSION_CLOSE.value, closed_key(login, nas_id, acct_session_id)


def read_opened(key: str) -> tuple[str, OpenSession]:
    return opened_from(json.loads(key))


def read_closed(key: str) -> tuple[str, int, str]:
    return closed_from(json.loads(key))


def read_keys(keys: list[str]) -> list[list[Any]]:
    """Many session keys in one parse: changes come by the batch (a merge's, a feed poll's), and
    one call into the JSON parser a key was most of applying them."""
    return json.loads("[" + ",".join(keys) + "]") if keys else []


def opened_from(fields: list[Any]) -> tuple[str, OpenSession]:
    """A parsed opened key (``read_keys``)."""
    login, nas_id, sid, mac, port, start = fields
    return login, OpenSession(nas_id, sid, mac, port, datetime.fromisoformat(start) if start else None)


def closed_from(fields: list[Any]) -> tuple[str, int, str]:
    """A parsed closed key (``read_keys``)."""
    login, nas_id, sid = fields
    return login, nas_id, sid


def login_of(kind: str, key: str) -> str | None:
    """The login a session change is about (None: not a session change)."""
    if kind == ChangeKind.SESSION:
        return key
    if kind in (ChangeKind.SESSION_OPEN, ChangeKind.SESSION_CLOSE):
        return str(json.loads(key)[0])
    return None
