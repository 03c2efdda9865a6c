"""Recording changes in a transaction, and reading them back in order on the worker side."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from datetime import timedelta
from weakref import WeakKeyDictionary

from sqlalchemy import ColumnElement, bindparam, delete, func, insert, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

from aaa import metrics
from aaa.db.base import utcnow
from aaa.tables.changes import ChangeEvent, ChangeKind

Change = tuple[str, str]  # (kind, key), e.g. ("service", login)
PENDING = "aaa_pending_changes"


def record_change(session: Session, kind: ChangeKind, key: str | int) -> None:
    """Add a change event to the current transaction; it is published after commit."""
    record_changes(session, [(kind, str(key))])


_INSERT = insert(ChangeEvent)


def record_changes(session: Session, changes: Iterable[Change]) -> None:
    """One row per kind, whatever the number of keys: an accounting group commit of hundreds of
    new sessions costs one insert, and the workers one row to read."""
    by_kind: dict[str, list[str]] = {}
    for kind, key in changes:
        by_kind.setdefault(str(kind), []).append(key)
    if not by_kind:
        return
    now = utcnow()
    session.connection().execute(  # Core: the ORM's bulk-insert bookkeeping is pure overhead here
        _INSERT, [{"kind": k, "keys": "\n".join(v), "created_at": now} for k, v in by_kind.items()]
    )
    announce(session, [(k, key) for k, keys in by_kind.items() for key in keys])


def announce(session: Session, changes: Iterable[Change]) -> None:
    """Publish ``changes`` once the session commits, for a caller that wrote their feed rows
    itself (the accounting merge does it inside its one statement)."""
    session.info.setdefault(PENDING, []).extend(changes)


_PUBLISHERS: WeakKeyDictionary[sessionmaker[Session], list[Callable[[list[Change]], None]]] = (
    WeakKeyDictionary()
)


def install_publisher(factory: sessionmaker[Session], publish: Callable[[list[Change]], None]) -> None:
    """Call ``publish`` with a session's recorded changes once its transaction has committed
    (and with those a Core writer hands to ``publish``)."""
    from sqlalchemy import event

    _PUBLISHERS.setdefault(factory, []).append(publish)

    @event.listens_for(factory, "after_commit")
    def _after_commit(session: Session) -> None:
        pending = session.info.pop(PENDING, None)
        if pending:
            publish(pending)

    @event.listens_for(factory, "after_rollback")
    def _after_rollback(session: Session) -> None:
        session.info.pop(PENDING, None)


def publish(factory: sessionmaker[Session], changes: list[Change]) -> None:
    """For a writer that committed without a session (the accounting merge): tell the factory's
    publishers, as a session's commit would."""
    if changes:
        for publisher in _PUBLISHERS.get(factory, ()):
            publisher(changes)


def latest_id(session: Session) -> int:
    return session.scalar(select(func.coalesce(func.max(ChangeEvent.id), 0))) or 0


def prune(session: Session, hours: float) -> int:
    result = session.execute(
        delete(ChangeEvent).where(ChangeEvent.created_at < utcnow() - timedelta(hours=hours))
    )
    return result.rowcount or 0  # type: ignore[attr-defined]


# Table columns, not the mapped class's: an ORM-enabled select costs the poll its ORM
# compile state each time, four times a second in every worker, on a thread that shares the
# event loop's GIL.
_EVENT = ChangeEvent.__table__
_FEED = select(_EVENT.c.id, _EVENT.c.kind, _EVENT.c["keys"], _EVENT.c.created_at).order_by(_EVENT.c.id)
_AFTER = _FEED.where(_EVENT.c.id > bindparam("low")).limit(bindparam("limit"))


class ChangeCursor:
    """Reads the feed past a watermark without skipping late commits.

    On PostgreSQL a sequence value is taken at insert but becomes visible at commit, so id 41
    can appear after id 42 has been read. The cursor keeps the lowest id it has not seen yet
    as its watermark and only gives up on a hole after ``gap_grace`` seconds (a rolled-back
    transaction leaves a permanent one).
    """

    def __init__(self, start_id: int, gap_grace: float = 10.0, clock: Callable[[], float] = time.monotonic):
        self.low = start_id  # every id <= low has been handled
        self._seen: set[int] = set()
        self._gap_since: float | None = None
        self._gap_grace = gap_grace
        self._clock = clock
        self._applied: deque[int] = deque()  # filled from any thread, taken in by poll()

    def skip(self, ids: Iterable[int]) -> None:
        """Rows whose changes this worker applied already (from its own commit's result): the
        next poll does not read them. Safe to call from another thread than poll()'s."""
        self._applied.extend(ids)

    def poll(self, db: Session | Connection, limit: int = 5000) -> list[Change]:
        while self._applied:
            id_ = self._applied.popleft()
            if id_ > self.low:
                self._seen.add(id_)
        if self._seen:
            rows = db.execute(_FEED.where(self._unseen()).limit(limit)).all()
        else:  # the usual poll: one statement object, built and compiled once
            rows = db.execute(_AFTER, {"low": self.low, "limit": limit}).all()
        if rows:  # the oldest unseen change: the worst lag of this poll
            metrics.INVALIDATION_LAG.observe(max(0.0, (utcnow() - rows[0][3]).total_seconds()))
        fresh = [(kind, key) for _, kind, keys, _ in rows for key in keys.split("\n")]
        self._seen.update(id_ for id_, _, _, _ in rows)
        self._advance()
        return fresh

    def _unseen(self) -> ColumnElement[bool]:
        """With ids seen past the watermark: past the highest of them, and the holes below it.
        Reading everything past the watermark re-read every row behind a hole at each poll until
        the cursor gave up on it: a worker starting on an emptied feed read a thousand rows a
        poll for ten seconds. (Without such ids, poll() runs ``_AFTER``.)"""
        ids = sorted(self._seen)
        holes, first = [], self.low + 1
        for id_ in ids:
            if id_ > first:
                holes.append(_EVENT.c.id.between(first, id_ - 1))
            first = id_ + 1
        return or_(_EVENT.c.id > ids[-1], *holes)

    def _advance(self) -> None:
        while self.low + 1 in self._seen:
            self.low += 1
            self._seen.discard(self.low)
        if not self._seen:
            self._gap_since = None
            return
        now = self._clock()
        if self._gap_since is None:
            self._gap_since = now
        elif now - self._gap_since >= self._gap_grace:
            # Give up on the hole: jump to the next id we have seen.
            self.low = min(self._seen) - 1
            self._gap_since = None
            self._advance()
