"""A service's enforcement history: each change to apply on the NAS, with every attempt."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from aaa.db.paging import page
from aaa.tables.enforcement import Enforcement, EnforcementAttempt


def enforcement_history(
    session: Session, service_id: int, limit: int, offset: int = 0
) -> tuple[list[tuple[Enforcement, list[EnforcementAttempt]]], int]:
    """Newest first, each with its attempts in order (three queries whatever the count), and
    how many outbox rows the service has."""
    query = select(Enforcement).where(Enforcement.service_id == service_id)
    rows, total = page(session, query, Enforcement.id.desc(), limit=limit, offset=offset)
    attempts: dict[int | None, list[EnforcementAttempt]] = {}
    tried = select(EnforcementAttempt).where(EnforcementAttempt.enforcement_id.in_([r.id for r in rows]))
    for attempt in session.scalars(tried.order_by(EnforcementAttempt.id)):
        attempts.setdefault(attempt.enforcement_id, []).append(attempt)
    return [(row, attempts.get(row.id, [])) for row in rows], total
