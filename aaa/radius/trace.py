"""A debug trace of a running node, like ``radiusd -X`` but bounded and filtered (``aaa trace``).

``begin_trace`` stores the trace and announces it on the change feed; every worker then writes,
for the requests of the named NAS and login, the request's attributes (credentials masked), the
decision's reasons and the reply's attributes as text lines, which the background flush stores
in ``radius_trace_line``. A trace ends by itself after its time or its packet count, so it can
run in production; a worker that traces nothing pays one attribute check per request.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from aaa.audit.log import actor_of
from aaa.changes.feed import record_change
from aaa.db.base import utcnow
from aaa.radius.codec import MASKED
from aaa.tables.changes import ChangeKind, RadiusTrace, RadiusTraceLine

MAX_SECONDS = 3600
MAX_PACKETS = 10_000
Emit = Callable[[int, list[str]], None]  # (trace id, lines)


@dataclass(slots=True)
class Trace:
    id: int
    nas_id: int | None
    login: str | None
    until: datetime
    left: int  # packets this worker may still trace

    def key(self) -> str:
        return json.dumps([self.id, self.nas_id, self.login, self.until.isoformat(), self.left])

    @classmethod
    def from_key(cls, key: str) -> Trace:
        trace_id, nas_id, login, until, left = json.loads(key)
        return cls(int(trace_id), nas_id, login, datetime.fromisoformat(until), int(left))


def begin_trace(
    session: Session, *, nas_id: int | None, login: str | None, seconds: int, packets: int
) -> RadiusTrace:
    """Store a trace and tell every worker (through the change feed) to start it."""
    seconds, packets = max(1, min(seconds, MAX_SECONDS)), max(1, min(packets, MAX_PACKETS))
    now = utcnow()
    row = RadiusTrace(
        created_at=now,
        until=now + timedelta(seconds=seconds),
        nas_id=nas_id,
        login=login or None,
        max_packets=packets,
        actor=actor_of(session).name[:200],
    )
    session.add(row)
    session.flush()
    record_change(session, ChangeKind.TRACE, Trace(row.id, nas_id, row.login, row.until, packets).key())
    return row


def trace_lines(session: Session, trace_id: int, after: int = 0) -> list[tuple[int, str]]:
    """(line id, text) written since line ``after``, in order."""
    rows = session.execute(
        select(RadiusTraceLine.id, RadiusTraceLine.text)
        .where(RadiusTraceLine.trace_id == trace_id, RadiusTraceLine.id > after)
        .order_by(RadiusTraceLine.id)
    )
    return [(line_id, text) for line_id, text in rows]


def write_trace_lines(session: Session, lines: list[tuple[int, datetime, str]]) -> None:
    """Lines of traces that still exist (one deleted meanwhile drops its lines)."""
    wanted = {t for t, _, _ in lines}
    existing = set(session.scalars(select(RadiusTrace.id).where(RadiusTrace.id.in_(wanted))))
    rows = [{"trace_id": t, "at": at, "text": text} for t, at, text in lines if t in existing]
    if rows:
        session.execute(insert(RadiusTraceLine), rows)


class Tracer:
    """A worker's active traces, and the requests it is tracing now."""

    def __init__(self, emit: Emit):
        self._emit = emit
        self._traces: list[Trace] = []
        # id(request) -> (the request, trace id, number); holding the request keeps its id unique
        self._open: dict[int, tuple[Any, int, int]] = {}
        self._numbers = itertools.count(1)
        self.active = False

    def start(self, trace: Trace) -> None:
        """Idempotent: a worker may learn one trace twice (its own commit, then the feed)."""
        if any(t.id == trace.id for t in self._traces) or trace.until <= datetime.now(UTC):
            return
        self._traces.append(trace)
        self.active = True

    def _match(self, nas_id: int, login: str | None) -> Trace | None:
        now = datetime.now(UTC)
        live = [t for t in self._traces if t.until > now and t.left > 0]
        if len(live) != len(self._traces):
            self._traces = live
            self.active = bool(live)
            if not live:
                self._open.clear()
        for trace in live:
            if (trace.nas_id is None or trace.nas_id == nas_id) and (
                trace.login is None or trace.login == login
            ):
                return trace
        return None

    def request(
        self,
        req: Any,
        nas_id: int,
        nas_name: str,
        source: tuple[str, int],
        kind: str,
        lines: list[tuple[str, str]],
    ) -> None:
        """A request arrived (``lines``: its attributes, as Codec.describe gives them)."""
        login = next((value.strip("'\"") for name, value in lines if name == "User-Name"), None)
        trace = self._match(nas_id, login)
        if trace is None:
            return
        trace.left -= 1
        number = next(self._numbers)
        self._open[id(req)] = (req, trace.id, number)
        head = f"({number}) Received {kind} Id {req.id} from {source[0]}:{source[1]} (NAS {nas_name})"
        self._emit(trace.id, [head, *(f"({number})   {name} = {value}" for name, value in lines)])

    def reply(
        self, req: Any, kind: str, attributes: Iterable[tuple[str, Any]], reasons: Iterable[str] = ()
    ) -> None:
        """What the traced request got: the decision's reasons, then the reply's attributes."""
        found = self._open.pop(id(req), None)
        if found is None:
            return
        _, trace_id, number = found
        lines = [f"({number}) decision: {reason}" for reason in reasons]
        lines.append(f"({number}) Sent {kind} Id {req.id}")
        lines += [f"({number})   {name} = {_text(name, value)}" for name, value in attributes]
        self._emit(trace_id, lines)

    def drop(self, nas_id: int, nas_name: str, source: tuple[str, int], cause: str, detail: str) -> None:
        trace = self._match(nas_id, None)
        if trace is None or trace.login is not None:
            return
        trace.left -= 1
        number = next(self._numbers)
        where = f"{source[0]}:{source[1]} (NAS {nas_name})"
        self._emit(trace.id, [f"({number}) Dropped a request from {where}: {cause}: {detail}"])


def _text(name: str, value: Any) -> str:
    if name in MASKED:
        return "<masked>"
    return repr(value) if isinstance(value, str) else str(value)


def end_trace(session: Session, trace_id: int) -> None:
    """Forget a trace and its lines (the workers drop what they still write for it)."""
    session.execute(delete(RadiusTraceLine).where(RadiusTraceLine.trace_id == trace_id))
    session.execute(delete(RadiusTrace).where(RadiusTrace.id == trace_id))


def prune_traces(session: Session, before: datetime) -> None:
    """Traces that ended before ``before``, with their lines (housekeeping)."""
    old = select(RadiusTrace.id).where(RadiusTrace.until < before)
    session.execute(delete(RadiusTraceLine).where(RadiusTraceLine.trace_id.in_(old)))
    session.execute(delete(RadiusTrace).where(RadiusTrace.until < before))
