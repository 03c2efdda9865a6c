"""Tells the RADIUS caches about every flushed change that alters what a login gets.

Derived from the ORM's change tracking, like the audit log, so a new code path that edits a
service, a plan, a NAS, a pool or a fixed address cannot forget to invalidate: a renamed login
refreshes both names, a plan or pool edit has the workers read the plans again. Who a change
reaches is aaa.subscribers.reach's answer, shared with the enforcement outbox.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from aaa.changes.feed import Change, record_changes
from aaa.subscribers import reach
from aaa.tables.changes import ChangeKind


def after_flush(session: Session, flush_context: object) -> None:
    """A change-feed event for every login and NAS entry the flush reaches (aaa.subscribers.reach)."""
    found = reach.of(session, flush_context)
    changes: set[Change] = {(ChangeKind.SERVICE, login) for login in found.logins}
    changes.update((ChangeKind.NAS, key) for key in found.nas_keys)
    changes.update((ChangeKind.PLAN, str(plan_id)) for plan_id in found.plans)
    if changes:
        record_changes(session, sorted(changes))
