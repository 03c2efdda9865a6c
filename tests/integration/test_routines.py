"""Routines on schedules: cron fields validated, weekdays-only schedules, and one run per
scheduled moment even with two scheduler processes on PostgreSQL."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from aaa.composition import session_factory
from aaa.db.engine import make_engine
from billing_bridge.models import Routine, RoutineRun
from billing_bridge.scheduler import RoutineScheduler, run_scheduled, trigger_of
from tests.api_client import Api

ZONE = ZoneInfo("America/Sao_Paulo")
SLOT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday 06:00 in São Paulo


def test_weekdays_only_schedule() -> None:
    weekdays = trigger_of(
        {"month": "*", "day": "*", "day_of_week": "mon-fri", "hour": "6", "minute": "0"}, ZONE
    )
    saturday = datetime(2026, 11, 21, 12, 0, tzinfo=ZONE)
    assert weekdays.get_next_fire_time(None, saturday) == datetime(2026, 11, 23, 6, 0, tzinfo=ZONE)


def test_routines_api(api: Api) -> None:
    created = api.post(
        "/routines", {"description": "Suspensão dias úteis", "day_of_week": "mon-fri"}, expect=201
    )
    assert created["next_run"] is not None and created["hour"] == "6"
    bad = api.post("/routines", {"description": "x", "hour": "25"}, expect=422)
    assert "the schedule does not parse" in bad["detail"]
    assert api.patch(f"/routines/{created['id']}", {"minute": "61"}, expect=422)
    changed = api.patch(f"/routines/{created['id']}", {"hour": "7", "enabled": False})
    assert (changed["hour"], changed["next_run"]) == ("7", None)
    assert [r["description"] for r in api.get("/routines")["items"]] == ["Suspensão dias úteis"]


def test_scheduler_loads_enabled_routines(factory: sessionmaker[Session]) -> None:
    with factory.begin() as s:
        on = Routine(description="on")
        s.add_all([on, Routine(description="off", enabled=False)])
        s.flush()
        on_id = on.id
    scheduler = RoutineScheduler(factory, ZONE)
    scheduler.reload()  # not started: only the job table is checked
    assert sorted(job.id for job in scheduler.scheduler.get_jobs()) == ["reload", f"routine-{on_id}"]


def _node(
    url: str, routine_id: int, start: multiprocessing.synchronize.Event, out: multiprocessing.Queue
) -> None:  # type: ignore[type-arg]
    factory = session_factory(make_engine(url))
    start.wait(10)
    run = run_scheduled(factory, routine_id, SLOT, ZONE)
    out.put(run.id if run is not None else None)


def test_two_scheduler_processes_run_a_moment_once(
    pg_database: str, pg_factory: sessionmaker[Session]
) -> None:
    with pg_factory.begin() as s:
        routine = Routine(description="Suspensão")
        s.add(routine)
        s.flush()
        routine_id = routine.id
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    nodes = [ctx.Process(target=_node, args=(pg_database, routine_id, start, out)) for _ in range(2)]
    for node in nodes:
        node.start()
    start.set()
    results = [out.get(timeout=30) for _ in nodes]
    for node in nodes:
        node.join(10)
    assert sorted(results, key=lambda r: r is None)[1] is None and any(results)  # one ran, one skipped
    late = session_factory(make_engine(pg_database))
    assert run_scheduled(late, routine_id, SLOT, ZONE) is None  # a late node: the moment already ran
    with pg_factory() as s:
        assert (
            s.scalar(select(func.count()).select_from(RoutineRun).where(RoutineRun.routine_id == routine_id))
            == 1
        )
