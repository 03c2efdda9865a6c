"""Sessions over a service's Simultaneous-Use limit, and the outbox rows that end them.

Each RADIUS worker holds its own reservations of accepts still waiting for their Start, so
requests racing through different workers (or nodes) can each be accepted before any Start is
stored. What gets through is found here afterwards: every login the change feed names as newly
online is counted, and a service over its limit gets an outbox row; the enforcer then
disconnects the surplus sessions, the newest (default) or the oldest ones
(``enforcer.simultaneous_use_disconnect``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from aaa.db.base import utcnow
from aaa.policies.decide import cpe
from aaa.tables.accounting import AcctSession
from aaa.tables.enforcement import Enforcement, EnforcementState
from aaa.tables.subscribers import Service

Keep = Literal["newest", "oldest"]  # which sessions are disconnected
_CHUNK = 5000  # logins a query; PostgreSQL takes at most 65,535 parameters


def surplus(sessions: Sequence[AcctSession], limit: int, disconnect: Keep = "newest") -> set[int]:
    """The row ids of the sessions to end so that at most ``limit`` remain (0: no limit).

    An older session of the same CPE on the same NAS and port is a redial the NAS is about to
    Stop: it neither counts nor is chosen (its Stop ends it)."""
    if limit <= 0:
        return set()
    ordered = sorted(sessions, key=_started)
    newest = {cpe(row): row for row in ordered}  # the last of each CPE wins
    # A session without a MAC is told apart from no other.
    distinct = [row for row in ordered if cpe(row)[1] is None or newest[cpe(row)] is row]
    over = len(distinct) - limit
    if over <= 0:
        return set()
    chosen = distinct[-over:] if disconnect == "newest" else distinct[:over]
    return {row.id for row in chosen}


def queue_over_limit(session: Session, logins: Collection[str], now: datetime | None = None) -> list[int]:
    """Outbox rows for the services of ``logins`` with more open sessions than their limit
    (the enforcer decides which to end); returns their service ids."""
    names = sorted(logins)
    over: list[Any] = []
    for start in range(0, len(names), _CHUNK):  # a reconnect storm names more than one query takes
        over += session.execute(
            select(Service.id, Service.simultaneous_use, func.count(AcctSession.id))
            .join(AcctSession, AcctSession.service_id == Service.id)
            .where(
                Service.login.in_(names[start : start + _CHUNK]),
                Service.simultaneous_use > 0,
                AcctSession.stop_time.is_(None),
            )
            .group_by(Service.id, Service.simultaneous_use)
            .having(func.count(AcctSession.id) > Service.simultaneous_use)
        ).all()
    if not over:
        return []
    now = now or utcnow()
    session.execute(
        insert(Enforcement),
        [
            {
                "service_id": service_id,
                "cause": f"Simultaneous-Use: {count} open sessions, limit {limit}",
                "state": EnforcementState.PENDING,
                "attempts": 0,
                "created_at": now,
                "next_attempt_at": now,
                "outcome": "",
            }
            for service_id, limit, count in over
        ],
    )
    return [service_id for service_id, _, _ in over]


def _started(row: AcctSession) -> tuple[datetime, int]:
    return (row.start_time or row.last_update, row.id)
