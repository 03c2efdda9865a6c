"""The read model the RADIUS decision works from: subscriber snapshots and open sessions (a
worker's start-up, and a cache miss), and the ISP's policy built from the settings and IPAM's
pools. Plain columns in, plain immutable policy inputs out."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from aaa.ipam.pools import load_pools
from aaa.policies.inputs import (
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

# Plain columns, not ORM objects: the start-up load of 100k services would double a worker's
# peak memory otherwise.
_SUBSCRIBERS = (
    select(
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
        Plan.ipv4_pool_id,
        Plan.ipv6_pool_id,
        Plan.ipv6_pd_pool_id,
    )
    .join(Plan, Service.plan_id == Plan.id)
    .outerjoin(BillingMethod, Service.billing_method_id == BillingMethod.id)
    .where(Service.login.is_not(None))
)
_REDUCTION = Reduction()  # what a billing method's empty reduction fields mean
_SPEEDS = select(Plan.id, *(getattr(Plan, name) for name in PlanSpeed.__slots__))  # type: ignore[attr-defined]
_FIXED: Select[*tuple[Any, ...]] = (
    select(IpAssignment.service_id, IpAssignment.address, IpAssignment.prefix_len, Subnet.purpose)
    .join(Subnet, IpAssignment.subnet_id == Subnet.id)
    .where(IpAssignment.kind == AssignmentKind.FIXED, IpAssignment.released_at.is_(None))
    .order_by(IpAssignment.id)
)
_OPEN_SESSIONS = select(
    AcctSession.login,
    AcctSession.nas_id,
    AcctSession.acct_session_id,
    AcctSession.calling_station_id,
    AcctSession.nas_port_id,
    AcctSession.start_time,
).where(AcctSession.stop_time.is_(None))


def _subscribers(
    session: Session, query: Select[*tuple[Any, ...]], fixed: Select[Any]
) -> dict[str, Subscriber]:
    pools = load_pools(session)
    addresses: dict[int, list[tuple[str, str]]] = {}
    for service_id, address, prefix_len, purpose in session.execute(fixed):
        addresses.setdefault(service_id, []).append(fixed_attribute(address, prefix_len, purpose))
    # One PlanSpeed per plan, shared by its subscribers (plans are few; services are many).
    speeds = {}
    for row in session.execute(_SPEEDS):
        columns = row._asdict()
        plan_id, stored = columns.pop("id"), columns.pop("reply_attributes")
        speeds[plan_id] = PlanSpeed(**columns, reply_attributes=replies(stored))
    subscribers = {}
    for row in session.execute(query):
        custom = None
        if row.custom_download_kbps is not None and row.custom_upload_kbps is not None:
            custom = CustomSpeed(row.custom_download_kbps, row.custom_upload_kbps, row.custom_until)
        trial = None
        if row.trial_plan_id is not None and row.trial_until is not None:
            trial = Trial(speeds[row.trial_plan_id], row.trial_until)
        trust = TrustUnlock(row.trust_until, row.trust_reason or "") if row.trust_until else None
        reduction = None
        if row.reduction:
            reduction = Reduction(
                ReductionKind(row.reduction),
                row.reduction_percent or _REDUCTION.percent,
                row.reduction_download_kbps or _REDUCTION.download_kbps,
                row.reduction_upload_kbps or _REDUCTION.upload_kbps,
            )
        subscribers[row.login] = Subscriber(
            service_id=row.id,
            login=row.login,
            password=row.password
            if row.password_scheme == CLEARTEXT
            else stored_password(row.password_scheme, row.password),
            status=row.status,
            plan=speeds[row.plan_id],
            simultaneous_use=row.simultaneous_use,
            mac_binding=row.mac_binding,
            mac=row.mac,
            nas_port_id=row.nas_port_id,
            fixed=tuple(addresses.get(row.id, ())),
            pools=tuple(pools[i] for i in row[-3:] if i is not None),
            status_since=row.status_changed_at,
            trial=trial,
            custom=custom,
            trust=trust,
            bonus_until=row.bonus_until,
            exempt=row.exempt,
            reduction=reduction,
            reply_attributes=replies(row.reply_attributes),
            suspended_action=row.suspended_action,
        )
    return subscribers


def replies(stored: list[list[str]] | None) -> tuple[ReplyAttribute, ...]:
    """A JSON list of [attribute, operator, value] as the snapshot keeps it."""
    if not stored:
        return ()
    return tuple((str(name), str(op), str(value)) for name, op, value in stored)


def load_subscriber(session: Session, login: str) -> Subscriber | None:
    service_id = select(Service.id).where(Service.login == login).scalar_subquery()
    return _subscribers(
        session,
        _SUBSCRIBERS.where(Service.login == login),
        _FIXED.where(IpAssignment.service_id == service_id),
    ).get(login)


def load_subscribers(session: Session, service_ids: Collection[int]) -> dict[int, Subscriber]:
    """Snapshots of these services (those with a login), by service id."""
    found = _subscribers(
        session,
        _SUBSCRIBERS.where(Service.id.in_(service_ids)),
        _FIXED.where(IpAssignment.service_id.in_(service_ids)),
    )
    return {sub.service_id: sub for sub in found.values()}


def load_open_sessions(session: Session, login: str) -> tuple[OpenSession, ...]:
    rows = session.execute(_OPEN_SESSIONS.where(AcctSession.login == login))
    return tuple(OpenSession(nas, sid, mac, port, start) for _, nas, sid, mac, port, start in rows)


def load_all(session: Session) -> tuple[dict[str, Subscriber], dict[str, tuple[OpenSession, ...]]]:
    """Every subscriber (with its fixed addresses and plan pools) and every open session."""
    sessions: dict[str, list[OpenSession]] = {}
    for login, nas, sid, mac, port, start in session.execute(_OPEN_SESSIONS):
        sessions.setdefault(login, []).append(OpenSession(nas, sid, mac, port, start))
    return _subscribers(session, _SUBSCRIBERS, _FIXED), {
        login: tuple(rows) for login, rows in sessions.items()
    }


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
