"""The suspension / re-enable routine (Rotinas), and settling a service when money
arrives. Transitions go through ``change_status``, so they are audited, reach the RADIUS caches
and are enforced on the NAS (outbox) like any operator change.

Races with a payment: both sides lock the service rows (``FOR UPDATE`` on PostgreSQL) and read
the charges after the lock, so whichever commits second sees the other's work: a payment that
lands during a routine leaves the service enabled.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aaa import metrics
from aaa.db.base import utcnow
from aaa.db.paging import page
from aaa.subscribers.lifecycle import change_status
from aaa.tables.subscribers import BillingMethod, Service
from aaa.vocabulary.subscribers import ServiceStatus as S
from billing_bridge.charges import open_charges, rule_of
from billing_bridge.models import Charge, ChargeStatus, RoutineRun
from billing_bridge.sources import ChargeSource
from billing_bridge.standing import standing

MANAGED = (S.ENABLED, S.REDUCED_DEBT, S.SUSPENDED_DEBT)  # the routine leaves every other status alone
SEVERITY = {S.ENABLED: 0, S.REDUCED_DEBT: 1, S.SUSPENDED_DEBT: 2}


@dataclass(frozen=True, slots=True)
class Transition:
    service_id: int
    login: str | None
    current: S
    target: S
    reason: str


def evaluate(
    session: Session,
    today: date,
    zone: ZoneInfo,
    service_ids: Collection[int] | None = None,
    *,
    lock: bool = False,
    source: ChargeSource = open_charges,
) -> tuple[list[Transition], list[Service]]:
    """Every managed service whose standing differs from its status, and the services read;
    the charges come from ``source`` (our tables, or another ERP's)."""
    query = select(Service).where(Service.status.in_(MANAGED)).order_by(Service.id)
    if service_ids is not None:
        query = query.where(Service.id.in_(service_ids))
    if lock:
        query = query.with_for_update()
    services = list(session.scalars(query))
    methods = {m.id: m for m in session.scalars(select(BillingMethod))}
    charges = source(session, service_ids, today)
    transitions = []
    for service in services:
        bonus = (
            (service.bonus_until - timedelta(microseconds=1)).astimezone(zone).date()
            if service.bonus_until
            else None
        )
        found = standing(
            charges.get(service.id, []),
            rule_of(service, methods.get(service.billing_method_id) if service.billing_method_id else None),
            today,
            bonus_until=bonus,
            exempt=service.exempt,
        )
        if found.target is not service.status:
            transitions.append(
                Transition(service.id, service.login, service.status, found.target, found.reason)
            )
    return transitions, services


def run_routine(
    session: Session,
    today: date,
    zone: ZoneInfo,
    now: datetime,
    *,
    dry_run: bool,
    source: ChargeSource = open_charges,
    reenable_without_debt: bool = False,
) -> RoutineRun:
    """Apply (or, dry, only list) every transition; the run is recorded with its counts.

    A service held for debt that has no charge at all (imported or created suspended) is not
    re-enabled by "no debt": it is reported as suspended without debt and left alone, unless
    ``reenable_without_debt``."""
    transitions, services = evaluate(session, today, zone, lock=not dry_run, source=source)
    unexplained = _without_debt(session, transitions)
    if not reenable_without_debt:
        transitions = [t for t in transitions if t.service_id not in unexplained]
    if not dry_run:
        by_id = {s.id: s for s in services}
        for t in transitions:
            change_status(session, by_id[t.service_id], t.target, reason=f"routine: {t.reason}")
        session.flush()  # the transitions, their audit, invalidation and outbox: the run's real work
    names = {S.SUSPENDED_DEBT: "suspended", S.REDUCED_DEBT: "reduced", S.ENABLED: "enabled"}
    counts = Counter(names[t.target] for t in transitions)
    counts["unchanged"] = len(services) - len(transitions)
    if unexplained and not reenable_without_debt:
        counts["suspended_without_debt"] = len(unexplained)
    skipped = session.execute(
        select(Service.status, func.count()).where(Service.status.not_in(MANAGED)).group_by(Service.status)
    )
    counts.update({f"skipped_{status.value}": n for status, n in skipped})
    run = RoutineRun(
        started_at=now,
        finished_at=utcnow(),
        day=today,
        dry_run=dry_run,
        counts=dict(counts),
        changes=[{**asdict(t), "current": t.current.value, "target": t.target.value} for t in transitions]
        + [
            {
                "service_id": t.service_id,
                "login": t.login,
                "current": t.current.value,
                "target": t.current.value,
                "reason": "suspended without debt: no charge explains the status; left as it is "
                "(reenable_without_debt re-enables it)",
            }
            for t in unexplained.values()
            if not reenable_without_debt
        ],
    )
    session.add(run)
    session.flush()
    metrics.ROUTINE_RUNS.labels(str(dry_run).lower()).inc()
    if not dry_run:
        for t in transitions:
            metrics.child(metrics.ROUTINE_TRANSITIONS, t.target.value).inc()
    return run


def _without_debt(session: Session, transitions: list[Transition]) -> dict[int, Transition]:
    """The transitions that would lift a debt status from a service without any charge."""
    lifting = {
        t.service_id: t
        for t in transitions
        if t.current in (S.SUSPENDED_DEBT, S.REDUCED_DEBT) and t.target is S.ENABLED
    }
    if not lifting:
        return {}
    charged = set(
        session.scalars(
            select(Charge.service_id).where(
                Charge.service_id.in_(lifting), Charge.status != ChargeStatus.CANCELLED
            )
        )
    )
    return {service_id: t for service_id, t in lifting.items() if service_id not in charged}


def settle(
    session: Session, service_ids: Collection[int], today: date, zone: ZoneInfo, why: str
) -> list[Transition]:
    """Money arrived: a service whose standing is now milder moves there at once (a payment
    never makes a status harsher; that waits for the routine)."""
    transitions, services = evaluate(session, today, zone, service_ids, lock=True)
    by_id = {s.id: s for s in services}
    milder = [t for t in transitions if SEVERITY[t.target] < SEVERITY[t.current]]
    for t in milder:
        change_status(session, by_id[t.service_id], t.target, reason=f"{why}: {t.reason}")
    return milder


def restate(
    session: Session, service_ids: Collection[int], today: date, zone: ZoneInfo, why: str
) -> list[Transition]:
    """Money went away (a reversed receipt): each service moves to its standing now, harsher
    included, instead of waiting for the next routine."""
    transitions, services = evaluate(session, today, zone, service_ids, lock=True)
    by_id = {s.id: s for s in services}
    for t in transitions:
        change_status(session, by_id[t.service_id], t.target, reason=f"{why}: {t.reason}")
    return transitions


def recent_runs(session: Session, limit: int, offset: int = 0) -> tuple[list[RoutineRun], int]:
    """The routine runs' log, newest first, and how many there are."""
    return page(session, select(RoutineRun), RoutineRun.id.desc(), limit=limit, offset=offset)
