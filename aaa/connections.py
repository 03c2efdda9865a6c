"""Connections across subscribers: who is online, the session history and the auth log, with
the filters a network engineer searches by (login, NAS, IP, IPv6 prefix, MAC, time), limited to
the operator's cities. Read-only; the kick button is aaa.enforcement.kick.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from aaa.db.paging import page
from aaa.errors import Invalid
from aaa.policies.decision import RejectReason
from aaa.subscribers.customers import Scope
from aaa.tables.accounting import AcctSession, AuthLog, AuthResult
from aaa.tables.subscribers import Customer, Service

_HEX = re.compile(r"[0-9A-Fa-f]")


@dataclass(frozen=True)
class SessionFilter:
    online: bool | None = None  # None: open and closed
    login: str | None = None  # exact, case-insensitive
    service_id: int | None = None
    nas_id: int | None = None
    ip: str | None = None  # Framed-IP-Address
    ipv6_prefix: str | None = None  # Framed-IPv6-Prefix or Delegated-IPv6-Prefix
    mac: str | None = None  # Calling-Station-Id in any common spelling
    started_after: datetime | None = None
    started_before: datetime | None = None


@dataclass(frozen=True)
class AuthFilter:
    login: str | None = None
    nas_id: int | None = None
    result: AuthResult | None = None
    reason: RejectReason | None = None
    mac: str | None = None
    mac_differs: bool | None = None
    interface_differs: bool | None = None
    since: datetime | None = None
    until: datetime | None = None


def mac_digits(value: str) -> str:
    """The 12 hex digits of a MAC in any spelling (AA:BB.., aa-bb-.., aabb.ccdd.eeff)."""
    digits = "".join(_HEX.findall(value)).upper()
    if len(digits) != 12:
        raise Invalid(f"mac {value!r} is not a MAC address (12 hex digits, e.g. AA:BB:CC:DD:EE:FF)")
    return digits


def mac_column(column: Any) -> ColumnElement[str]:
    """The column's MAC reduced to its hex digits, upper case, in SQL (both databases)."""
    return func.upper(func.replace(func.replace(func.replace(column, ":", ""), "-", ""), ".", ""))


def _address(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError as exc:
        raise Invalid(f"ip {value!r} is not an IP address") from exc


def _prefix(value: str) -> str:
    try:
        return ipaddress.ip_network(value.strip(), strict=False).compressed
    except ValueError as exc:
        raise Invalid(f"ipv6_prefix {value!r} is not an IPv6 prefix (e.g. 2001:db8:100::/56)") from exc


def _scoped(query: Select[Any], service_column: Any, scope: Scope) -> Select[Any]:
    """Rows of services in the operator's cities; rows of no service (a login nobody has) only
    for an operator without a city limit."""
    if scope.cities is None:
        return query
    return (
        query.join(Service, service_column == Service.id)
        .join(Customer, Service.customer_id == Customer.id)
        .where(scope.customers())
    )


def find_sessions(
    session: Session, scope: Scope, f: SessionFilter, *, limit: int, offset: int
) -> tuple[list[AcctSession], int]:
    """Sessions, the newest start first."""
    query = _scoped(select(AcctSession), AcctSession.service_id, scope)
    if f.online is not None:
        query = query.where(
            AcctSession.stop_time.is_(None) if f.online else AcctSession.stop_time.is_not(None)
        )
    if f.login:
        query = query.where(func.lower(AcctSession.login) == f.login.strip().lower())
    if f.service_id is not None:
        query = query.where(AcctSession.service_id == f.service_id)
    if f.nas_id is not None:
        query = query.where(AcctSession.nas_id == f.nas_id)
    if f.ip:
        query = query.where(AcctSession.framed_ip == _address(f.ip))
    if f.ipv6_prefix:
        prefix = _prefix(f.ipv6_prefix)
        query = query.where(
            or_(AcctSession.framed_ipv6_prefix == prefix, AcctSession.delegated_ipv6_prefix == prefix)
        )
    if f.mac:
        query = query.where(mac_column(AcctSession.calling_station_id) == mac_digits(f.mac))
    if f.started_after is not None:
        query = query.where(AcctSession.start_time >= f.started_after)
    if f.started_before is not None:
        query = query.where(AcctSession.start_time < f.started_before)
    newest = (AcctSession.start_time.desc().nulls_last(), AcctSession.id.desc())
    return page(session, query, newest, limit=limit, offset=offset)


def online_per_nas(session: Session, scope: Scope) -> dict[int, int]:
    """How many sessions are open on each NAS (the operator's cities only)."""
    counted: Any = select(AcctSession.nas_id, func.count())
    query = _scoped(counted, AcctSession.service_id, scope)
    query = query.where(AcctSession.stop_time.is_(None)).group_by(AcctSession.nas_id)
    return {nas_id: count for nas_id, count in session.execute(query)}


def find_auth_log(
    session: Session, scope: Scope, f: AuthFilter, *, limit: int, offset: int
) -> tuple[list[AuthLog], int]:
    """Access-Requests and their outcome, newest first."""
    query = _scoped(select(AuthLog), AuthLog.service_id, scope)
    if f.login:
        query = query.where(func.lower(AuthLog.login) == f.login.strip().lower())
    if f.nas_id is not None:
        query = query.where(AuthLog.nas_id == f.nas_id)
    if f.result is not None:
        query = query.where(AuthLog.result == f.result)
    if f.reason is not None:
        query = query.where(
            AuthLog.result == AuthResult.REJECT, AuthLog.reason.like(f"%reject: {f.reason.value}%")
        )
    if f.mac:
        query = query.where(mac_column(AuthLog.mac) == mac_digits(f.mac))
    if f.mac_differs is not None:
        query = query.where(AuthLog.mac_differs.is_(f.mac_differs))
    if f.interface_differs is not None:
        query = query.where(AuthLog.interface_differs.is_(f.interface_differs))
    if f.since is not None:
        query = query.where(AuthLog.time >= f.since)
    if f.until is not None:
        query = query.where(AuthLog.time < f.until)
    return page(session, query, AuthLog.id.desc(), limit=limit, offset=offset)


def get_session(session: Session, scope: Scope, row_id: int) -> AcctSession | None:
    """One session by its row id, if the operator's cities reach it."""
    return session.scalar(
        _scoped(select(AcctSession), AcctSession.service_id, scope).where(AcctSession.id == row_id)
    )
