"""What a NAS did lately, as the RADIUS workers saw it: requests, drops and why.

A NAS that is refused (wrong secret, no Message-Authenticator) gets silence and shows nothing on
its side; this is where an operator sees it talk to the server. Each worker counts in memory on
the request path (``Tally``) and adds its counts to the ``nas_activity`` row in its background
flush, so several workers and nodes sum up in one row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from aaa.tables.nas import Nas, NasActivity


@dataclass(slots=True)
class Counts:
    requests: int = 0
    last_request: float = 0.0  # time.time(); 0: none in this period
    drops: int = 0
    last_drop: float = 0.0
    cause: str | None = None
    detail: str | None = None


class Tally:
    """A worker's counts since its last flush, by NAS id."""

    def __init__(self) -> None:
        self.counts: dict[int, Counts] = {}

    def request(self, nas_id: int) -> None:
        """On the request path: a count only (the flush stamps the time, a fraction of a second
        later at most)."""
        counts = self.counts.get(nas_id)
        if counts is None:
            counts = self.counts[nas_id] = Counts()
        counts.requests += 1

    def drop(self, nas_id: int, cause: str, detail: str, now: float) -> None:
        counts = self.counts.get(nas_id)
        if counts is None:
            counts = self.counts[nas_id] = Counts()
        counts.drops += 1
        counts.last_drop, counts.cause, counts.detail = now, cause, detail[:200]

    def take(self, now: float) -> dict[int, Counts]:
        """What was counted since the last flush, requests stamped ``now``."""
        taken, self.counts = self.counts, {}
        for counts in taken.values():
            if counts.requests and not counts.last_request:
                counts.last_request = now
        return taken

    def give_back(self, taken: dict[int, Counts]) -> None:
        """A flush that failed: its counts join the ones collected meanwhile."""
        for nas_id, old in taken.items():
            new = self.counts.get(nas_id)
            if new is None:
                self.counts[nas_id] = old
                continue
            new.requests += old.requests
            new.drops += old.drops
            new.last_request = max(new.last_request, old.last_request)
            if new.last_drop == 0.0:
                new.last_drop, new.cause, new.detail = old.last_drop, old.cause, old.detail


def _at(stamp: float) -> datetime | None:
    return datetime.fromtimestamp(stamp, UTC) if stamp else None


@cache
def _upsert(dialect: str) -> Any:
    """Adds one row of counts to a NAS's activity: built once, run with each flush's rows (it
    runs once a second in every worker, on a thread that shares the event loop's GIL)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(NasActivity)
    new = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=[NasActivity.nas_id],
        set_={
            "requests": NasActivity.requests + new.requests,
            "drops": NasActivity.drops + new.drops,
            "last_request_at": case(
                (new.last_request_at.is_(None), NasActivity.last_request_at), else_=new.last_request_at
            ),
            "last_drop_at": case(
                (new.last_drop_at.is_(None), NasActivity.last_drop_at), else_=new.last_drop_at
            ),
            "last_drop_cause": case(
                (new.last_drop_at.is_(None), NasActivity.last_drop_cause), else_=new.last_drop_cause
            ),
            "last_drop_detail": case(
                (new.last_drop_at.is_(None), NasActivity.last_drop_detail), else_=new.last_drop_detail
            ),
        },
    )


def record_activity(session: Session, taken: dict[int, Counts]) -> None:
    """Add a worker's counts to each NAS's row (an upsert; a NAS deleted meanwhile is skipped)."""
    existing = set(session.scalars(select(Nas.id).where(Nas.id.in_(taken))))
    rows = [
        {
            "nas_id": nas_id,
            "requests": c.requests,
            "last_request_at": _at(c.last_request),
            "drops": c.drops,
            "last_drop_at": _at(c.last_drop),
            "last_drop_cause": c.cause,
            "last_drop_detail": c.detail,
        }
        for nas_id, c in sorted(taken.items())
        if nas_id in existing
    ]
    if not rows:
        return
    session.execute(_upsert(session.get_bind().dialect.name), rows)  # one statement, compiled once


def activity_of(session: Session, nas_ids: list[int]) -> dict[int, NasActivity]:
    return {a.nas_id: a for a in session.scalars(select(NasActivity).where(NasActivity.nas_id.in_(nas_ids)))}
