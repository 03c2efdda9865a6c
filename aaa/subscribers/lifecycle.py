"""The service state machine (ARCHITECTURE.md, "Service status"): which status may follow which,
and ``change_status``, the one way an operator, a routine or a payment moves a service through it."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from aaa.errors import Conflict, Invalid
from aaa.subscribers.migration import complete_migration
from aaa.subscribers.service import set_status
from aaa.tables.subscribers import Service
from aaa.vocabulary.subscribers import ServiceStatus
from aaa.vocabulary.subscribers import ServiceStatus as S

# Suspensions and blocks can replace one another (an operator blocks a customer who had asked
# for a pause) and all end in ``enabled`` or ``cancelled``.
_HELD = frozenset({S.SUSPENDED_DEBT, S.REDUCED_DEBT, S.REDUCED_MANUAL, S.SUSPENDED_REQUEST, S.BLOCKED_MANUAL})

ALLOWED: dict[S, frozenset[S]] = {
    S.PENDING_INSTALL: frozenset({S.ENABLED, S.CANCELLED}),
    S.ENABLED: _HELD | {S.CANCELLED},
    **{held: (_HELD - {held}) | {S.ENABLED, S.CANCELLED} for held in _HELD},
    # Enabling a service that awaits migration completes the migration.
    S.AWAITING_MIGRATION: frozenset({S.ENABLED, S.CANCELLED}),
    S.CANCELLED: frozenset(),  # terminal
}


def transition_error(current: S, target: S) -> str | None:
    """None when ``current`` → ``target`` is allowed, else a sentence saying what is possible."""
    if target in ALLOWED[current]:
        return None
    if current is S.CANCELLED:
        return "the service is cancelled, which is final; create a new service instead"
    if current is target:
        return f"the service is already {current.value}"
    options = ", ".join(sorted(s.value for s in ALLOWED[current]))
    return (
        f"a service cannot go from {current.value} to {target.value}; "
        f"from {current.value} it can go to {options}"
    )


def change_status(
    session: Session,
    service: Service,
    target: ServiceStatus,
    *,
    reason: str,
    reenable_on: date | None = None,
    today: date | None = None,
) -> Service:
    """Move a service through the state machine, with a reason. The flush that follows sets off
    the audit, the RADIUS caches, the enforcement outbox and the status webhook (FLUSH_HOOKS).

    Enabling a service that awaits migration completes the migration; ``reenable_on`` is only
    for a suspension the customer asked for (Bloqueio temporário), and must come after ``today``:
    the ISP's date (policy.timezone), which the caller gives with it.
    """
    if not reason or not reason.strip():
        raise Invalid("give a reason for the status change; it is kept in the service's history")
    error = transition_error(service.status, target)
    if error:
        raise Conflict(error)
    if reenable_on is not None:
        if target is not ServiceStatus.SUSPENDED_REQUEST:
            raise Invalid("a re-enable date is only for a suspension on the customer's request")
        if today is None:
            raise TypeError("a re-enable date is checked against the ISP's today: pass today")
        if reenable_on <= today:
            raise Invalid("the re-enable date must be in the future")
    if service.status is ServiceStatus.AWAITING_MIGRATION and target is ServiceStatus.ENABLED:
        return complete_migration(session, service, reason=reason)
    set_status(session, service, target, reason=reason, reenable_on=reenable_on)
    return service
