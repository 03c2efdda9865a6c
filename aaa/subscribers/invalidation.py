"""Tells the RADIUS caches about every flushed change that alters what a login gets.

Derived from the ORM's change tracking, like the audit log, so a new code path that edits a
service, a plan, a NAS, a pool or a fixed address cannot forget to invalidate: a renamed login
refreshes both names, a plan or pool edit refreshes every login it reaches.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect, or_, select
from sqlalchemy.orm import Session

from aaa.changes.feed import Change, record_changes
from aaa.tables.changes import ChangeKind
from aaa.tables.ipam import IpAssignment, Pool
from aaa.tables.nas import Nas
from aaa.tables.subscribers import BillingMethod, Plan, Service
from aaa.vocabulary.ipam import AssignmentKind


def after_flush(session: Session, _context: object) -> None:
    changes: set[Change] = set()
    plans: set[int] = set()
    services: set[int] = set()  # holders of a changed fixed address
    pools: set[int] = set()
    methods: set[int] = set()  # billing methods: their reduced speed is in the snapshot
    new, deleted = session.new, session.deleted  # each walks the session: once, not per object
    for obj in (*new, *session.dirty, *deleted):
        touched = obj in new or obj in deleted or session.is_modified(obj)
        if not touched:
            continue
        if isinstance(obj, Service):
            changes.update((ChangeKind.SERVICE, login) for login in _values(obj, "login") if login)
        elif isinstance(obj, Plan) and obj not in new:
            plans.add(obj.id)
        elif isinstance(obj, Nas):
            changes.add((ChangeKind.NAS, str(obj.id)))
        elif isinstance(obj, IpAssignment) and obj.kind is AssignmentKind.FIXED:
            services.update(service_id for service_id in _values(obj, "service_id") if service_id)
        elif isinstance(obj, BillingMethod) and obj not in new:
            methods.add(obj.id)
        elif isinstance(obj, Pool) and obj not in new:
            pools.add(obj.id)
            changes.add((ChangeKind.NAS, f"pool {obj.id}"))  # NAS entries carry their pools
    reached = []
    if plans:
        reached.append(Service.plan_id.in_(plans))
    if services:
        reached.append(Service.id.in_(services))
    if methods:
        reached.append(Service.billing_method_id.in_(methods))
    if pools:
        reached.append(
            Service.plan_id.in_(
                select(Plan.id).where(
                    or_(
                        Plan.ipv4_pool_id.in_(pools),
                        Plan.ipv6_pool_id.in_(pools),
                        Plan.ipv6_pd_pool_id.in_(pools),
                    )
                )
            )
        )
    if reached:
        logins = session.scalars(select(Service.login).where(or_(*reached), Service.login.is_not(None)))
        changes.update((ChangeKind.SERVICE, login) for login in logins if login)
    if changes:
        record_changes(session, sorted(changes))


def _values(obj: Any, key: str) -> set[Any]:
    """The attribute's value now and before this flush."""
    history = inspect(obj).attrs[key].history
    return {*history.added, *history.unchanged, *history.deleted}
