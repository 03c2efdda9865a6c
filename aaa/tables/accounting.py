"""Accounting sessions and the authentication log (Extrato de Conexões, Log de Autenticações)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from aaa.db.base import Base, UtcDateTime, str_enum, utcnow


class ClosedBy(StrEnum):
    STOP = "stop"
    NAS_REBOOT = "nas_reboot"  # Accounting-On / Accounting-Off from the NAS
    TIMEOUT = "timeout"  # the reaper: no update for too long
    RECONCILE = "reconcile"  # the reconciler: the NAS no longer has it


class AcctSession(Base):
    """One PPP session as the NAS reported it. History is never deleted."""

    __tablename__ = "acct_session"
    __table_args__ = (
        # Acct-Session-Id is only unique per NAS, and MikroTik repeats it after a reboot: the
        # session being written has generation 0; one that a later Start replaced keeps its
        # own id there (see accounting.store).
        UniqueConstraint("nas_id", "acct_session_id", "login", "generation", name="uq_acct_session_key"),
        Index("ix_acct_session_login_start", "login", "start_time"),
        Index(
            "ix_acct_session_open",
            "nas_id",
            postgresql_where=text("stop_time IS NULL"),
            sqlite_where=text("stop_time IS NULL"),
        ),
        # Who is online at an address (the search box); the address does not change in an Interim.
        Index(
            "ix_acct_session_open_ip",
            "framed_ip",
            postgresql_where=text("stop_time IS NULL"),
            sqlite_where=text("stop_time IS NULL"),
        ),
        # No index on last_update, and room on each page: an Interim-Update is then a HOT
        # update on PostgreSQL, which writes no index entry (migration 0007).
        {"postgresql_with": {"fillfactor": 85}},
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    # No foreign keys, as on auth_log: checking them ran two queries at each Start, on the
    # cores the workers need (migration 0023). The NAS is the registered one the packet came
    # from, and one with history cannot be deleted; services never are.
    nas_id: Mapped[int] = mapped_column(Integer)
    acct_session_id: Mapped[str] = mapped_column(String(64))
    login: Mapped[str] = mapped_column(String(253))
    service_id: Mapped[int | None] = mapped_column(Integer)
    nas_port: Mapped[int | None] = mapped_column(BigInteger)
    nas_port_id: Mapped[str | None] = mapped_column(String(253))
    calling_station_id: Mapped[str | None] = mapped_column(String(64))
    framed_ip: Mapped[str | None] = mapped_column(String(45))
    framed_ipv6_prefix: Mapped[str | None] = mapped_column(String(49))
    delegated_ipv6_prefix: Mapped[str | None] = mapped_column(String(49))
    start_time: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # True while no Start has arrived: start_time is then an Interim's or Stop's event time
    # less its Acct-Session-Time. A Start's own time replaces it (see accounting.store).
    start_estimated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # 0 for the session the key names now; an earlier session of the same key (NAS,
    # Acct-Session-Id, login), closed before a new Start reused it, holds its own row id here.
    generation: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    # Set when this row took over a reused key: the stop of the session it replaced. Interims
    # and Stops that began before it are that session's late packets, not this one's.
    previous_stop: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_update: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    stop_time: Mapped[datetime | None] = mapped_column(UtcDateTime)
    session_time: Mapped[int] = mapped_column(BigInteger, default=0)
    input_octets: Mapped[int] = mapped_column(BigInteger, default=0)  # from the subscriber (upload)
    output_octets: Mapped[int] = mapped_column(BigInteger, default=0)  # to the subscriber (download)
    input_packets: Mapped[int] = mapped_column(BigInteger, default=0)
    output_packets: Mapped[int] = mapped_column(BigInteger, default=0)
    terminate_cause: Mapped[str | None] = mapped_column(String(32))
    closed_by: Mapped[ClosedBy | None] = mapped_column(str_enum(ClosedBy, "closed_by"))


class AuthResult(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"


class AuthLog(Base):
    __tablename__ = "auth_log"
    __table_args__ = (Index("ix_auth_log_login_time", "login", "time"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    time: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    # No foreign keys: each row is written once, by COPY, at the rate of Access-Requests, and
    # checking two references was most of PostgreSQL's work a row (migration 0022). A NAS
    # with history cannot be deleted (aaa.nas.service.delete_nas) and a service never is.
    nas_id: Mapped[int | None] = mapped_column(Integer)
    login: Mapped[str] = mapped_column(String(253))
    service_id: Mapped[int | None] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(16))
    mac: Mapped[str | None] = mapped_column(String(64))
    nas_port_id: Mapped[str | None] = mapped_column(String(253))
    result: Mapped[AuthResult] = mapped_column(str_enum(AuthResult, "auth_result"))
    reason: Mapped[str] = mapped_column(String(500), default="")
    mac_differs: Mapped[bool] = mapped_column(Boolean, default=False)
    interface_differs: Mapped[bool] = mapped_column(Boolean, default=False)
    # What an Access-Accept gave that enforcement may have to change later (aaa.policies.grant).
    granted: Mapped[dict[str, Any] | None] = mapped_column(JSON)
