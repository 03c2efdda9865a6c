"""The read model the RADIUS decision works from: subscriber snapshots and open sessions (a
worker's start-up, and a cache miss), and the ISP's policy built from the settings and IPAM's
pools. Plain columns in, plain immutable policy inputs out."""

from __future__ import annotations

import sys
from collections.abc import Collection, Iterable, Sequence
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, select
from sqlalchemy.orm import Session

from aaa.db.bulk import among
from aaa.ipam.pools import load_pools
from aaa.ipam.subnets import POOL_FIELDS
from aaa.policies.inputs import (
    PLAN_COLUMNS,
    CustomSpeed,
    IspPolicy,
    OpenSession,
    PlanSpeed,
    PoolRef,
    Reduction,
    ReductionKind,
    ReplyAttribute,
    Subscriber,
    SuspendedAction,
    Trial,
    TrustUnlock,
)
from aaa.settings import PolicySettings
from aaa.tables.accounting import AcctSession
from aaa.tables.ipam import IpAssignment, Subnet
from aaa.tables.subscribers import BillingMethod, Plan, Service
from aaa.vocabulary.attributes import fixed_attribute
from aaa.vocabulary.ipam import AssignmentKind, PoolKind, PoolMode
from aaa.vocabulary.messages import MESSAGES
from aaa.vocabulary.passwords import CLEARTEXT
from aaa.vocabulary.passwords import stored as stored_password

# Plain columns, not ORM objects: a snapshot miss builds no ORM instance, and the start-up load
# of a million services streams rows instead of holding them all.
_SERVICE = (
    Service.id,
    Service.login,
    Service.password,
    Service.password_scheme,
    Service.status,
    Service.plan_id,
    Service.simultaneous_use,
    Service.mac_binding,
    Service.mac,
    Service.nas_port_id,
    Service.status_changed_at,
    Service.custom_download_kbps,
    Service.custom_upload_kbps,
    Service.custom_until,
    Service.trial_plan_id,
    Service.trial_until,
    Service.trust_until,
    Service.trust_reason,
    Service.bonus_until,
    Service.exempt,
    Service.reply_attributes,
    BillingMethod.reduction,
    BillingMethod.reduction_percent,
    BillingMethod.reduction_download_kbps,
    BillingMethod.reduction_upload_kbps,
    BillingMethod.suspended_action,
)
_WITH_METHOD = Service.billing_method_id == BillingMethod.id
_SUBSCRIBERS = select(*_SERVICE).outerjoin(BillingMethod, _WITH_METHOD).where(Service.login.is_not(None))
_HELD = and_(IpAssignment.kind == AssignmentKind.FIXED, IpAssignment.released_at.is_(None))
_FIXED: Select[*tuple[Any, ...]] = (
    select(IpAssignment.service_id, IpAssignment.address, IpAssignment.prefix_len, Subnet.purpose)
    .join(Subnet, IpAssignment.subnet_id == Subnet.id)
    .where(_HELD)
    .order_by(IpAssignment.id)
)
# A miss: the services and their fixed addresses in one statement (a row per address held).
_WITH_FIXED = (
    select(*_SERVICE, IpAssignment.address, IpAssignment.prefix_len, Subnet.purpose)
    .outerjoin(BillingMethod, _WITH_METHOD)
    .outerjoin(IpAssignment, and_(IpAssignment.service_id == Service.id, _HELD))
    .outerjoin(Subnet, IpAssignment.subnet_id == Subnet.id)
    .order_by(Service.id, IpAssignment.id)
)
_OPEN_SESSIONS = select(
    AcctSession.login,
    AcctSession.nas_id,
    AcctSession.acct_session_id,
    AcctSession.calling_station_id,
    AcctSession.nas_port_id,
    AcctSession.start_time,
).where(AcctSession.stop_time.is_(None))
_PLANS = select(
    Plan.id, *(getattr(Plan, name) for name in PLAN_COLUMNS), *(getattr(Plan, f) for f in POOL_FIELDS)
)
_REDUCTION = Reduction()  # what a billing method's empty reduction fields mean
_STREAM = {"yield_per": 5000}  # start-up rows in chunks: the load's garbage stays small and is reused
Loaded = tuple[Subscriber | None, tuple[OpenSession, ...]]


def load_plans(session: Session, pools: dict[int, PoolRef] | None = None) -> dict[int, PlanSpeed]:
    """Every plan's speed, reply attributes and pools (``pools``: as already read), by plan id."""
    pools = load_pools(session) if pools is None else pools
    plans = {}
    for plan_id, *columns in session.execute(_PLANS):
        values = dict(zip(PLAN_COLUMNS, columns[: len(PLAN_COLUMNS)], strict=True))
        plans[plan_id] = PlanSpeed(
            **{**values, "reply_attributes": replies(values["reply_attributes"])},
            pools=tuple(pools[i] for i in columns[len(PLAN_COLUMNS) :] if i is not None),
            id=plan_id,
        )
    return plans


class Plans:
    """A worker's plans: one PlanSpeed per plan, shared by every snapshot on it or trialling
    it. An edited plan is written into that object (``refresh``): every snapshot sees the
    edit at once, whatever the number of subscribers on the plan."""

    def __init__(self, plans: dict[int, PlanSpeed]):
        self._by_id = plans

    def of(self, session: Session, plan_id: int) -> PlanSpeed:
        """The plan's shared speed; a plan created after start-up is read on first use (a
        loader thread may ask; the first plan object stored stays the one)."""
        plan = self._by_id.get(plan_id)
        if plan is None:
            for found_id, fresh in load_plans(session).items():
                self._by_id.setdefault(found_id, fresh)
            plan = self._by_id[plan_id]
        return plan

    def refresh(self, fresh: dict[int, PlanSpeed]) -> list[int]:
        """Take the plans as read now; the ids of those that changed. Only the worker's event
        loop calls it, so no decision sees a plan half written."""
        changed = []
        for plan_id, plan in fresh.items():
            held = self._by_id.setdefault(plan_id, plan)
            if held is not plan and held != plan:
                held.take(plan)
                changed.append(plan_id)
        return changed

    def __len__(self) -> int:
        return len(self._by_id)


def _subscriber(
    row: Sequence[Any], plan: PlanSpeed, trial: PlanSpeed | None, fixed: tuple[tuple[str, str], ...]
) -> Subscriber:
    (
        service_id,
        login,
        password,
        scheme,
        status,
        _plan_id,
        simultaneous_use,
        mac_binding,
        mac,
        nas_port_id,
        status_since,
        custom_download,
        custom_upload,
        custom_until,
        _trial_plan_id,
        trial_until,
        trust_until,
        trust_reason,
        bonus_until,
        exempt,
        reply_attributes,
        reduction,
        reduction_percent,
        reduction_download,
        reduction_upload,
        suspended_action,
    ) = row[: len(_SERVICE)]
    return Subscriber(
        service_id=service_id,
        login=login,
        password=password if scheme == CLEARTEXT else stored_password(scheme, password),
        status=status,
        plan=plan,
        simultaneous_use=simultaneous_use,
        mac_binding=mac_binding,
        mac=mac,
        nas_port_id=nas_port_id,
        fixed=fixed,
        status_since=status_since,
        trial=Trial(trial, trial_until) if trial is not None and trial_until is not None else None,
        custom=CustomSpeed(custom_download, custom_upload, custom_until)
        if custom_download is not None and custom_upload is not None
        else None,
        trust=TrustUnlock(trust_until, trust_reason or "") if trust_until else None,
        bonus_until=bonus_until,
        exempt=exempt,
        reduction=Reduction(
            ReductionKind(reduction),
            reduction_percent or _REDUCTION.percent,
            reduction_download or _REDUCTION.download_kbps,
            reduction_upload or _REDUCTION.upload_kbps,
        )
        if reduction
        else None,
        reply_attributes=replies(reply_attributes),
        suspended_action=suspended_action,
    )


_PLAN_AT, _TRIAL_AT = _SERVICE.index(Service.plan_id), _SERVICE.index(Service.trial_plan_id)


def _build(
    session: Session, plans: Plans, row: Sequence[Any], fixed: tuple[tuple[str, str], ...]
) -> Subscriber:
    trial_id = row[_TRIAL_AT]
    trial = plans.of(session, trial_id) if trial_id is not None else None
    return _subscriber(row, plans.of(session, row[_PLAN_AT]), trial, fixed)


def replies(stored: list[list[str]] | None) -> tuple[ReplyAttribute, ...]:
    """A JSON list of [attribute, operator, value] as the snapshot keeps it."""
    if not stored:
        return ()
    return tuple((str(name), str(op), str(value)) for name, op, value in stored)


def _sessions_by_login(
    session: Session, query: Select[*tuple[Any, ...]], **options: Any
) -> dict[str, tuple[OpenSession, ...]]:
    """The open sessions ``query`` (an _OPEN_SESSIONS) finds, by login."""
    found: dict[str, list[OpenSession]] = {}
    for login, nas, sid, mac, port, start in session.execute(query, execution_options=options):
        # NAS port names repeat across thousands of sessions ("ether2", "pppoe-in1"): kept once.
        found.setdefault(login, []).append(
            OpenSession(nas, sid, mac, sys.intern(port) if port else port, start)
        )
    return {login: tuple(held) for login, held in found.items()}


def _fixed_by_service(
    session: Session, query: Select[*tuple[Any, ...]]
) -> dict[int, tuple[tuple[str, str], ...]]:
    """The fixed addresses ``query`` (a _FIXED) finds, as reply attributes, by service id."""
    found: dict[int, list[tuple[str, str]]] = {}
    for service_id, address, prefix_len, purpose in session.execute(query):
        found.setdefault(service_id, []).append(fixed_attribute(address, prefix_len, purpose))
    return {service_id: tuple(held) for service_id, held in found.items()}


def load_logins(session: Session, logins: Collection[str], plans: Plans) -> dict[str, Loaded]:
    """Snapshot misses, many logins at once: the subscribers with their fixed addresses in one
    statement, their open sessions in a second (none when no login exists). Every login asked
    is in the answer; one that does not exist is (None, ())."""
    rows: dict[str, list[Sequence[Any]]] = {}
    for row in session.execute(_WITH_FIXED.where(among(session, Service.login, logins))):
        rows.setdefault(cast(str, row[1]), []).append(row)
    found: dict[str, Loaded] = dict.fromkeys(logins, (None, ()))
    if not rows:
        return found
    sessions = _sessions_by_login(session, _OPEN_SESSIONS.where(among(session, AcctSession.login, rows)))
    width = len(_SERVICE)
    for login, held in rows.items():
        fixed = tuple(fixed_attribute(*row[width:]) for row in held if row[width] is not None)
        found[login] = (_build(session, plans, held[0], fixed), sessions.get(login, ()))
    return found


def load_subscriber(session: Session, login: str) -> Subscriber | None:
    """One login's snapshot, for a caller without a worker's plans (diagnostics, tests)."""
    return load_logins(session, [login], Plans(load_plans(session)))[login][0]


def load_subscribers(session: Session, service_ids: Collection[int]) -> dict[int, Subscriber]:
    """Snapshots of these services (those with a login), by service id."""
    plans = Plans(load_plans(session))
    fixed = _fixed_by_service(session, _FIXED.where(IpAssignment.service_id.in_(service_ids)))
    query = _SUBSCRIBERS.where(Service.id.in_(service_ids))
    return {row[0]: _build(session, plans, row, fixed.get(row[0], ())) for row in session.execute(query)}


def load_all(
    session: Session, plans: Plans
) -> tuple[dict[str, Subscriber], dict[str, tuple[OpenSession, ...]]]:
    """Every subscriber (with its fixed addresses and its plans, shared through ``plans``) and
    every open session, by login (a worker's start-up). Rows arrive in chunks."""
    fixed = _fixed_by_service(session, _FIXED)
    sessions = _sessions_by_login(session, _OPEN_SESSIONS, **_STREAM)
    subscribers: dict[str, Subscriber] = {}
    for row in session.execute(_SUBSCRIBERS, execution_options=_STREAM):
        subscribers[cast(str, row[1])] = _build(session, plans, row, fixed.get(row[0], ()))
    return subscribers, sessions


def isp_policy(settings: PolicySettings, pools: Iterable[PoolRef] = ()) -> IspPolicy:
    """The policy from settings; the blocked pool is the IPAM pool of that name, else a pool
    the NAS itself has."""
    blocked = None
    if settings.blocked_pool:
        blocked = next((p for p in pools if p.name == settings.blocked_pool), None) or PoolRef(
            0, settings.blocked_pool, PoolKind.IPV4, PoolMode.NAS
        )
    return IspPolicy(
        suspended_action=SuspendedAction(settings.suspended_action),
        blocked_address_list=settings.blocked_address_list,
        blocked_pool=blocked,
        blocked_download_kbps=settings.blocked_download_kbps,
        blocked_upload_kbps=settings.blocked_upload_kbps,
        reduction=Reduction(
            ReductionKind(settings.reduction),
            settings.reduction_percent,
            settings.reduction_download_kbps,
            settings.reduction_upload_kbps,
        ),
        zone=ZoneInfo(settings.timezone),
        messages={**MESSAGES, **settings.messages},
    )
