"""The audit log (Histórico), read-only: no route changes or deletes an entry."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from aaa.subscribers.customers import get_customer
from aaa.subscribers.service import get_service_by_id
from aaa.tables.audit import AuditEntry
from admin_api import scoped
from admin_api.deps import CityScope, db
from admin_api.routes.common import Limit, Offset, PathId, QueryId, page_of
from admin_api.schemas.audit import AuditOut
from admin_api.schemas.common import Page

router = APIRouter(tags=["audit"])
# Entities whose entries always belong to one customer's money, even when they name none.
_CITY_ENTITIES = ("receipt", "payment_notification", "charge", "invoice", "carne", "trust_unlock")


def _page(session: Session, query: Select[AuditEntry], limit: int, offset: int) -> Page[AuditOut]:
    return page_of(session, query, AuditEntry.id.desc(), AuditOut.model_validate, limit, offset)


@router.get("/audit", response_model=Page[AuditOut])
def list_entries(
    scope: CityScope,
    entity: str | None = None,
    entity_id: QueryId | None = None,
    operator_id: QueryId | None = None,
    action: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    session: Session = db("audit.read"),
) -> Page[AuditOut]:
    """Every change, newest first; a city-limited operator sees entries of its customers only."""
    query = select(AuditEntry)
    if scope.cities is not None:
        # Entries of a customer or a service belong to its city; a receipt or a payment notice
        # names neither (its charges do) and one of another city must not show.
        query = query.where(
            or_(
                AuditEntry.customer_id.in_(scoped.visible_customers(scope)),
                and_(
                    AuditEntry.customer_id.is_(None),
                    AuditEntry.service_id.in_(scoped.visible_services(scope)),
                ),
                and_(
                    AuditEntry.customer_id.is_(None),
                    AuditEntry.service_id.is_(None),
                    AuditEntry.entity.not_in(_CITY_ENTITIES),
                ),
            )
        )
    for column, value in (
        (AuditEntry.entity, entity),
        (AuditEntry.entity_id, entity_id),
        (AuditEntry.operator_id, operator_id),
        (AuditEntry.action, action),
    ):
        if value is not None:
            query = query.where(column == value)
    return _page(session, query, limit, offset)


@router.get("/customers/{customer_id}/history", response_model=Page[AuditOut])
def customer_history(
    customer_id: PathId,
    scope: CityScope,
    limit: Limit = 50,
    offset: Offset = 0,
    session: Session = db("audit.read"),
) -> Page[AuditOut]:
    get_customer(session, customer_id, scope)
    return _page(session, select(AuditEntry).where(AuditEntry.customer_id == customer_id), limit, offset)


@router.get("/services/{service_id}/history", response_model=Page[AuditOut])
def service_history(
    service_id: PathId,
    scope: CityScope,
    limit: Limit = 50,
    offset: Offset = 0,
    session: Session = db("audit.read"),
) -> Page[AuditOut]:
    get_service_by_id(session, service_id, scope)
    return _page(session, select(AuditEntry).where(AuditEntry.service_id == service_id), limit, offset)
