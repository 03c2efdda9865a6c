"""Accounting storage on both backends: merges, the reaper, connection history, migrations."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from psycopg import pq
from sqlalchemy import event, text

from aaa.accounting.records import AcctRecord, StatusType
from aaa.accounting.store import apply_records, history, reap
from aaa.accounting.writer import AcctWriter
from aaa.changes.feed import install_publisher, latest_id
from aaa.changes.sessions import read_closed, read_opened
from aaa.db.base import UtcDateTime
from aaa.db.migrate import is_current
from aaa.models import metadata
from aaa.tables.accounting import AcctSession
from tests.conftest import make_nas

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def rec(
    status: StatusType, nas_id: int, seconds: int = 0, sid: str = "s1", login: str = "maria", **kw: Any
) -> AcctRecord:
    return AcctRecord(status, nas_id, T0 + timedelta(seconds=seconds), sid, login, **kw)


def sessions(factory: Any) -> dict[str, AcctSession]:
    with factory() as session:
        return {s.acct_session_id: s for s in session.query(AcctSession)}


def test_schema_from_migrations_matches_the_models(engine: Any) -> None:
    assert is_current(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_times_are_timezone_aware(factory: Any) -> None:
    with factory.begin() as session:
        nas = make_nas(session)
        apply_records(session, [rec(StatusType.START, nas)])
    assert sessions(factory)["s1"].start_time == T0
    with pytest.raises(ValueError, match="naive datetime"):
        UtcDateTime().process_bind_param(datetime(2026, 1, 1), None)  # type: ignore[arg-type]


def test_merges_only_move_forward(factory: Any) -> None:
    with factory.begin() as session:
        nas = make_nas(session)
    batches = [
        [rec(StatusType.START, nas, framed_ip="100.64.0.1")],
        [rec(StatusType.INTERIM, nas, 300, session_time=300, input_octets=100, output_octets=1000)],
        [
            rec(StatusType.INTERIM, nas, 200, session_time=200, input_octets=50, output_octets=500)
        ],  # late, older
        [
            rec(
                StatusType.STOP,
                nas,
                600,
                session_time=600,
                input_octets=200,
                output_octets=2000,
                terminate_cause="Lost-Carrier",
            )
        ],
        [rec(StatusType.STOP, nas, 700, session_time=700, input_octets=300, terminate_cause="User-Request")],
        [rec(StatusType.START, nas, 0)],  # a late (retransmitted) Start never reopens or moves the stop
    ]
    for batch in batches:
        with factory.begin() as session:
            apply_records(session, batch)
    s = sessions(factory)["s1"]
    assert s.stop_time == T0 + timedelta(seconds=600)  # the first Stop wins
    assert s.terminate_cause == "Lost-Carrier" and s.closed_by.value == "stop"
    assert (s.input_octets, s.output_octets, s.session_time) == (300, 2000, 700)
    assert s.framed_ip == "100.64.0.1"


def test_a_start_s_own_time_beats_one_estimated_from_session_time(factory: Any) -> None:
    with factory.begin() as session:
        nas = make_nas(session)
    batches = [
        [
            rec(StatusType.START, nas, sid="started"),
            rec(StatusType.INTERIM, nas, 300, sid="late-start", session_time=300),
            rec(StatusType.STOP, nas, 60, sid="stop-only", session_time=60),
        ],
        # One second more than has passed: the estimate (T0 - 1 s) must not move a Start's time.
        [
            rec(StatusType.INTERIM, nas, 300, sid="started", session_time=301),
            rec(StatusType.INTERIM, nas, 600, sid="late-start", session_time=601),
        ],
        [
            rec(StatusType.STOP, nas, 600, sid="started", session_time=610),
            rec(StatusType.START, nas, 2, sid="late-start"),  # its own time replaces the estimate
        ],
    ]
    starts = []
    for batch in batches:
        with factory.begin() as session:
            apply_records(session, batch)
        starts.append({sid: (s.start_time, s.start_estimated) for sid, s in sessions(factory).items()})
    second = T0 - timedelta(seconds=1)
    assert starts[0] == {"started": (T0, False), "late-start": (T0, True), "stop-only": (T0, True)}
    assert starts[1]["started"] == (T0, False) and starts[1]["late-start"] == (second, True)
    assert starts[2]["started"] == (T0, False)
    assert starts[2]["late-start"] == (T0 + timedelta(seconds=2), False)


def test_an_interim_of_a_started_session_is_a_hot_update(pg_factory: Any) -> None:
    """PostgreSQL writes no index entry for it: no indexed column moves, and pages keep room."""
    with pg_factory.kw["bind"].connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM acct_session"))  # earlier tests' deleted rows (autovacuum's job)
    with pg_factory.begin() as session:
        nas = make_nas(session)
        apply_records(session, [rec(StatusType.START, nas, sid=f"s{i}") for i in range(20)])
    with pg_factory.begin() as session:
        apply_records(
            session,
            [
                rec(StatusType.INTERIM, nas, 300, sid=f"s{i}", session_time=301, input_octets=i)
                for i in range(20)
            ],
        )
        counts = session.execute(
            text(
                "SELECT pg_stat_get_xact_tuples_updated(c.oid), pg_stat_get_xact_tuples_hot_updated(c.oid)"
                " FROM pg_class c WHERE c.relname = 'acct_session'"
            )
        ).one()
    assert tuple(counts) == (20, 20)


def test_accounting_off_and_on_only_close_that_nas(factory: Any) -> None:
    with factory.begin() as session:
        a, b = make_nas(session, address="127.0.0.10"), make_nas(session, address="127.0.0.11")
        apply_records(session, [rec(StatusType.START, a, sid="a1"), rec(StatusType.START, b, sid="b1")])
    with factory.begin() as session:
        changed = apply_records(
            session, [AcctRecord(StatusType.ACCOUNTING_OFF, a, T0 + timedelta(seconds=5))]
        )
    assert changed == set()  # closing needs no event: a stale "online" is rechecked before a reject
    rows = sessions(factory)
    assert rows["a1"].closed_by.value == "nas_reboot" and rows["b1"].stop_time is None


def test_reaper_closes_stale_sessions_and_keeps_history(factory: Any) -> None:
    with factory.begin() as session:
        nas = make_nas(session, interim_interval=60)
        apply_records(
            session, [rec(StatusType.START, nas, sid="old"), rec(StatusType.START, nas, 170, sid="fresh")]
        )
    with factory.begin() as session:
        closed = reap(session, T0 + timedelta(seconds=181), multiplier=3, default_interval=300)
    assert closed == ["maria"]
    rows = sessions(factory)
    assert rows["old"].closed_by.value == "timeout" and rows["old"].stop_time == T0
    assert rows["fresh"].stop_time is None
    with factory() as session:
        assert [s.acct_session_id for s in history(session, "maria")] == ["fresh", "old"]


def test_a_group_commit_is_one_statement_on_postgresql(factory: Any, tmp_path: Path) -> None:
    """The writer's batch of distinct sessions: on PostgreSQL one statement in autocommit (one
    round trip on the wire, no BEGIN/COMMIT: read from libpq's protocol trace) that merges,
    writes the feed row and is announced after; anything else (a session twice, SQLite) runs
    as one transaction of several statements."""
    postgres = factory.kw["bind"].dialect.name == "postgresql"
    with factory.begin() as session:
        nas = make_nas(session)
        apply_records(session, [rec(StatusType.START, nas, sid="known")])
    exact = T0 + timedelta(seconds=10, microseconds=999_999)
    writer = AcctWriter(factory, batch_max=256, concurrency=1)
    published: list[Any] = []
    statements: list[str] = []
    wire = tmp_path / "libpq.trace"

    async def write() -> int:
        await writer._begin_write(
            [rec(StatusType.START, nas, sid="warm-up", login="ana")]
        )  # connects, prepares
        install_publisher(factory, published.extend)
        event.listen(factory.kw["bind"], "before_cursor_execute", lambda *args: statements.append(args[2]))
        with wire.open("w") as trace:
            pgconn = writer._loop_merge._idle[0].pgconn if writer._loop_merge else None
            if pgconn:
                pgconn.trace(trace.fileno())
                pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
            await writer._begin_write(
                [
                    AcctRecord(StatusType.START, nas, exact, "new", "maria"),
                    rec(StatusType.INTERIM, nas, 20, sid="known", session_time=20, input_octets=5),
                    rec(StatusType.INTERIM, nas, 30, sid="lost-start", login="joao", session_time=30),
                    rec(StatusType.STOP, nas, 40, sid="never-started", login="ana", session_time=40),
                ]
            )
            if pgconn:
                pgconn.untrace()
        one_batch = len(statements)
        await writer._begin_write(
            [rec(StatusType.START, nas, 50, sid="twice"), rec(StatusType.STOP, nas, 60, sid="twice")]
        )
        return one_batch

    before = latest_id_of(factory)
    try:
        one_batch = asyncio.run(write())
    finally:
        writer.close()
    sent = [line.split("\t")[2] for line in wire.read_text().splitlines() if line.startswith("F")]
    if postgres:
        assert sent == ["Bind", "Describe", "Execute", "Sync"] and one_batch == 0, (sent, statements)
    else:
        assert one_batch > 1, statements
    assert len(statements) > one_batch + 1  # the repeated session: rounds in a transaction
    # Sessions opened (a Start, an Interim whose Start was lost; not a known session nor one first
    # seen by its Stop) and closed, each with what the workers' snapshots keep of it.
    opened = {
        f"{login}:{s.acct_session_id}": s
        for kind, key in published
        if kind == "session_open"
        for login, s in [read_opened(key)]
    }
    closed = sorted(
        "{}:{}".format(*read_closed(key)[::2]) for kind, key in published if kind == "session_close"
    )
    # PostgreSQL merges a session twice in one batch in rounds (opened, then closed); SQLite
    # row by row in one transaction (only closed).
    assert sorted(opened) == ["joao:lost-start", "maria:new", *(["maria:twice"] if postgres else [])]
    assert opened["maria:new"].start_time == exact and opened["joao:lost-start"].start_time == T0
    assert closed == ["ana:never-started", "maria:twice"]
    assert latest_id_of(factory) > before
    rows = sessions(factory)
    assert rows["known"].input_octets == 5 and rows["never-started"].stop_time is not None
    assert rows["twice"].stop_time == T0 + timedelta(seconds=60)
    assert rows["new"].start_time == exact  # times travel as integer microseconds
    assert rows["lost-start"].start_time == T0 and rows["never-started"].start_time == T0


def test_group_commits_take_halves_and_the_next_is_sent_before_the_answers(factory: Any) -> None:
    """Records submitted together: few go in one commit; many go in two halves, and the second
    half is on its way to the database (in flight) before the first half's tickets are handed
    back to be answered. Every record is stored once."""
    with factory.begin() as session:
        nas = make_nas(session)
    calls: list[tuple[list[int], int, BaseException | None]] = []
    writer: AcctWriter[int] = AcctWriter(
        factory, batch_max=256, concurrency=1, done=lambda t, e: calls.append((t, writer._in_flight, e))
    )

    async def submit(numbers: range) -> None:
        for n in numbers:
            writer.submit(rec(StatusType.START, nas, sid=f"h{n}", login=f"user{n}"), n)
        while not writer.idle:
            await asyncio.sleep(0.01)

    async def both() -> None:
        await submit(range(10))
        await submit(range(10, 50))

    try:
        asyncio.run(both())
    finally:
        writer.close()
    assert [(len(tickets), in_flight, error) for tickets, in_flight, error in calls] == [
        (10, 0, None),  # under the threshold: one commit, nothing behind it
        (20, 1, None),  # half of 40; the other half already sent when this one is answered
        (20, 0, None),
    ]
    assert [n for tickets, _, _ in calls for n in tickets] == list(range(50))
    assert {f"h{n}" for n in range(50)} <= set(sessions(factory))


def test_after_a_commit_the_next_takes_half_of_what_the_worker_holds(factory: Any) -> None:
    """When a commit returns, the next one takes half of the records the worker holds: those
    waiting and those the returned commit is about to answer (a NAS sends that many again while
    the next commit runs), never more than wait. So a NAS's outstanding requests settle into two
    equal halves instead of a third in the database and the rest waiting behind it."""
    with factory.begin() as session:
        nas = make_nas(session)
    calls: list[tuple[int, int]] = []
    writer: AcctWriter[int] = AcctWriter(
        factory, batch_max=256, concurrency=1, done=lambda t, e: calls.append((len(t), writer._in_flight))
    )

    async def run() -> None:
        for n in range(40):
            writer.submit(rec(StatusType.START, nas, sid=f"w{n}", login=f"user{n}"), n)
        await asyncio.sleep(0)  # the first commit leaves with half of the 40
        for n in range(40, 70):  # arriving while it is in flight: 50 wait when it returns
            writer.submit(rec(StatusType.START, nas, sid=f"w{n}", login=f"user{n}"), n)
        while not writer.idle:
            await asyncio.sleep(0.01)

    try:
        asyncio.run(run())
    finally:
        writer.close()
    assert calls == [
        (20, 1),  # half of 40; then (50 waiting + these 20) / 2 = 35 were sent before answering
        (35, 1),  # 15 left: under the threshold, all of them
        (15, 0),
    ]
    assert {f"w{n}" for n in range(70)} <= set(sessions(factory))


def test_a_write_that_cannot_start_is_answered_with_its_error(factory: Any) -> None:
    """A batch whose write fails before it reaches the database (here the commit thread is gone)
    still ends: its tickets come back with the error, so nothing is acknowledged and the writer
    does not wait for it forever."""
    with factory.begin() as session:
        nas = make_nas(session)
    calls: list[tuple[list[int], BaseException | None]] = []
    writer: AcctWriter[int] = AcctWriter(factory, 256, 1, done=lambda t, e: calls.append((t, e)))
    writer._executor.shutdown()  # a session twice in one batch goes to the thread, as on SQLite

    async def submit() -> None:
        writer.submit(rec(StatusType.START, nas, sid="twice"), 0)
        writer.submit(rec(StatusType.STOP, nas, 5, sid="twice"), 1)
        while not writer.idle:
            await asyncio.sleep(0.01)

    try:
        asyncio.run(asyncio.wait_for(submit(), 5))
    finally:
        writer.close()
    assert [(tickets, type(error)) for tickets, error in calls] == [([0, 1], RuntimeError)]


def latest_id_of(factory: Any) -> int:
    with factory() as session:
        return latest_id(session)
