"""Imports from the systems an ISP leaves (FreeRADIUS SQL, ERP CSV exports): each run, and the
link from every source row to what it became, which makes a re-run change nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from aaa.db.base import Base, UtcDateTime, utcnow


class ImportRun(Base):
    __tablename__ = "import_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # freeradius, erp_csv
    source: Mapped[str] = mapped_column(String(300))  # the URL with its password masked, or a file name
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="running")  # running, done, failed
    actor: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    stage: Mapped[str] = mapped_column(String(20), default="")
    done: Mapped[int] = mapped_column(Integer, default=0)  # rows of the stage processed
    total: Mapped[int] = mapped_column(Integer, default=0)
    checkpoint: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)  # stage → rows committed
    counts: Mapped[dict[str, dict[str, int]]] = mapped_column(JSON, default=dict)  # kind → action → n
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # every row not simply created
    error: Mapped[str | None] = mapped_column(Text)


class ImportLink(Base):
    """A source row (per source, kind and key) and the object it became, with a fingerprint of
    the row as last imported: an unchanged row is skipped, a changed one updates the object."""

    __tablename__ = "import_link"

    # The key leads the primary key: a chunk's lookup (key IN …) is then an index scan whatever
    # the planner believes of the table's size while an import is filling it.
    key: Mapped[str] = mapped_column(String(253), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    source: Mapped[str] = mapped_column(String(200), primary_key=True)
    target_id: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64))
