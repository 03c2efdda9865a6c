"""The service state machine (ARCHITECTURE.md, "Service status"): which status may follow which."""

from __future__ import annotations

from aaa.subscribers.types import ServiceStatus as S

# Suspensions and blocks can replace one another (an operator blocks a customer who had asked
# for a pause) and all end in ``enabled`` or ``cancelled``.
_HELD = frozenset({S.SUSPENDED_DEBT, S.REDUCED_DEBT, S.SUSPENDED_REQUEST, S.BLOCKED_MANUAL})

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
