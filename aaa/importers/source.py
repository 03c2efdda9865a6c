"""What an import brings, whatever it came from: plain records the readers fill and ``apply``
writes. Each has a ``key`` (its identity in the source) and a ``fingerprint`` (its content: a
re-run skips a row whose fingerprint did not change)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal


def fingerprint(record: object) -> str:
    """The record's content: its repr names every field in order (frozen dataclasses of plain
    values, tuples, Decimals and dates, so the same content always reads the same)."""
    return hashlib.sha256(repr(record).encode()).hexdigest()


@dataclass(frozen=True)
class SourceNas:
    key: str
    name: str
    address: str
    secret: str
    vendor: str
    description: str = ""


@dataclass(frozen=True)
class SourcePlan:
    key: str
    name: str
    download_kbps: int
    upload_kbps: int
    burst_download_kbps: int | None = None
    burst_upload_kbps: int | None = None
    burst_threshold_download_kbps: int | None = None
    burst_threshold_upload_kbps: int | None = None
    burst_time_s: int | None = None
    price: Decimal | None = None
    reply_attributes: tuple[tuple[str, str, str], ...] = ()  # (attribute, op, value)
    rate_op: str = ":="  # the FreeRADIUS operator of the group's rate


@dataclass(frozen=True)
class SourcePool:
    key: str
    name: str
    cidrs: tuple[str, ...]


@dataclass(frozen=True)
class SourceCustomer:
    key: str
    name: str
    document: str | None = None
    kind: str = "person"
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    address: tuple[tuple[str, str], ...] = ()  # (field, value) of the registration address


@dataclass(frozen=True)
class SourceService:
    key: str  # the login
    customer_key: str
    plan_key: str | None
    password: str | None
    password_scheme: str = "cleartext"
    status: str = "enabled"
    simultaneous_use: int = 1
    mac: str | None = None
    fixed_ipv4: str | None = None
    fixed_routes: tuple[str, ...] = ()  # Framed-Route blocks (CIDR)
    fixed_ipv6: tuple[str, ...] = ()  # Framed-IPv6-Prefix / Delegated-IPv6-Prefix
    custom_speed: tuple[int, int] | None = None  # download, upload kbit/s (a per-login rate)
    reply_attributes: tuple[tuple[str, str, str], ...] = ()
    due_day: int | None = None
    billing_method: str | None = None
    price: Decimal | None = None


@dataclass(frozen=True)
class SourceSession:
    key: str  # nas address + acct session id
    login: str
    nas_address: str
    acct_session_id: str
    start_time: datetime
    stop_time: datetime | None = None
    last_update: datetime | None = None
    framed_ip: str | None = None
    calling_station_id: str | None = None
    nas_port_id: str | None = None
    input_octets: int = 0
    output_octets: int = 0
    session_time: int = 0


@dataclass(frozen=True)
class SourceCharge:
    key: str
    login: str
    due_date: date
    amount: Decimal
    description: str = ""


@dataclass(frozen=True)
class Problem:
    """A source row that cannot be imported as it is, and why."""

    kind: str
    key: str
    reason: str


@dataclass
class Source:
    """Everything a reader found, in the order ``apply`` writes it."""

    name: str  # identifies the source for the links (e.g. "freeradius:host/db")
    nas: list[SourceNas] = field(default_factory=list)
    pools: list[SourcePool] = field(default_factory=list)
    plans: list[SourcePlan] = field(default_factory=list)
    customers: list[SourceCustomer] = field(default_factory=list)
    services: list[SourceService] = field(default_factory=list)
    sessions: list[SourceSession] = field(default_factory=list)
    charges: list[SourceCharge] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # found while reading
    notes: list[Problem] = field(default_factory=list)  # imported, with something left out
