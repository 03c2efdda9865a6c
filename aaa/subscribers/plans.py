"""Plan catalogue operations, including clone and mass plan change.

They flush, never commit: the caller owns the transaction.

Every edit sets off the FLUSH_HOOKS (aaa.composition): audit, and for a plan's speeds or pools
the RADIUS caches of every service on the plan or trialling it and the enforcement outbox of
the online ones; a mass plan change does the same for each service moved.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from aaa.audit.log import record
from aaa.db.paging import page
from aaa.errors import Conflict, Invalid, NotFound
from aaa.ipam.subnets import POOL_FIELDS, check_pools
from aaa.subscribers.customers import EVERYWHERE, Scope
from aaa.tables.subscribers import Customer, Plan, Service
from aaa.vocabulary.attributes import reply_attributes_shape
from aaa.vocabulary.subscribers import ServiceStatus

PLAN_FIELDS = (
    "name",
    "price",
    "download_kbps",
    "upload_kbps",
    "burst_download_kbps",
    "burst_upload_kbps",
    "burst_threshold_download_kbps",
    "burst_threshold_upload_kbps",
    "burst_time_s",
    "technology",
    "reply_attributes",
    *POOL_FIELDS,
)


def add_plan(session: Session, *, name: str, download_kbps: int, upload_kbps: int, **fields: Any) -> Plan:
    plan = Plan(price=Decimal("0.00"))
    _apply(
        session, plan, {"name": name, "download_kbps": download_kbps, "upload_kbps": upload_kbps, **fields}
    )
    session.add(plan)
    session.flush()
    return plan


def update_plan(session: Session, plan: Plan, **changes: Any) -> Plan:
    """Edit a plan; every service on it gets the new speed at its next authentication (and the
    caches are told at commit, see ``aaa.subscribers.invalidation``)."""
    _apply(session, plan, changes)
    session.flush()
    return plan


def clone_plan(session: Session, plan: Plan, *, name: str) -> Plan:
    fields = {field: getattr(plan, field) for field in PLAN_FIELDS}
    return add_plan(session, **{**fields, "name": name})


def get_plan(session: Session, name_or_id: str | int) -> Plan:
    key = str(name_or_id)
    plan = session.scalar(select(Plan).where(Plan.id == int(key) if key.isdigit() else Plan.name == key))
    if plan is None:
        raise NotFound(f"plan {name_or_id!r} does not exist")
    return plan


def list_plans(session: Session, *, limit: int = 50, offset: int = 0) -> tuple[list[Plan], int]:
    return page(session, select(Plan), Plan.id, limit=limit, offset=offset)


def mass_change(
    session: Session,
    source: Plan,
    target: Plan,
    *,
    change_price: bool,
    statuses: list[ServiceStatus] | None = None,
    service_ids: list[int] | None = None,
    scope: Scope = EVERYWHERE,
) -> list[int]:
    """Move the selected services of ``source`` to ``target`` (Alteração massiva de planos).

    ``change_price`` gives each service the target plan's price; otherwise it keeps its own.
    Cancelled services are never touched. Returns the ids of the services changed.
    """
    if source.id == target.id:
        raise Invalid("the source and target plans are the same")
    query = (
        select(Service)
        .join(Customer, Service.customer_id == Customer.id)
        .where(Service.plan_id == source.id, Service.status != ServiceStatus.CANCELLED, scope.customers())
    )
    if statuses:
        query = query.where(Service.status.in_(statuses))
    if service_ids is not None:
        query = query.where(Service.id.in_(service_ids))
    services = list(session.scalars(query.order_by(Service.id)))
    price_note = f"price changed to {target.price}" if change_price else "price kept"
    for service in services:
        service.plan_id = target.id
        if change_price:
            service.price = target.price
        record(
            session,
            entity="service",
            entity_id=service.id,
            action="mass_plan_change",
            customer_id=service.customer_id,
            service_id=service.id,
            note=f"mass plan change from {source.name} to {target.name} ({price_note})",
        )
    session.flush()
    return [service.id for service in services]


def _apply(session: Session, plan: Plan, changes: dict[str, Any]) -> None:
    for field in changes:
        if field not in PLAN_FIELDS:
            raise Invalid(f"plans have no field {field!r}")
    merged = {field: getattr(plan, field) for field in PLAN_FIELDS} | changes
    if not merged["name"] or not str(merged["name"]).strip():
        raise Invalid("the plan needs a name")
    if (
        not merged["download_kbps"]
        or not merged["upload_kbps"]
        or min(merged["download_kbps"], merged["upload_kbps"]) <= 0
    ):
        raise Invalid("download and upload speeds must be positive (kbit/s)")
    if (merged["burst_download_kbps"] is None) != (merged["burst_upload_kbps"] is None):
        raise Invalid("give both burst speeds (download and upload) or neither")
    if merged["price"] is None or Decimal(merged["price"]) < 0:
        raise Invalid("the price must be zero or more")
    if "name" in changes and changes["name"] != plan.name:
        holder = session.scalar(select(Plan.id).where(Plan.name == changes["name"]))
        if holder is not None:
            raise Conflict(f"a plan named {changes['name']!r} already exists (plan {holder})")
    check_pools(session, changes)
    if "reply_attributes" in changes:
        changes["reply_attributes"] = _replies(changes["reply_attributes"])
    for field, value in changes.items():
        setattr(plan, field, Decimal(value) if field == "price" else value)


def _replies(items: object) -> list[list[str]]:
    """Custom reply attributes as stored (their values are checked against the RADIUS dictionary
    by the caller that loaded it: aaa.radius.reply_attributes)."""
    try:
        return reply_attributes_shape(items)
    except ValueError as exc:
        raise Invalid(str(exc)) from None


def is_lower(current: Plan, target: Plan) -> bool:
    """A cheaper or slower plan ("plano inferior")."""
    return (
        target.price < current.price
        or target.download_kbps < current.download_kbps
        or target.upload_kbps < current.upload_kbps
    )


def change_plan(
    session: Session, service: Service, plan: Plan, *, reason: str, change_price: bool = True
) -> Service:
    """Atualização de plano: the same service (login, password, addresses, contract) on another
    plan, at once. Online sessions get the new speed by CoA (the enforcement outbox), the next
    login from the refreshed snapshot. Lower plans need their own permission: the caller checks."""
    if service.status in (ServiceStatus.CANCELLED, ServiceStatus.AWAITING_MIGRATION):
        raise Conflict(f"service {service.id} is {service.status.value}; its plan cannot change")
    if plan.id == service.plan_id:
        raise Invalid(f"service {service.id} is already on plan {plan.name}")
    if not reason.strip():
        raise Invalid("give a reason for the plan change; it is kept in the service's history")
    previous = service.plan
    service.plan = plan
    price_note = "price kept"
    if change_price:
        service.price, price_note = plan.price, f"price {plan.price}"
    record(
        session,
        entity="service",
        entity_id=service.id,
        action="plan_changed",
        customer_id=service.customer_id,
        service_id=service.id,
        note=f"plan {previous.name} → {plan.name} ({price_note}): {reason.strip()}",
    )
    session.flush()
    return service
