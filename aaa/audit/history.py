"""Reading the audit log (Histórico), newest first. Nothing here changes or deletes an entry
(the database refuses it too)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from aaa.db.paging import page
from aaa.tables.audit import AuditEntry

# Entities whose entries always belong to one customer's money, even when they name none.
CITY_ENTITIES = ("receipt", "payment_notification", "charge", "invoice", "carne", "trust_unlock")


def entries(
    session: Session,
    *,
    customers: Select[Any] | None,
    services: Select[Any] | None,
    entity: str | None,
    entity_id: int | None,
    operator_id: int | None,
    action: str | None,
    limit: int,
    offset: int,
    customer_id: int | None = None,
    service_id: int | None = None,
) -> tuple[list[AuditEntry], int]:
    """Every change matching the filters. ``customers`` / ``services`` (ids a city-limited
    operator may see; None: all): entries of a customer or a service belong to its city; a
    receipt or a payment notice names neither (its charges do), so one of another city must not
    show."""
    query = select(AuditEntry)
    if customers is not None and services is not None:
        query = query.where(
            or_(
                AuditEntry.customer_id.in_(customers),
                and_(AuditEntry.customer_id.is_(None), AuditEntry.service_id.in_(services)),
                and_(
                    AuditEntry.customer_id.is_(None),
                    AuditEntry.service_id.is_(None),
                    AuditEntry.entity.not_in(CITY_ENTITIES),
                ),
            )
        )
    for column, value in (
        (AuditEntry.entity, entity),
        (AuditEntry.entity_id, entity_id),
        (AuditEntry.operator_id, operator_id),
        (AuditEntry.action, action),
        (AuditEntry.customer_id, customer_id),
        (AuditEntry.service_id, service_id),
    ):
        if value is not None:
            query = query.where(column == value)
    return page(session, query, AuditEntry.id.desc(), limit=limit, offset=offset)


def of_customer(
    session: Session, customer_id: int, *, limit: int, offset: int
) -> tuple[list[AuditEntry], int]:
    query = select(AuditEntry).where(AuditEntry.customer_id == customer_id)
    return page(session, query, AuditEntry.id.desc(), limit=limit, offset=offset)


def of_service(session: Session, service_id: int, *, limit: int, offset: int) -> tuple[list[AuditEntry], int]:
    query = select(AuditEntry).where(AuditEntry.service_id == service_id)
    return page(session, query, AuditEntry.id.desc(), limit=limit, offset=offset)
