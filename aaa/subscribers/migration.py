"""Plan migration and ownership transfer (Migração de serviço, Troca de titularidade).

A migration creates a new service on the new plan and retires the old one; what the subscriber
authenticates with (login, password, fixed IP, MAC binding) moves in the same transaction, so
there is no moment when neither or both services can log in. The connection history stays
reachable because sessions and the auth log are keyed by the login that moved.

Both set off the FLUSH_HOOKS (aaa.composition): audit, the RADIUS caches of both logins, the
enforcement outbox of an online subscriber and the status webhooks.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from aaa.audit.log import record
from aaa.errors import Conflict, Invalid
from aaa.ipam.assignments import move_fixed
from aaa.subscribers.customers import addresses_of, set_address
from aaa.subscribers.service import add_service, set_status
from aaa.tables.subscribers import Customer, Plan, Service
from aaa.vocabulary.subscribers import ServiceStatus

# Carried to the new service when the migration is created, and again when it completes.
CARRIED = (
    "password",
    "simultaneous_use",
    "mac_binding",
    "mac",
    "nas_port_id",
    "due_day",
    "billing_method_id",
    "auto_block",
    "reduction_tolerance_days",
    "block_tolerance_days",
)


def migrate_plan(
    session: Session,
    service: Service,
    plan: Plan,
    *,
    immediate: bool,
    reason: str,
    price: Decimal | None = None,
) -> Service:
    """Immediate: the new service is enabled now and the old one cancelled. Otherwise the new
    one waits in ``awaiting_migration`` until it is enabled (after the technician's visit)."""
    if service.status is not ServiceStatus.ENABLED:
        raise Conflict(
            f"only an enabled service can be migrated; service {service.id} is {service.status.value}"
        )
    if plan.id == service.plan_id:
        raise Invalid(f"service {service.id} is already on plan {plan.name}")
    if not reason.strip():
        raise Invalid("give a reason for the migration; it is kept in both services' history")
    pending = session.scalar(
        select(Service.id).where(
            Service.migrated_from_id == service.id, Service.status == ServiceStatus.AWAITING_MIGRATION
        )
    )
    if pending is not None:
        raise Conflict(f"service {service.id} already has a migration waiting: service {pending}")
    new = add_service(
        session,
        customer=service.customer,
        plan=plan,
        login=None,
        status=ServiceStatus.AWAITING_MIGRATION,
        price=price,
        **{field: getattr(service, field) for field in CARRIED},
    )
    new.migrated_from_id = service.id
    for address in addresses_of(session, service.customer, service):
        set_address(session, service.customer, address.kind, address.fields(), new)
    kind = "immediate" if immediate else "non-immediate"
    for entry_service, note in (
        (service, f"{kind} migration to service {new.id} (plan {plan.name}): {reason}"),
        (new, f"{kind} migration from service {service.id} (plan {service.plan.name}): {reason}"),
    ):
        record(
            session,
            entity="service",
            entity_id=entry_service.id,
            action="migration_started",
            customer_id=service.customer_id,
            service_id=entry_service.id,
            note=note,
        )
    if immediate:
        return complete_migration(session, new, reason=reason)
    session.flush()
    return new


def complete_migration(session: Session, new: Service, *, reason: str) -> Service:
    """Enable a service awaiting migration: the old service is cancelled and its login moves."""
    old = session.get(Service, new.migrated_from_id) if new.migrated_from_id else None
    if old is None or old.status is ServiceStatus.CANCELLED:
        raise Conflict(
            f"service {new.id} migrates from a service that is gone or cancelled; "
            "cancel it and create a new one"
        )
    login = old.login
    moved = move_fixed(session, old, new)  # before the cancellation frees the old one's addresses
    set_status(
        session, old, ServiceStatus.CANCELLED, reason=f"migrated to service {new.id} (plan {new.plan.name})"
    )
    new.login = login
    for field in CARRIED:
        setattr(new, field, getattr(old, field))
    set_status(session, new, ServiceStatus.ENABLED, reason=reason)
    record(
        session,
        entity="service",
        entity_id=new.id,
        action="migration_completed",
        customer_id=new.customer_id,
        service_id=new.id,
        note=f"login {login!r} and fixed IPs {', '.join(moved) or 'none'} moved from service {old.id}",
    )
    return new


def transfer_ownership(session: Session, service: Service, customer: Customer, *, reason: str) -> Service:
    """Troca de titularidade: the service, with its addresses and history, moves to ``customer``."""
    if service.status is ServiceStatus.CANCELLED:
        raise Conflict(f"service {service.id} is cancelled; a cancelled service cannot change owner")
    if customer.id == service.customer_id:
        raise Invalid(f"service {service.id} already belongs to customer {customer.id}")
    if not reason.strip():
        raise Invalid("give a reason for the ownership transfer; it is kept in both customers' history")
    previous = service.customer
    for address in addresses_of(session, previous, service):
        address.customer_id = customer.id
    service.customer = customer
    session.flush()
    for customer_id, note in (
        (
            previous.id,
            f"service {service.id} ({service.login}) transferred to customer {customer.id} ({customer.name})",
        ),
        (
            customer.id,
            f"service {service.id} ({service.login}) received from customer {previous.id} ({previous.name})",
        ),
    ):
        record(
            session,
            entity="service",
            entity_id=service.id,
            action="ownership_transferred",
            customer_id=customer_id,
            service_id=service.id,
            note=f"{note}: {reason}",
        )
    return service
