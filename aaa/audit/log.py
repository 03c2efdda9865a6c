"""The audit log's low half: who is acting (``act_as`` at the boundary: an HTTP request, a CLI
command, a scheduled job) and explicit entries (``record``) for workflow steps a field diff
cannot say ("migrated to service 12"). Anyone may call it; it imports no domain.

A table is audited by declaring ``__audit__ = Audited(...)`` (aaa.vocabulary.audit); aaa.audit.
tracking writes the entries of every flush from those declarations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from aaa.db.base import utcnow
from aaa.tables.audit import AuditEntry

_ACTOR = "audit_actor"


@dataclass(frozen=True)
class Actor:
    """Who is changing things, and from where."""

    name: str  # "operator:ana", "api_key:erp (ana)", "cli:root", "radius"
    source: str  # client IP address, or "local"
    operator_id: int | None = None


SYSTEM = Actor("system", "local")


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
            entry_row(
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


def entry_row(actor: Actor, **fields: Any) -> dict[str, Any]:
    return {
        "at": utcnow(),
        "actor": actor.name,
        "source": actor.source,
        "operator_id": actor.operator_id,
        **fields,
    }


_AS_IS = frozenset({str, int, bool, float})


def plain(value: Any) -> Any:
    """JSON-safe: money as a string (never a float), dates ISO 8601, enums by value."""
    if value is None or type(value) in _AS_IS:
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value
