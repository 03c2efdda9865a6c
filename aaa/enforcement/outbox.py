"""Writes the enforcement outbox in the transaction of the change that needs it.

Derived from the ORM's change tracking, like cache invalidation: any code path that edits what
decides an online subscriber's answer (status, plan, overlays, plan speeds, fixed addresses)
enqueues one row per affected online service, without having to remember to. A service that
already waits in the outbox is not enqueued twice: the enforcer reads the newest state anyway.
"""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from aaa.db.base import utcnow
from aaa.db.bulk import among
from aaa.subscribers import reach
from aaa.tables.accounting import AcctSession
from aaa.tables.enforcement import Enforcement, EnforcementState

# Services a query names at most where each is a placeholder (SQLite). PostgreSQL takes them
# all as one array, and asks once: each query scans the open sessions, so a query a chunk
# scanned them once per chunk.
_CHUNK = 10_000


def after_flush(session: Session, flush_context: object) -> None:
    """An outbox row per online service whose answer the flush changes (aaa.subscribers.reach)."""
    causes = reach.of(session, flush_context).live
    if not causes:
        return
    online: set[int] = set()
    waiting: set[int] = set()
    ids = sorted(causes)
    size = len(ids) if session.get_bind().dialect.name == "postgresql" else _CHUNK
    for start in range(0, len(ids), size):  # a routine may change more services than one IN list holds
        chunk = ids[start : start + size]
        found = session.scalars(
            select(AcctSession.service_id)
            .where(AcctSession.stop_time.is_(None), among(session, AcctSession.service_id, chunk))
            .distinct()
        )
        online.update(i for i in found if i is not None)
        waiting.update(
            session.scalars(
                select(Enforcement.service_id).where(
                    Enforcement.state == EnforcementState.PENDING,
                    Enforcement.attempts == 0,
                    Enforcement.kick.is_(False),
                    among(session, Enforcement.service_id, chunk),
                )
            )
        )
    now = utcnow()
    rows = [
        {
            "service_id": service_id,
            "cause": ("changed: " + ", ".join(sorted(causes[service_id])))[:300],
            "created_at": now,
            "next_attempt_at": now,
            "state": EnforcementState.PENDING,
            "attempts": 0,
            "outcome": "",
        }
        for service_id in sorted(online - waiting)
    ]
    if rows:
        session.execute(insert(Enforcement), rows)
