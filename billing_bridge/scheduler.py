"""Routines on their schedules (Rotinas). Every node's scheduler fires them; each
scheduled moment runs once: a PostgreSQL advisory lock lets one node in at a time (the others
skip at once instead of queueing), and the routine's ``last_slot`` makes a moment that already
ran a no-op for a node that comes late."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from aaa.audit.log import Actor, act_as
from aaa.db.base import utcnow
from aaa.errors import Invalid, NotFound
from billing_bridge.charges import open_charges
from billing_bridge.models import Routine, RoutineRun
from billing_bridge.routine import run_routine
from billing_bridge.sources import ChargeSource

log = logging.getLogger(__name__)
_LOCK_BASE = 0x5EED_0000  # advisory lock keys: this + routine id
SCHEDULE = ("month", "day", "day_of_week", "hour", "minute")


def trigger_of(fields: dict[str, str], zone: ZoneInfo) -> CronTrigger:
    """The cron trigger, or Invalid naming the field that does not parse."""
    try:
        return CronTrigger(**{name: fields[name] for name in SCHEDULE}, timezone=zone)
    except ValueError as exc:
        raise Invalid(
            f"the schedule does not parse: {exc} (cron syntax, e.g. day_of_week='mon-fri')"
        ) from exc


def run_scheduled(
    factory: sessionmaker[Session],
    routine_id: int,
    slot: datetime,
    zone: ZoneInfo,
    source: ChargeSource = open_charges,
) -> RoutineRun | None:
    """Run the routine for the scheduled moment ``slot``, unless another node has or is."""
    with factory.begin() as session:
        postgres = session.get_bind().dialect.name == "postgresql"
        if postgres and not session.scalar(select(func.pg_try_advisory_xact_lock(_LOCK_BASE + routine_id))):
            return None
        routine = session.get(Routine, routine_id, with_for_update=True)
        if routine is None or not routine.enabled:
            return None
        if routine.last_slot is not None and routine.last_slot >= slot:
            return None
        routine.last_slot = slot
        act_as(session, Actor("scheduler", "local"))
        run = run_routine(session, slot.astimezone(zone).date(), zone, utcnow(), dry_run=False, source=source)
        run.routine_id = routine_id
        log.info(
            "routine %d (%s) ran for %s: %s", routine_id, routine.description, slot.isoformat(), run.counts
        )
        return run


class RoutineScheduler:
    """APScheduler in the background, its jobs re-read from the database every ``refresh`` s."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        zone: ZoneInfo,
        refresh: float = 60.0,
        source: ChargeSource = open_charges,
    ):
        self.factory = factory
        self.zone = zone
        self.source = source
        self.scheduler = BackgroundScheduler(timezone=zone)
        self.scheduler.add_job(self.reload, "interval", seconds=refresh, id="reload")

    def start(self) -> None:
        self.reload()
        self.scheduler.start()

    def stop(self) -> None:
        self.scheduler.shutdown(wait=False)

    def reload(self) -> None:
        with self.factory() as session:
            routines = list(session.scalars(select(Routine).where(Routine.enabled.is_(True))))
        wanted = {f"routine-{r.id}" for r in routines}
        for job in self.scheduler.get_jobs():
            if job.id.startswith("routine-") and job.id not in wanted:
                job.remove()
        for r in routines:
            trigger = trigger_of({name: getattr(r, name) for name in SCHEDULE}, self.zone)
            self.scheduler.add_job(
                self._fire, trigger, args=(r.id,), id=f"routine-{r.id}", replace_existing=True, coalesce=True
            )

    def _fire(self, routine_id: int) -> None:
        slot = utcnow().replace(second=0, microsecond=0)  # schedules have minute resolution
        try:
            run_scheduled(self.factory, routine_id, slot, self.zone, self.source)
        except Exception:
            log.exception("routine %d failed", routine_id)


def list_routines(session: Session) -> list[Routine]:
    return list(session.scalars(select(Routine).order_by(Routine.id)))


def add_routine(session: Session, zone: ZoneInfo, **fields: Any) -> Routine:
    """A new routine; a schedule that does not parse is Invalid (cron fields, ISP time zone)."""
    trigger_of(fields, zone)
    routine = Routine(**fields)
    session.add(routine)
    session.flush()
    return routine


def update_routine(session: Session, routine_id: int, zone: ZoneInfo, **changes: Any) -> Routine:
    routine = session.get(Routine, routine_id)
    if routine is None:
        raise NotFound(f"routine {routine_id} does not exist")
    trigger_of({name: changes.get(name, getattr(routine, name)) for name in SCHEDULE}, zone)
    for field, value in changes.items():
        setattr(routine, field, value)
    session.flush()
    return routine
