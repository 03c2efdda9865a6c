"""A service's enforcement history: each change to apply on the NAS, with every attempt."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from aaa.tables.enforcement import Enforcement, EnforcementAttempt


def enforcement_history(
    session: Session, service_id: int, limit: int
) -> list[tuple[Enforcement, list[EnforcementAttempt]]]:
    """Newest first, each with its attempts in order (two queries whatever the count)."""
    rows = session.scalars(
        select(Enforcement)
        .where(Enforcement.service_id == service_id)
        .order_by(Enforcement.id.desc())
        .limit(limit)
    ).all()
    attempts: dict[int | None, list[EnforcementAttempt]] = {}
    query = select(EnforcementAttempt).where(EnforcementAttempt.enforcement_id.in_([r.id for r in rows]))
    for attempt in session.scalars(query.order_by(EnforcementAttempt.id)):
        attempts.setdefault(attempt.enforcement_id, []).append(attempt)
    return [(row, attempts.get(row.id, [])) for row in rows]
