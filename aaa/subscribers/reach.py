"""Which logins and services a flush reaches: one answer for the RADIUS caches (whose snapshots
are stale) and for the enforcement outbox (whose online answer changes), so the two can never
disagree about who a change touches.

A service edit reaches that service; a billing-method edit every service paying with it; a
fixed address the service holding it (before and after): their snapshots are refreshed. A plan
edit reaches the plan, and a pool edit the NAS entries and plans that carry it: the workers
write them into the one plan object their snapshots share, so no snapshot is dropped for it,
however many subscribers the plan has. The live answer (the enforcement outbox) changes only
with the fields that decide it (``LIVE_*``), for every service on an edited plan or trialling it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import inspect, or_, select
from sqlalchemy.orm import Session

from aaa.ipam.subnets import POOL_FIELDS
from aaa.policies.inputs import PLAN_COLUMNS
from aaa.tables.ipam import IpAssignment, Pool
from aaa.tables.nas import Nas
from aaa.tables.subscribers import BillingMethod, Plan, Service
from aaa.vocabulary.ipam import AssignmentKind

# What decides an online subscriber's answer, per table.
LIVE_SERVICE_FIELDS = (
    "status",
    "plan",
    "plan_id",  # set directly by bulk changes (mass plan change): the relationship does not see it
    "custom_download_kbps",
    "custom_upload_kbps",
    "custom_until",
    "trial_plan",
    "trial_plan_id",
    "trial_until",
    "trust_until",
    "bonus_until",
    "exempt",
    "reply_attributes",
)
LIVE_PLAN_FIELDS = (
    *(name for name in PLAN_COLUMNS if name != "name"),
    *POOL_FIELDS,
)
LIVE_METHOD_FIELDS = (
    "reduction",
    "reduction_percent",
    "reduction_download_kbps",
    "reduction_upload_kbps",
    "suspended_action",
)

_MEMO = "reach"


@dataclass
class Reach:
    logins: set[str] = field(default_factory=set)  # snapshots to refresh
    plans: set[int] = field(default_factory=set)  # plans the workers read again
    nas_keys: set[str] = field(default_factory=set)  # NAS-directory entries to refresh
    live: dict[int, set[str]] = field(default_factory=dict)  # service id -> what changed its answer

    def add_live(self, service_id: int, causes: Any) -> None:
        self.live.setdefault(service_id, set()).update(causes)


@dataclass
class _Touched:
    services: set[int] = field(default_factory=set)  # holders of a changed fixed address
    plans: dict[int, list[str]] = field(default_factory=dict)  # plan id -> live fields changed
    methods: dict[int, bool] = field(default_factory=dict)  # method id -> its reduction changed


def of(session: Session, flush_context: object) -> Reach:
    """The reach of the flush in progress, computed once per flush whoever asks first."""
    memo = session.info.get(_MEMO)
    if memo is not None and memo[0] is flush_context:
        return memo[1]  # type: ignore[no-any-return]
    found = _reach(session)
    session.info[_MEMO] = (flush_context, found)
    return found


def _reach(session: Session) -> Reach:
    reach, touched = Reach(), _Touched()
    new, dirty, deleted = session.new, session.dirty, session.deleted  # each walks the identity map
    for obj in (*new, *dirty, *deleted):
        if not (obj in new or obj in deleted or session.is_modified(obj)):
            continue
        if isinstance(obj, Service):
            reach.logins.update(login for login in _values(obj, "login") if login)
            if obj in dirty and (changed := _changed(obj, LIVE_SERVICE_FIELDS)):
                reach.add_live(obj.id, changed)
        elif isinstance(obj, Plan) and obj not in new:
            reach.plans.add(obj.id)
            if obj in dirty and (changed := _changed(obj, LIVE_PLAN_FIELDS)):
                touched.plans[obj.id] = changed
        elif isinstance(obj, Nas):
            reach.nas_keys.add(str(obj.id))
        elif isinstance(obj, IpAssignment) and obj.kind is AssignmentKind.FIXED:
            for service_id in _values(obj, "service_id"):
                if service_id:
                    touched.services.add(service_id)
                    reach.add_live(service_id, ["fixed address"])
        elif isinstance(obj, BillingMethod) and obj not in new:
            touched.methods[obj.id] = obj in dirty and bool(_changed(obj, LIVE_METHOD_FIELDS))
        elif isinstance(obj, Pool) and obj not in new:
            reach.nas_keys.add(f"pool {obj.id}")  # NAS entries and plans carry their pools
    _services_reached(session, touched, reach)
    return reach


def _services_reached(session: Session, touched: _Touched, reach: Reach) -> None:
    """One query for every service a method or fixed address reaches (their snapshots) and
    every service whose answer an edited plan changes (the outbox)."""
    where = []
    if touched.plans:
        where += [Service.plan_id.in_(touched.plans), Service.trial_plan_id.in_(touched.plans)]
    if touched.services:
        where.append(Service.id.in_(touched.services))
    if touched.methods:
        where.append(Service.billing_method_id.in_(touched.methods))
    if not where:
        return
    query = select(
        Service.id, Service.login, Service.plan_id, Service.trial_plan_id, Service.billing_method_id
    )
    for service_id, login, plan_id, trial_plan_id, method_id in session.execute(query.where(or_(*where))):
        if login and (service_id in touched.services or method_id in touched.methods):
            reach.logins.add(login)
        if plan_id is not None and (changed := touched.plans.get(plan_id)):
            reach.add_live(service_id, (f"plan {name}" for name in changed))
        if trial_plan_id is not None and touched.plans.get(trial_plan_id):
            reach.add_live(service_id, ["trial plan"])
        if method_id is not None and touched.methods.get(method_id):
            reach.add_live(service_id, ["billing method reduction"])


def _changed(obj: object, names: tuple[str, ...]) -> list[str]:
    attrs = inspect(obj).attrs
    return [name for name in names if attrs[name].history.has_changes()]


def _values(obj: Any, key: str) -> set[Any]:
    """The attribute's value now and before this flush."""
    history = inspect(obj).attrs[key].history
    return {*history.added, *history.unchanged, *history.deleted}
