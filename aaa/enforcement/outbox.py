"""Writes the enforcement outbox in the transaction of the change that needs it.

Derived from the ORM's change tracking, like cache invalidation: any code path that edits what
decides an online subscriber's answer (status, plan, overlays, plan speeds, fixed addresses)
enqueues one row per affected online service, without having to remember to. A service that
already waits in the outbox is not enqueued twice: the enforcer reads the newest state anyway.
"""

from __future__ import annotations

from dataclasses import fields

from sqlalchemy import insert, inspect, select
from sqlalchemy.orm import Session

from aaa.db.base import utcnow
from aaa.ipam.subnets import POOL_FIELDS
from aaa.policies.inputs import PlanSpeed
from aaa.tables.accounting import AcctSession
from aaa.tables.enforcement import Enforcement, EnforcementState
from aaa.tables.ipam import IpAssignment
from aaa.tables.subscribers import BillingMethod, Plan, Service
from aaa.vocabulary.ipam import AssignmentKind

_SERVICE_FIELDS = (
    "status",
    "plan",
    "custom_download_kbps",
    "custom_upload_kbps",
    "custom_until",
    "trial_plan",
    "trial_until",
    "trust_until",
    "bonus_until",
    "exempt",
)
# What a plan edit can change in a live answer: its speeds and its pools.
_PLAN_FIELDS = (*(f.name for f in fields(PlanSpeed) if f.name != "name"), *POOL_FIELDS)


_REDUCTION_FIELDS = ("reduction", "reduction_percent", "reduction_download_kbps", "reduction_upload_kbps")
_CHUNK = 10_000


def _changed(obj: object, fields: tuple[str, ...]) -> list[str]:
    attrs = inspect(obj).attrs
    return [name for name in fields if attrs[name].history.has_changes()]


def after_flush(session: Session, _context: object) -> None:
    causes: dict[int, set[str]] = {}
    plans: dict[int, list[str]] = {}
    methods: set[int] = set()
    dirty = session.dirty  # computed once: it walks the whole identity map
    for obj in (*session.new, *dirty, *session.deleted):
        if isinstance(obj, Service) and obj in dirty:
            if changed := _changed(obj, _SERVICE_FIELDS):
                causes.setdefault(obj.id, set()).update(changed)
        elif isinstance(obj, BillingMethod) and obj in dirty:
            if _changed(obj, _REDUCTION_FIELDS):
                methods.add(obj.id)
        elif isinstance(obj, Plan) and obj in dirty:
            if changed := _changed(obj, _PLAN_FIELDS):
                plans[obj.id] = changed
        elif isinstance(obj, IpAssignment) and obj.kind is AssignmentKind.FIXED and obj.service_id:
            causes.setdefault(obj.service_id, set()).add("fixed address")
    if plans:
        query = select(Service.id, Service.plan_id).where(
            Service.plan_id.in_(plans) | Service.trial_plan_id.in_(plans)
        )
        for service_id, plan_id in session.execute(query):
            causes.setdefault(service_id, set()).update(
                f"plan {f}" for f in plans.get(plan_id, ["trial plan"])
            )
    if methods:
        for service_id in session.scalars(select(Service.id).where(Service.billing_method_id.in_(methods))):
            causes.setdefault(service_id, set()).add("billing method reduction")
    if not causes:
        return
    online: set[int] = set()
    waiting: set[int] = set()
    ids = sorted(causes)
    for start in range(0, len(ids), _CHUNK):  # a routine may change more services than one IN list holds
        chunk = ids[start : start + _CHUNK]
        found = session.scalars(
            select(AcctSession.service_id)
            .where(AcctSession.stop_time.is_(None), AcctSession.service_id.in_(chunk))
            .distinct()
        )
        online.update(i for i in found if i is not None)
        waiting.update(
            session.scalars(
                select(Enforcement.service_id).where(
                    Enforcement.state == EnforcementState.PENDING,
                    Enforcement.attempts == 0,
                    Enforcement.service_id.in_(chunk),
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
