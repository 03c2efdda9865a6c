"""The attendant's search box: one query over customers (name, CPF/CNPJ, phone, e-mail), services
(PPPoE login, MAC, fixed or leased IP) and online sessions (IP, MAC), limited to the operator's
cities, each result typed so a screen can open it.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from aaa.connections import mac_column, mac_digits
from aaa.errors import Invalid
from aaa.subscribers.customers import Scope, matches
from aaa.tables.accounting import AcctSession
from aaa.tables.ipam import IpAssignment
from aaa.tables.subscribers import Customer, Service
from aaa.vocabulary.search import only_digits

Kind = Literal["customer", "service", "session"]
_MAC_CHARS = re.compile(r"[0-9A-Fa-f:.\-]+")


@dataclass(frozen=True)
class Hit:
    kind: Kind
    id: int
    label: str  # what a result list shows first
    detail: str  # and beside it
    customer_id: int | None
    service_id: int | None
    why: str  # which field matched


def _like(text: str) -> str:
    """``text`` matched literally by LIKE (its % and _ escaped)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _ip(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _mac(text: str) -> str | None:
    """A MAC in any spelling (AA:BB.., aa-bb.., aabb.ccdd.eeff, 12 hex digits); twelve bare
    decimal digits are a phone number (55 + DDD + number), not a MAC."""
    if not _MAC_CHARS.fullmatch(text):
        return None
    separated = any(sep in text for sep in ":-.")
    if not separated and (len(text) != 12 or text.isdigit()):
        return None
    try:
        digits = mac_digits(text)
    except Invalid:
        return None
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def search(
    session: Session,
    scope: Scope,
    text: str,
    *,
    limit: int = 20,
    services: bool = True,
    sessions: bool = True,
) -> list[Hit]:
    """Typed results, the most specific first: an address or a MAC finds services and sessions,
    a login finds its service, anything finds customers by name, document, phone or e-mail.
    ``services`` / ``sessions``: whether the operator may see those kinds."""
    query = text.strip()
    if len(query) < 2:
        raise Invalid("type at least 2 characters to search")
    if len(query) > 200:
        raise Invalid("a search is at most 200 characters")
    hits: list[Hit] = []
    scoped_services = (
        select(Service, Customer.name)
        .join(Customer, Service.customer_id == Customer.id)
        .where(scope.customers())
    )
    address, mac = _ip(query), _mac(query)
    if services:
        seen: set[int] = set()
        # One indexed lookup each (an OR of them scans the table).
        lookups = [
            ("login", func.lower(Service.login) == query.lower()),
            ("former login", Service.former_login == query),
        ]
        if address:
            held = select(IpAssignment.service_id).where(
                IpAssignment.address == address, IpAssignment.released_at.is_(None)
            )
            lookups = [("address", Service.id.in_(held))]
        elif mac:
            lookups = [("MAC", Service.mac == mac)]
        else:  # a login's beginning (PostgreSQL: a text_pattern_ops index, migration 0014)
            lookups.append(("login", func.lower(Service.login).like(f"{_like(query.lower())}%", escape="\\")))
        for why, condition in lookups:
            rows = session.execute(scoped_services.where(condition).order_by(Service.login).limit(limit))
            for service, owner in rows:
                if service.id in seen or len(seen) >= limit:
                    continue
                seen.add(service.id)
                label = service.login or service.former_login or f"service {service.id}"
                detail = f"{owner} · {service.status.value}"
                hits.append(Hit("service", service.id, label, detail, service.customer_id, service.id, why))
    if sessions and (address or mac):
        open_sessions = (
            select(AcctSession, Service.customer_id)
            .join(Service, AcctSession.service_id == Service.id)
            .join(Customer, Service.customer_id == Customer.id)
            .where(AcctSession.stop_time.is_(None), scope.customers())
        )
        if address:
            open_sessions = open_sessions.where(
                or_(AcctSession.framed_ip == address, AcctSession.delegated_ipv6_prefix.like(f"{address}/%"))
            )
        else:
            assert mac is not None
            open_sessions = open_sessions.where(
                mac_column(AcctSession.calling_station_id) == mac.replace(":", "")
            )
        for row, customer_id in session.execute(open_sessions.limit(limit)):
            hits.append(
                Hit(
                    "session",
                    row.id,
                    row.login,
                    f"online since {row.start_time:%d/%m/%Y %H:%M}" if row.start_time else "online",
                    customer_id,
                    row.service_id,
                    "address" if address else "MAC",
                )
            )
    if not address and not mac:
        customers = (
            select(Customer).where(scope.customers(), matches(query)).order_by(Customer.name).limit(limit)
        )
        for customer in session.scalars(customers):
            digits = only_digits(query)
            why = (
                "document"
                if digits and customer.document and digits in customer.document
                else "name, phone or e-mail"
            )
            hits.append(
                Hit(
                    "customer",
                    customer.id,
                    customer.name,
                    customer.trade_name or customer.kind.value,
                    customer.id,
                    None,
                    why,
                )
            )
    return hits[:limit]
