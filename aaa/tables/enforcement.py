"""The enforcement outbox and the record of every attempt to apply it on a NAS."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from aaa.db.base import Base, UtcDateTime, str_enum, utcnow


class EnforcementState(StrEnum):
    PENDING = "pending"  # waiting for its next_attempt_at
    RUNNING = "running"  # claimed by an enforcer until claimed_until
    DONE = "done"
    FAILED = "failed"  # every method and every retry failed; the reconciler tries again later


class Method(StrEnum):
    COA = "coa"  # RFC 5176 CoA-Request
    DISCONNECT = "disconnect"  # RFC 5176 Disconnect-Request
    API_KICK = "api_kick"  # RouterOS /ppp/active remove: the re-login gets the new decision
    API_ADDRESS_LIST = "api_address_list"  # RouterOS /ip/firewall/address-list add/remove
    NONE = "none"  # nothing to send


class Result(StrEnum):
    ACK = "ack"
    NAK = "nak"
    TIMEOUT = "timeout"
    ERROR = "error"  # the method could not run (API refused the login, !trap, no route...)
    IN_SYNC = "in_sync"  # the session already has what the decision gives
    CIRCUIT_OPEN = "circuit_open"  # the NAS failed too often lately; not tried
    GONE = "gone"  # the session closed before it could be changed


class Enforcement(Base):
    """One outbox row: "service N's decision may have changed; make its online sessions match".

    Written in the transaction of the change itself (aaa.enforcement.outbox), so a committed
    change is never left unenforced, and a rolled back one never enforced."""

    __tablename__ = "enforcement"
    __table_args__ = (Index("ix_enforcement_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    cause: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    state: Mapped[EnforcementState] = mapped_column(
        str_enum(EnforcementState, "enforcement_state"), default=EnforcementState.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[str] = mapped_column(String(500), default="")
    # An operator's "derrubar conexão": disconnect, whatever the decision says; of one session
    # (its acct_session row id) or, without one, of every open session of the service.
    kick: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    acct_session_row: Mapped[int | None] = mapped_column(BigInteger)


class EnforcementAttempt(Base):
    """One method tried on one session: what was sent, what the NAS answered."""

    __tablename__ = "enforcement_attempt"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    enforcement_id: Mapped[int | None] = mapped_column(ForeignKey("enforcement.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    nas_id: Mapped[int | None] = mapped_column(ForeignKey("nas.id"))
    acct_session_id: Mapped[str | None] = mapped_column(String(64))
    method: Mapped[Method] = mapped_column(str_enum(Method, "enforcement_method"))
    result: Mapped[Result] = mapped_column(str_enum(Result, "enforcement_result"))
    error_cause: Mapped[int | None] = mapped_column(Integer)  # RFC 5176 Error-Cause of a NAK
    detail: Mapped[str] = mapped_column(String(500), default="")
    # On success: what the session has now (aaa.policies.grant), the base of the next change.
    granted: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
