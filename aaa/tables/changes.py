"""The change_event table."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from aaa.db.base import Base, UtcDateTime, utcnow


class ChangeKind(StrEnum):
    SERVICE = "service"  # key: login; the subscriber snapshot changed
    SESSION = "session"  # key: login; its open sessions changed, reload them
    # key: JSON [login, NAS id, Acct-Session-Id, Calling-Station-Id, NAS-Port-Id, start]: a
    # session opened; workers add it to the login's snapshot in place (aaa.changes.sessions)
    SESSION_OPEN = "session_open"
    SESSION_CLOSE = "session_close"  # key: JSON [login, NAS id, Acct-Session-Id]: it closed
    NAS = "nas"  # key: NAS id; the NAS registry changed
    # key: plan id; the plan changed: workers read the plans again and write the edit into
    # the plan object every snapshot on it shares (no snapshot is dropped)
    PLAN = "plan"
    # key: "<NAS id> <ISO time>": Accounting-On/Off closed the NAS's sessions started by then
    NAS_SESSIONS = "nas_sessions"
    TRACE = "trace"  # key: a radius_trace row id; workers start tracing what it names


class ChangeEvent(Base):
    __tablename__ = "change_event"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    keys: Mapped[str] = mapped_column(Text)  # one key per line: one row per kind and transaction


class RadiusTrace(Base):
    """A bounded debug trace (``aaa trace``): the workers write every request and reply of the
    matching NAS and login as text lines until ``until`` or ``max_packets``."""

    __tablename__ = "radius_trace"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    until: Mapped[datetime] = mapped_column(UtcDateTime)
    nas_id: Mapped[int | None] = mapped_column(ForeignKey("nas.id", ondelete="CASCADE"))
    login: Mapped[str | None] = mapped_column(String(253))
    max_packets: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(200), default="")


class RadiusTraceLine(Base):
    __tablename__ = "radius_trace_line"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    trace_id: Mapped[int] = mapped_column(ForeignKey("radius_trace.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    text: Mapped[str] = mapped_column(Text)
