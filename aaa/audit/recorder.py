"""Writes the audit log from the ORM's own change tracking, so no code path can forget it.

Every flush that adds, changes or deletes an audited row writes one entry per row with the
before/after of each changed column (secrets masked), attributed to the actor the boundary
(an HTTP request, a CLI command, the RADIUS worker) put on the session. Workflows add
explicit entries (``record``) for what a field diff cannot say ("migrated to service 12").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session, sessionmaker

from aaa.audit.models import AuditEntry
from aaa.db.base import utcnow
from aaa.ipam.models import IpFolder, Pool, Subnet
from aaa.nas.models import Nas
from aaa.operators.models import ApiToken, CashBox, Operator, Role
from aaa.subscribers.models import Address, Customer, Plan, Service, TrustUnlock
from billing_bridge.models import (
    BillingMethod,
    Carne,
    Charge,
    Invoice,
    PaymentNotification,
    Receipt,
    Routine,
    Webhook,
)

MASKED = "***"
_SECRET_FIELDS = frozenset({"password", "password_hash", "secret", "token_hash", "api_password"})
_SKIP_FIELDS = frozenset({"id", "created_at", "updated_at", "failed_logins"})  # lockouts: explicit entries
_ACTOR = "audit_actor"


@dataclass(frozen=True)
class Actor:
    """Who is changing things, and from where."""

    name: str  # "operator:ana", "api_key:erp (ana)", "cli:root", "radius"
    source: str  # client IP address, or "local"
    operator_id: int | None = None


SYSTEM = Actor("system", "local")

# entity name, and how to find the customer and service an entry belongs to
_AUDITED: dict[type, tuple[str, Callable[[Any], tuple[int | None, int | None]]]] = {
    Customer: ("customer", lambda o: (o.id, None)),
    Address: ("address", lambda o: (o.customer_id, o.service_id)),
    Service: ("service", lambda o: (o.customer_id, o.id)),
    Plan: ("plan", lambda o: (None, None)),
    Nas: ("nas", lambda o: (None, None)),
    Operator: ("operator", lambda o: (None, None)),
    Role: ("role", lambda o: (None, None)),
    CashBox: ("cash_box", lambda o: (None, None)),
    ApiToken: ("api_token", lambda o: (None, None)),
    IpFolder: ("ip_folder", lambda o: (None, None)),
    Pool: ("ip_pool", lambda o: (None, None)),
    Subnet: ("subnet", lambda o: (None, None)),
    TrustUnlock: ("trust_unlock", lambda o: (None, o.service_id)),
    BillingMethod: ("billing_method", lambda o: (None, None)),
    Charge: ("charge", lambda o: (None, o.service_id)),
    Receipt: ("receipt", lambda o: (None, None)),
    Routine: ("routine", lambda o: (None, None)),
    Invoice: ("invoice", lambda o: (o.customer_id, None)),
    Carne: ("carne", lambda o: (None, o.service_id)),
    PaymentNotification: ("payment_notification", lambda o: (None, None)),
    Webhook: ("webhook", lambda o: (None, None)),
}


def act_as(session: Session, actor: Actor) -> None:
    session.info[_ACTOR] = actor


def actor_of(session: Session) -> Actor:
    actor = session.info.get(_ACTOR, SYSTEM)
    assert isinstance(actor, Actor)
    return actor


def record(
    session: Session,
    *,
    entity: str,
    entity_id: int | None,
    action: str,
    customer_id: int | None = None,
    service_id: int | None = None,
    changes: dict[str, Any] | None = None,
    note: str | None = None,
) -> None:
    """An explicit entry, for a workflow step a field diff does not explain."""
    session.connection().execute(
        insert(AuditEntry),
        [
            _row(
                actor_of(session),
                entity=entity,
                entity_id=entity_id,
                action=action,
                customer_id=customer_id,
                service_id=service_id,
                changes=changes or {},
                note=note,
            )
        ],
    )


def install(factory: sessionmaker[Session]) -> None:
    event.listen(factory, "after_flush", _after_flush)


def _after_flush(session: Session, _context: object) -> None:
    actor = actor_of(session)
    rows = []
    for objects, action in (
        (session.new, "created"),
        (session.dirty, "updated"),
        (session.deleted, "deleted"),
    ):
        for obj in objects:
            audited = _AUDITED.get(type(obj))
            if audited is None:
                continue
            changes = _diff(obj, action)
            if not changes:
                continue
            entity, owners = audited
            customer_id, service_id = owners(obj)
            rows.append(
                _row(
                    actor,
                    entity=entity,
                    entity_id=obj.id,
                    action=action,
                    customer_id=customer_id,
                    service_id=service_id,
                    changes=changes,
                    note=None,
                )
            )
    if rows:
        session.connection().execute(insert(AuditEntry), rows)


def _row(actor: Actor, **fields: Any) -> dict[str, Any]:
    return {
        "at": utcnow(),
        "actor": actor.name,
        "source": actor.source,
        "operator_id": actor.operator_id,
        **fields,
    }


def _diff(obj: Any, action: str) -> dict[str, list[Any]]:
    state = inspect(obj)
    changes: dict[str, list[Any]] = {}
    for attr in state.mapper.column_attrs:
        if attr.key in _SKIP_FIELDS:
            continue
        history = state.attrs[attr.key].history
        if action == "created":
            before, after = None, _first(history.added, state.dict.get(attr.key))
        elif action == "deleted":
            before, after = _first(history.deleted or history.unchanged, None), None
        elif history.has_changes():
            before, after = _first(history.deleted, None), _first(history.added, None)
        else:
            continue
        if before == after:
            continue
        if attr.key in _SECRET_FIELDS:
            before, after = (MASKED if before else None), (MASKED if after else None)
        changes[attr.key] = [_plain(before), _plain(after)]
    for rel in state.mapper.relationships:
        if not rel.uselist or rel.secondary is None:
            continue
        history = state.attrs[rel.key].history
        if history.has_changes() or (action == "created" and history.added):
            before = sorted(o.id for o in (*history.unchanged, *history.deleted))
            after = sorted(o.id for o in (*history.unchanged, *history.added))
            if before != after:
                changes[rel.key] = [before, after]
    return changes


def _first(values: Any, default: Any) -> Any:
    return values[0] if values else default


def _plain(value: Any) -> Any:
    """JSON-safe: money as a string (never a float), dates ISO 8601, enums by value."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
