"""Writing accounting into sessions, idempotently, and reading connection history.

Every write is a merge that only moves forward: counters and times take the larger value,
the first Stop wins, a Start's reported start beats one estimated from Acct-Session-Time, and
a late Start or Interim never reopens a stopped session. So a retransmission, a duplicate from
another worker or an out-of-order packet changes nothing it should not.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Integer,
    Interval,
    Text,
    and_,
    bindparam,
    case,
    cast,
    column,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    true,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB, aggregate_order_by, array
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from aaa.accounting.records import AcctRecord, StatusType
from aaa.changes.feed import Change, announce, record_changes
from aaa.changes.sessions import closed_key, opened_key, read_opened, session_closed
from aaa.db.base import utcnow
from aaa.ipam.allocator import STOP_SLACK, lower_free_from, release_nas, release_on_stop, release_stopped
from aaa.tables.accounting import AcctSession, ClosedBy
from aaa.tables.changes import ChangeEvent, ChangeKind
from aaa.tables.ipam import Subnet
from aaa.tables.nas import Nas
from aaa.tables.subscribers import Service

_KEY = ["nas_id", "acct_session_id", "login", "generation"]  # a row written here: generation 0
_COUNTERS = ("session_time", "input_octets", "output_octets", "input_packets", "output_packets")
# newest non-null wins
_LATEST = (
    "nas_port",
    "nas_port_id",
    "calling_station_id",
    "framed_ip",
    "framed_ipv6_prefix",
    "delegated_ipv6_prefix",
)


def _greatest(dialect: str, a: Any, b: Any) -> Any:
    # SQLite's two-argument max()/min() are its scalar GREATEST/LEAST.
    return func.greatest(a, b) if dialect == "postgresql" else func.max(a, b)


def _earliest(dialect: str, a: Any, b: Any) -> Any:
    """The earlier of two times, either of which may be NULL."""
    a, b = func.coalesce(a, b), func.coalesce(b, a)
    return func.least(a, b) if dialect == "postgresql" else func.min(a, b)


def _merge(dialect: str, stmt: Any) -> dict[str, Any]:
    """ON CONFLICT DO UPDATE: the merge only moves forward. Counters and last update take the
    larger value, the first (earliest) Stop wins, and nothing a late Start or Interim carries
    can reopen a stopped session. The start a Start reported replaces an estimate and is never
    replaced by one; between two of a kind the earlier wins. So an Interim-Update of a started
    session leaves every indexed column as it was: on PostgreSQL a HOT update.

    A Start that reuses the key of a session stopped before it began arrives with that stop as
    its ``previous_stop`` (``_previous_stop``): it takes the row over, every column from the
    Start, while the same statement has copied the stopped session to a row of its own
    (``_retire``). The row keeps ``previous_stop``, and ``_current`` keeps the late Interims and
    Stops of the replaced session from touching it."""
    new, t = stmt.excluded, AcctSession.__table__.c
    merge = _forward(dialect, t, new)
    reuse = new.previous_stop.is_not(None)
    for name, expression in merge.items():
        fresh = func.coalesce(new.service_id, t.service_id) if name == "service_id" else getattr(new, name)
        merge[name] = case((reuse, fresh), else_=expression)
    merge["previous_stop"] = func.coalesce(new.previous_stop, t.previous_stop)
    return merge


def _current(stmt: Any) -> Any:
    """DO UPDATE ... WHERE: not an Interim or Stop that began before the row's previous session
    stopped (it belongs to that session)."""
    new, t = stmt.excluded, AcctSession.__table__.c
    return or_(t.previous_stop.is_(None), new.start_estimated.is_(False), new.start_time >= t.previous_stop)


def _previous_stop(rows: Any) -> Any:
    """For each incoming row: the stop of the session its key names, when the row is a Start
    that began after it (the key is reused), else NULL. Only Starts look."""
    old = AcctSession.__table__.alias("previous")
    stopped = (
        select(old.c.stop_time)
        .where(
            old.c.nas_id == rows.c.nas_id,
            old.c.acct_session_id == rows.c.acct_session_id,
            old.c.login == rows.c.login,
            old.c.generation == 0,
            old.c.stop_time < rows.c.start_time,
        )
        .scalar_subquery()
    )
    return case((rows.c.start_estimated.is_(False), stopped), else_=None)


def _forward(dialect: str, t: Any, new: Any) -> dict[str, Any]:
    merge: dict[str, Any] = {
        name: _greatest(dialect, getattr(t, name), getattr(new, name)) for name in (*_COUNTERS, "last_update")
    }
    merge.update({name: func.coalesce(getattr(new, name), getattr(t, name)) for name in _LATEST})
    merge["service_id"] = func.coalesce(t.service_id, new.service_id)
    merge["stop_time"] = _earliest(dialect, t.stop_time, new.stop_time)
    merge["start_time"] = case(
        (t.start_estimated == new.start_estimated, _earliest(dialect, t.start_time, new.start_time)),
        (t.start_estimated, func.coalesce(new.start_time, t.start_time)),
        else_=func.coalesce(t.start_time, new.start_time),
    )
    merge["start_estimated"] = and_(t.start_estimated, new.start_estimated)
    for name in ("terminate_cause", "closed_by"):
        merge[name] = func.coalesce(getattr(t, name), getattr(new, name))
    return merge


def _retire(rows: Any) -> Any:
    """INSERT ... SELECT that copies each stopped session whose key a Start in ``rows`` reuses
    (``rows.previous_stop`` set) into a row of its own (generation = its id), before the merge
    takes the key over."""
    old = AcctSession.__table__.alias("old")
    names = [c.name for c in AcctSession.__table__.c if c.name not in ("id", "generation")]
    key = and_(
        old.c.nas_id == rows.c.nas_id,
        old.c.acct_session_id == rows.c.acct_session_id,
        old.c.login == rows.c.login,
        old.c.generation == 0,
    )
    copied = (
        select(*(old.c[name] for name in names), old.c.id)
        .select_from(old.join(rows, key))
        .where(rows.c.previous_stop.is_not(None))
    )
    return insert(AcctSession).from_select([*names, "generation"], copied)


@cache
def _retire_row() -> Any:
    """SQLite: ``_retire`` for one Start, its values as parameters."""
    given = select(
        bindparam("nas_id", type_=Integer()).label("nas_id"),
        bindparam("acct_session_id", type_=Text()).label("acct_session_id"),
        bindparam("login", type_=Text()).label("login"),
        bindparam("start_time", type_=AcctSession.__table__.c.start_time.type).label("start_time"),
        literal(False).label("start_estimated"),
    ).subquery("given")
    params = select(given, _previous_stop(given).label("previous_stop")).subquery("row")
    return _retire(params).returning(AcctSession.stop_time)


@cache
def _upsert_rows() -> Any:
    """SQLite: one INSERT ... ON CONFLICT, executed row by row in arrival order."""
    service = select(Service.id).where(Service.login == bindparam("service_login")).scalar_subquery()
    stmt = sqlite.insert(AcctSession).values(service_id=service)
    return stmt.on_conflict_do_update(index_elements=_KEY, set_=_merge("sqlite", stmt), where=_current(stmt))


# PostgreSQL: the batch travels as one JSON array of rows (json.dumps is C; psycopg dumps
# Python lists element by element in Python, at three times the client CPU) and is merged
# with a single INSERT ... SELECT ... ON CONFLICT per round: no per-row statements.
_BATCH_COLUMNS: dict[str, TypeEngine[Any]] = {
    "nas_id": Integer(),
    "acct_session_id": Text(),
    "login": Text(),
    "nas_port": BigInteger(),
    "nas_port_id": Text(),
    "calling_station_id": Text(),
    "framed_ip": Text(),
    "framed_ipv6_prefix": Text(),
    "delegated_ipv6_prefix": Text(),
    "start_time": DateTime(timezone=True),
    "start_estimated": Boolean(),
    "last_update": DateTime(timezone=True),
    "stop_time": DateTime(timezone=True),
    "terminate_cause": Text(),
    "closed_by": Text(),
    **{name: BigInteger() for name in _COUNTERS},
}
_EPOCH = literal_column("timestamptz 'epoch'", DateTime(timezone=True))
_MICROSECOND = literal_column("interval '1 microsecond'", Interval())


@cache
def _merge_batch() -> Any:
    """PostgreSQL: one round of a group commit as one statement, so in autocommit one round trip
    that is its own transaction. It merges the sessions, writes the new open sessions' logins into
    the change feed and frees the leases of stopped sessions, then returns those logins
    (newline-joined, NULL for none)."""
    rows_json = func.jsonb_array_elements(cast(bindparam("batch", type_=Text()), JSONB))
    element = rows_json.table_valued(column("value", JSONB)).render_derived(name="element")

    def value(i: int, type_: TypeEngine[Any]) -> Any:
        text = element.c.value.op("->>")(literal_column(str(i)))
        if isinstance(type_, DateTime):  # microseconds since the epoch (see _json_batch)
            return _EPOCH + cast(text, BigInteger()) * _MICROSECOND
        return cast(text, type_)

    batch = select(
        *(value(i, type_).label(name) for i, (name, type_) in enumerate(_BATCH_COLUMNS.items()))
    ).cte("batch")
    prepared = select(
        *(batch.c[name] for name in _BATCH_COLUMNS),
        _previous_stop(batch).label("previous_stop"),
    ).cte("prepared")
    rows = (
        select(*(prepared.c[name] for name in (*_BATCH_COLUMNS, "previous_stop")), Service.id)
        .select_from(prepared.outerjoin(Service, Service.login == prepared.c.login))
        .order_by(prepared.c.nas_id, prepared.c.acct_session_id, prepared.c.login)  # one lock order
    )
    stmt = postgresql.insert(AcctSession).from_select([*_BATCH_COLUMNS, "previous_stop", "service_id"], rows)
    t = AcctSession.__table__.c
    # Runs in the same statement, on the same snapshot: it copies the stopped sessions whose
    # key a Start reuses before the merge below takes those rows over.
    retired = _retire(prepared).returning(AcctSession.login).cte("retired")
    merged = (
        stmt.on_conflict_do_update(index_elements=_KEY, set_=_merge("postgresql", stmt), where=_current(stmt))
        .returning(
            t.login,
            (literal_column("xmax") == 0).label("inserted"),  # xmax 0: inserted
            t.stop_time,
            *(t[name] for name in _OPENED_FIELDS[1:]),
        )
        .cte("merged")
    )
    # An Interim whose Start was lost opens a session too: "new" is "inserted and open", or a
    # stopped session's key reused by a Start. Each goes into the feed with what the workers'
    # snapshots keep of it (aaa.changes.sessions), and so does each session a Stop closed.
    opened = (
        select(merged)
        .where(
            or_(merged.c.inserted, merged.c.login.in_(select(retired.c.login))),
            merged.c.stop_time.is_(None),
        )
        .subquery()
    )
    closed = select(merged).where(merged.c.stop_time.is_not(None)).subquery()
    news = select(_keys(opened, _OPENED_FIELDS).label("opened")).cte("news")
    ends = select(_keys(closed, _CLOSED_FIELDS).label("closed")).cte("ends")
    now = bindparam("now", type_=DateTime(timezone=True))
    announced = (
        insert(ChangeEvent)
        .from_select(
            ["kind", "keys", "created_at"],
            union_all(
                select(literal(ChangeKind.SESSION_OPEN.value), news.c.opened, now).where(
                    news.c.opened.is_not(None)
                ),
                select(literal(ChangeKind.SESSION_CLOSE.value), ends.c.closed, now).where(
                    ends.c.closed.is_not(None)
                ),
            ),
        )
        .returning(ChangeEvent.id)
        .cte("announced")
    )
    address = (
        func.unnest(array([batch.c.framed_ip, batch.c.framed_ipv6_prefix, batch.c.delegated_ipv6_prefix]))
        .table_valued("address")
        .render_derived(name="addresses")
    )
    stops = (
        select(batch.c.login, address.c.address, (batch.c.start_time + STOP_SLACK).label("latest"))
        .select_from(batch.join(address, true()))
        .where(batch.c.stop_time.is_not(None), address.c.address.is_not(None))
        .cte("stops")
    )
    freed = release_on_stop(stops.c.login, stops.c.address, stops.c.latest, now).cte("freed")
    lowest = (
        select(freed.c.subnet_id, func.min(freed.c.first).label("first"))
        .group_by(freed.c.subnet_id)
        .subquery()
    )
    lowered = lower_free_from(lowest.c.subnet_id, lowest.c.first).returning(Subnet.id).cte("lowered")
    ids = select(func.string_agg(cast(announced.c.id, Text), ",")).scalar_subquery()
    result = func.concat(
        func.coalesce(news.c.opened, ""),
        _SEPARATOR,
        func.coalesce(ends.c.closed, ""),
        _IDS,
        func.coalesce(ids, ""),
    )
    return select(result).select_from(news.join(ends, true())).add_cte(announced, lowered)


# What a session change carries (aaa.changes.sessions), in its key's order.
_OPENED_FIELDS = ("login", "nas_id", "acct_session_id", "calling_station_id", "nas_port_id", "start_time")
_CLOSED_FIELDS = ("login", "nas_id", "acct_session_id")
_SEPARATOR = "\x1e"  # between the opened and the closed keys in the merge's result
_IDS = "\x1d"  # then the ids of the feed rows it wrote
_OPEN, _CLOSE = ChangeKind.SESSION_OPEN.value, ChangeKind.SESSION_CLOSE.value


def _keys(rows: Any, names: tuple[str, ...]) -> Any:
    """The rows as change-feed keys: one JSON array each, newline-joined (NULL for none)."""
    key = cast(func.json_build_array(*(rows.c[name] for name in names)), Text())
    return func.string_agg(key, aggregate_order_by(literal("\n"), rows.c.login))


def _values(rec: AcctRecord, event: Any, before: Callable[[Any, int], Any]) -> list[Any]:
    """A record as the row it merges into, in ``_BATCH_COLUMNS`` order: ``event`` is its time
    as the row carries it, ``before(event, seconds)`` a time that many seconds earlier."""
    stopped = rec.status is StatusType.STOP
    started = rec.status is StatusType.START
    return [
        rec.nas_id,
        rec.acct_session_id,
        rec.login,
        rec.nas_port,
        rec.nas_port_id,
        rec.calling_station_id,
        rec.framed_ip,
        rec.framed_ipv6_prefix,
        rec.delegated_ipv6_prefix,
        event if started else before(event, rec.session_time),
        not started,
        event,
        event if stopped else None,
        rec.terminate_cause if stopped else None,
        ClosedBy.STOP.value if stopped else None,
        rec.session_time,
        rec.input_octets,
        rec.output_octets,
        rec.input_packets,
        rec.output_packets,
    ]


def _seconds_before(time: datetime, seconds: int) -> datetime:
    return time - timedelta(seconds=seconds)


def _row(rec: AcctRecord) -> dict[str, Any]:
    """SQLite: the row as named parameters, with the login to find the service by."""
    values = _values(rec, rec.event_time, _seconds_before)
    row = dict(zip(_BATCH_COLUMNS, values, strict=True))
    return {**row, "previous_stop": None, "service_login": rec.login}


_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND_DELTA = timedelta(microseconds=1)


def _micros_before(micros: int, seconds: int) -> int:
    return micros - seconds * 1_000_000


def _json_batch(records: Sequence[AcctRecord]) -> str:
    """PostgreSQL: the batch as one JSON array of rows, times as integer microseconds since the
    epoch: exact, and one datetime subtraction a row (isoformat() cost a microsecond a time)."""
    return json.dumps(
        [
            _values(rec, (rec.event_time - _UNIX_EPOCH) // _MICROSECOND_DELTA, _micros_before)
            for rec in records
        ]
    )


def _stop(rec: AcctRecord) -> dict[str, Any]:
    addresses = [a for a in (rec.framed_ip, rec.framed_ipv6_prefix, rec.delegated_ipv6_prefix) if a]
    return {
        "login": rec.login,
        "start": _seconds_before(rec.event_time, rec.session_time),
        "addresses": addresses,
    }


def _rounds(records: list[AcctRecord]) -> list[list[AcctRecord]]:
    """PostgreSQL: split so that no session appears twice in one statement (it refuses to
    update a row twice in one INSERT ... ON CONFLICT), keeping each session's records in order."""
    rounds: list[list[AcctRecord]] = []
    seen: dict[tuple[int, str, str], int] = {}
    for rec in records:
        key = (rec.nas_id, rec.acct_session_id, rec.login)
        index = seen.get(key, -1) + 1
        seen[key] = index
        if index == len(rounds):
            rounds.append([])
        rounds[index].append(rec)
    return rounds


def _close_nas(session: Session, rec: AcctRecord) -> None:
    """Accounting-On/Off: the NAS has no sessions any more (RFC 2866 §5.1)."""
    t = AcctSession
    session.execute(
        update(t)
        .where(t.nas_id == rec.nas_id, t.stop_time.is_(None), t.last_update <= rec.event_time)
        .values(stop_time=rec.event_time, closed_by=ClosedBy.NAS_REBOOT, terminate_cause="NAS-Reboot")
        .execution_options(synchronize_session=False)
    )


_PER_SESSION = (StatusType.START, StatusType.INTERIM, StatusType.STOP)


class _CompiledMerge:
    """``_merge_batch`` compiled once per dialect and run as driver SQL: SQLAlchemy's
    per-execution cache-key walk of this statement costs more client CPU than the rest of a
    commit. The constants (kinds, reasons, the slack) are bound once, processed as SQLAlchemy
    would."""

    def __init__(self, dialect: Dialect):
        compiled = _merge_batch().compile(dialect=dialect)
        self.sql = str(compiled)
        self._names = compiled.positiontup  # None for a named paramstyle
        self._values: dict[str, Any] = {}
        for name, bind in compiled.binds.items():
            if name not in ("batch", "now"):
                processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
                self._values[name] = processor(bind.effective_value) if processor else bind.effective_value

    def params(self, batch: str, now: datetime) -> Any:
        values = {**self._values, "batch": batch, "now": now}
        return values if self._names is None else tuple(values[name] for name in self._names)


@cache
def _compiled_merge(dialect: Dialect) -> _CompiledMerge:
    return _CompiledMerge(dialect)


def merge_statement(dialect: Dialect, records: Sequence[AcctRecord], now: datetime) -> tuple[str, Any]:
    """PostgreSQL: the SQL and parameters that merge ``records``, sessions that each appear once
    (see ``single_statement``), in one statement. Its one row's value goes to ``opened``."""
    merge = _compiled_merge(dialect)
    return merge.sql, merge.params(_json_batch(records), now)


def feed_changes(result: str | None) -> list[Change]:
    """The session changes the merge wrote into the feed, from its result, to publish them."""
    if not result:
        return []
    opened, _, closed = result.partition(_IDS)[0].partition(_SEPARATOR)
    return [(_OPEN, key) for key in opened.split("\n") if key] + [
        (_CLOSE, key) for key in closed.split("\n") if key
    ]


def feed_ids(result: str | None) -> list[int]:
    """The ids of the feed rows the merge wrote (what a worker that applied its changes from
    the result need not read again)."""
    ids = (result or "").partition(_IDS)[2]
    return [int(id_) for id_ in ids.split(",")] if ids else []


def opened_logins(changes: Iterable[Change]) -> set[str]:
    return {read_opened(key)[0] for kind, key in changes if kind == _OPEN}


def merge_batch(connection: Connection, records: Sequence[AcctRecord], now: datetime) -> list[Change]:
    """The merge inside a caller's transaction; returns the session changes it wrote."""
    sql, params = merge_statement(connection.dialect, records, now)
    return feed_changes(connection.exec_driver_sql(sql, params).scalar())


def single_statement(dialect: str, records: Sequence[AcctRecord]) -> bool:
    """The batch is one statement (PostgreSQL, sessions only, none twice), which can run in
    autocommit: no BEGIN and COMMIT round trips. Others need a transaction around them."""
    if dialect != "postgresql" or any(r.status not in _PER_SESSION for r in records):
        return False
    return len({(r.nas_id, r.acct_session_id, r.login) for r in records}) == len(records)


def apply_records(session: Session, records: Iterable[AcctRecord]) -> set[str]:
    """Apply one batch (group commit); returns the logins that got a new open session.

    Every session opened and every session a Stop closed goes into the change feed with what
    the workers' snapshots keep of it (aaa.changes.sessions): they update the login's open
    sessions in place, so neither a Start nor a Stop costs a snapshot reload.
    """
    records = list(records)
    connection = session.connection()  # Core execution: the ORM adds nothing here but overhead
    per_session = [r for r in records if r.status in _PER_SESSION]
    now = utcnow()
    if connection.dialect.name == "postgresql":
        changes: list[Change] = []
        for batch in _rounds(per_session):
            changes += merge_batch(connection, batch, now)  # feed rows written by the statement
        announce(session, changes)
    else:
        changes = _merge_rows(connection, per_session)
        release_stopped(connection, [_stop(r) for r in per_session if r.status is StatusType.STOP], now)
        record_changes(session, changes)
    changed = opened_logins(changes)
    for rec in records:
        if rec.status in (StatusType.ACCOUNTING_ON, StatusType.ACCOUNTING_OFF):
            _close_nas(session, rec)
            release_nas(connection, rec.nas_id, rec.event_time)
            # Announced, unlike a single closed session: every subscriber of a rebooted NAS dials
            # again at once, and each one still counted open would cost a database recheck.
            record_changes(session, [nas_sessions_closed(rec.nas_id, rec.event_time)])
    return changed


def nas_sessions_closed(nas_id: int, until: datetime) -> Change:
    """The change that tells the workers a NAS's sessions started by ``until`` are closed."""
    return (ChangeKind.NAS_SESSIONS, f"{nas_id} {until.isoformat()}")


def read_nas_sessions_closed(key: str) -> tuple[int, datetime]:
    nas_id, until = key.split(" ", 1)
    return int(nas_id), datetime.fromisoformat(until)


def _merge_rows(connection: Connection, records: list[AcctRecord]) -> list[Change]:
    """SQLite: the upsert row by row, in arrival order. Returns the session changes: the
    sessions it opened (not stored before, and not first seen as a Stop, like ``_merge_batch``)
    and those a Stop closed."""
    if not records:  # an empty parameter list would run one parameterless INSERT
        return []
    first: dict[tuple[int, str, str], AcctRecord] = {}
    for r in records:
        first.setdefault((r.nas_id, r.acct_session_id, r.login), r)
    opening = [key for key, r in first.items() if r.status is not StatusType.STOP]
    t = AcctSession
    known = (
        {
            tuple(row)
            for row in connection.execute(
                select(t.nas_id, t.acct_session_id, t.login).where(
                    tuple_(t.nas_id, t.acct_session_id, t.login).in_(opening)
                )
            )
        }
        if opening
        else set()
    )
    reopened: set[tuple[int, str, str]] = set()
    run: list[dict[str, Any]] = []
    for rec in records:
        if rec.status is StatusType.START:  # may reuse a stopped session's key: retire that first
            if run:
                connection.execute(_upsert_rows(), run)
                run = []
            copied = connection.execute(
                _retire_row(),
                {
                    "nas_id": rec.nas_id,
                    "acct_session_id": rec.acct_session_id,
                    "login": rec.login,
                    "start_time": rec.event_time,
                },
            )
            stopped = copied.scalar()
            row = _row(rec)
            if stopped is not None:  # copied aside: this Start takes the key over
                reopened.add((rec.nas_id, rec.acct_session_id, rec.login))
                row["previous_stop"] = stopped
            run.append(row)
            continue
        run.append(_row(rec))
    if run:
        connection.execute(_upsert_rows(), run)
    new = [key for key in opening if key not in known or key in reopened]
    stopped = {(r.nas_id, r.acct_session_id, r.login) for r in records if r.status is StatusType.STOP}
    return [(_OPEN, _opened_key(first[key])) for key in new if key not in stopped] + [
        (_CLOSE, closed_key(login, nas_id, sid)) for nas_id, sid, login in sorted(stopped)
    ]


def _opened_key(rec: AcctRecord) -> str:
    start = rec.event_time - timedelta(seconds=rec.session_time)
    return opened_key(
        rec.login, rec.nas_id, rec.acct_session_id, rec.calling_station_id, rec.nas_port_id, start
    )


def reap(session: Session, now: datetime, multiplier: float, default_interval: int) -> list[str]:
    """Close sessions the NAS forgot: no update for ``multiplier`` interim intervals."""
    closed: list[str] = []
    changes: list[Change] = []
    t = AcctSession
    for nas_id, interval in session.execute(select(Nas.id, Nas.interim_interval)).all():
        limit = timedelta(seconds=multiplier * (interval or default_interval or 300))
        rows = session.execute(
            update(t)
            .where(t.nas_id == nas_id, t.stop_time.is_(None), t.last_update < now - limit)
            .values(stop_time=t.last_update, closed_by=ClosedBy.TIMEOUT, terminate_cause="Stale-Session")
            .returning(t.login, t.acct_session_id)
            .execution_options(synchronize_session=False)
        ).all()
        closed.extend(login for login, _ in rows)
        changes.extend(session_closed(login, nas_id, sid) for login, sid in rows)
    record_changes(session, changes)  # the workers stop counting them, in place
    return closed


def history(
    session: Session, login: str, limit: int = 100, service_ids: Sequence[int] | None = None
) -> list[AcctSession]:
    """Connection history (Extrato de Conexões), newest first; ``service_ids`` keeps out the
    sessions of an earlier, cancelled holder of the same login."""
    query = select(AcctSession).where(AcctSession.login == login)
    if service_ids is not None:
        query = query.where(or_(AcctSession.service_id.in_(service_ids), AcctSession.service_id.is_(None)))
    return list(
        session.scalars(
            query.order_by(AcctSession.start_time.desc().nulls_last(), AcctSession.id.desc()).limit(limit)
        )
    )
