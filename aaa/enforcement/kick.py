"""Derrubar conexão: an operator ends a subscriber's session on its NAS.

A kick is an outbox row like any other change, so it goes through the same enforcer (per-NAS
rate limit, circuit breaker, every attempt recorded): a Disconnect-Request (RFC 5176), the
RouterOS API's /ppp/active remove as the fallback. The re-login gets the current decision.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from aaa.audit.log import record
from aaa.db.base import utcnow
from aaa.errors import Conflict
from aaa.tables.accounting import AcctSession
from aaa.tables.enforcement import Enforcement, EnforcementState
from aaa.tables.subscribers import Service


def _queue(session: Session, service: Service, row: int | None, why: str) -> Enforcement:
    now = utcnow()
    kick = Enforcement(
        service_id=service.id,
        cause=f"derrubar: {why}"[:300],
        created_at=now,
        next_attempt_at=now,
        state=EnforcementState.PENDING,
        attempts=0,
        outcome="",
        kick=True,
        acct_session_row=row,
    )
    session.add(kick)
    session.flush()
    return kick


def kick_session(session: Session, acct: AcctSession, reason: str) -> Enforcement:
    """Disconnect one open session (by its row)."""
    if acct.stop_time is not None:
        raise Conflict(f"session {acct.id} ({acct.login}) is closed already (stopped {acct.stop_time})")
    service = session.get(Service, acct.service_id) if acct.service_id is not None else None
    if service is None:
        raise Conflict(
            f"session {acct.id} belongs to login {acct.login!r}, which no service has: "
            "disconnect it on the NAS itself"
        )
    kick = _queue(session, service, acct.id, reason or "operator")
    note = f"derrubar conexão {acct.acct_session_id} on NAS {acct.nas_id}: {reason}".strip(": ")
    _audit(session, service, {"session": [None, acct.id], "nas_id": [None, acct.nas_id]}, note)
    return kick


def kick_service(session: Session, service: Service, reason: str) -> tuple[Enforcement, int]:
    """Disconnect every open session of the service; (the outbox row, how many are open)."""
    open_sessions = session.scalars(
        select(AcctSession.id).where(AcctSession.service_id == service.id, AcctSession.stop_time.is_(None))
    ).all()
    if not open_sessions:
        raise Conflict(f"service {service.id} ({service.login or service.former_login}) has no open session")
    kick = _queue(session, service, None, reason or "operator")
    _audit(
        session, service, {"sessions": [None, list(open_sessions)]}, f"derrubar conexão: {reason}".strip(": ")
    )
    return kick, len(open_sessions)


def _audit(session: Session, service: Service, changes: dict[str, list[object]], note: str) -> None:
    record(
        session,
        entity="service",
        entity_id=service.id,
        action="disconnect",
        customer_id=service.customer_id,
        service_id=service.id,
        changes=changes,
        note=note,
    )
