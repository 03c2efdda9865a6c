"""Tells the RADIUS caches about every flushed change that alters what a login gets.

Derived from the ORM's change tracking, like the audit log, so a new code path that edits a
service, a plan or a NAS cannot forget to invalidate: a renamed login refreshes both names,
a plan edit refreshes every login on the plan.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from aaa.changes.feed import Change, record_changes
from aaa.changes.models import ChangeKind
from aaa.nas.models import Nas
from aaa.subscribers.models import Plan, Service


def install(factory: sessionmaker[Session]) -> None:
    event.listen(factory, "after_flush", _after_flush)


def _after_flush(session: Session, _context: object) -> None:
    changes: set[Change] = set()
    plans: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        touched = obj in session.new or obj in session.deleted or session.is_modified(obj)
        if not touched:
            continue
        if isinstance(obj, Service):
            changes.update((ChangeKind.SERVICE, login) for login in _values(obj, "login") if login)
        elif isinstance(obj, Plan) and obj not in session.new:
            plans.add(obj.id)
        elif isinstance(obj, Nas):
            changes.add((ChangeKind.NAS, str(obj.id)))
    if plans:
        logins = session.scalars(
            select(Service.login).where(Service.plan_id.in_(plans), Service.login.is_not(None))
        )
        changes.update((ChangeKind.SERVICE, login) for login in logins if login)
    if changes:
        record_changes(session, sorted(changes))


def _values(obj: Any, key: str) -> set[Any]:
    """The attribute's value now and before this flush."""
    history = inspect(obj).attrs[key].history
    return {*history.added, *history.unchanged, *history.deleted}
