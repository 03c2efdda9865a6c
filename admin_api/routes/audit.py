"""The audit log (Histórico), read-only: no route changes or deletes an entry."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from aaa.audit import history
from aaa.subscribers.customers import get_customer
from aaa.subscribers.service import get_service_by_id
from admin_api import scoped
from admin_api.deps import CityScope, db
from admin_api.routes.common import Limit, Offset, PathId, QueryId, paged
from admin_api.schemas.audit import AuditOut
from admin_api.schemas.common import Page

router = APIRouter(tags=["audit"])


@router.get("/audit", response_model=Page[AuditOut])
def list_entries(
    scope: CityScope,
    entity: str | None = None,
    entity_id: QueryId | None = None,
    operator_id: QueryId | None = None,
    action: str | None = None,
    customer_id: QueryId | None = None,
    service_id: QueryId | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    session: Session = db("audit.read"),
) -> Page[AuditOut]:
    """Every change, newest first; a city-limited operator sees entries of its customers only
    (a customer or service of another city named as a filter: 404)."""
    if customer_id is not None:
        get_customer(session, customer_id, scope)
    if service_id is not None:
        get_service_by_id(session, service_id, scope)
    limited = scope.cities is not None
    found = history.entries(
        session,
        customers=scoped.visible_customers(scope) if limited else None,
        services=scoped.visible_services(scope) if limited else None,
        entity=entity,
        entity_id=entity_id,
        operator_id=operator_id,
        action=action,
        customer_id=customer_id,
        service_id=service_id,
        limit=limit,
        offset=offset,
    )
    return paged(found, AuditOut.model_validate, limit, offset)


@router.get("/customers/{customer_id}/history", response_model=Page[AuditOut])
def customer_history(
    customer_id: PathId,
    scope: CityScope,
    limit: Limit = 50,
    offset: Offset = 0,
    session: Session = db("audit.read"),
) -> Page[AuditOut]:
    get_customer(session, customer_id, scope)
    found = history.of_customer(session, customer_id, limit=limit, offset=offset)
    return paged(found, AuditOut.model_validate, limit, offset)


@router.get("/services/{service_id}/history", response_model=Page[AuditOut])
def service_history(
    service_id: PathId,
    scope: CityScope,
    limit: Limit = 50,
    offset: Offset = 0,
    session: Session = db("audit.read"),
) -> Page[AuditOut]:
    get_service_by_id(session, service_id, scope)
    found = history.of_service(session, service_id, limit=limit, offset=offset)
    return paged(found, AuditOut.model_validate, limit, offset)
