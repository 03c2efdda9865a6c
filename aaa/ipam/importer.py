"""Bringing existing fixed IPs in: from CSV (login,address) or a FreeRADIUS ``radreply`` table.

A row that conflicts (unknown login, no subnet, address held by someone else, service already
has one) is reported and skipped, never overwritten: every check runs before anything is written.
A dry run is the same import rolled back by the caller.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from aaa.errors import DomainError, Invalid
from aaa.ipam.assignments import assign_fixed, fixed_of
from aaa.tables.subscribers import Service

Row = tuple[int, str, str]  # line number, login, address


@dataclass
class ImportReport:
    imported: list[tuple[str, str]] = field(default_factory=list)
    unchanged: list[tuple[str, str]] = field(default_factory=list)  # already assigned exactly so
    conflicts: list[tuple[int, str, str, str]] = field(default_factory=list)  # line, login, address, why


def import_fixed(session: Session, rows: Iterable[Row], now: datetime) -> ImportReport:
    report = ImportReport()
    for line, login, address in rows:
        service = session.scalar(select(Service).where(Service.login == login))
        if service is None:
            report.conflicts.append((line, login, address, f"no service has login {login!r}"))
            continue
        if any(row.address == address for row in fixed_of(session, service.id)):
            report.unchanged.append((login, address))
            continue
        try:
            assign_fixed(session, service, address=address, note="imported", now=now)
        except DomainError as exc:
            report.conflicts.append((line, login, address, str(exc)))
        else:
            report.imported.append((login, address))
    return report


def read_csv(content: str) -> list[Row]:
    """Columns ``login`` and ``address`` (comma or semicolon separated, header required)."""
    try:
        dialect: Any = csv.Sniffer().sniff(content[:2048], delimiters=",;")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(content), dialect=dialect)
    missing = {"login", "address"} - set(reader.fieldnames or ())
    if missing:
        raise Invalid(
            f"the CSV header must name the columns login and address (missing: {', '.join(sorted(missing))})"
        )
    return [
        (number, (r["login"] or "").strip(), (r["address"] or "").strip())
        for number, r in enumerate(reader, 2)
    ]


def read_radreply(url: str, table: str = "radreply") -> list[Row]:
    """Framed-IP-Address rows of a FreeRADIUS SQL ``radreply`` table (any SQLAlchemy URL)."""
    if not table.isidentifier():
        raise Invalid(f"{table!r} is not a table name")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(f"SELECT id, username, value FROM {table} WHERE attribute = :a ORDER BY id"),
                {"a": "Framed-IP-Address"},
            ).all()
    finally:
        engine.dispose()
    return [(int(row_id), str(login).strip(), str(value).strip()) for row_id, login, value in rows]
