"""Services (Serviços do cliente): create, edit, status, migration, transfer, addresses, diagnostics."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from aaa.db.base import today_in, utcnow
from aaa.diagnostics import diagnose
from aaa.subscribers import customers, lifecycle, migration, plans
from aaa.subscribers import service as services
from aaa.tables.subscribers import Customer, Service
from aaa.vocabulary.subscribers import AddressKind, ServiceStatus
from admin_api.deps import CityScope, Who, db, policy_zone, reply_attributes, settings_of
from admin_api.presenters import diagnostics_out, service_out, services_page
from admin_api.routes.common import Limit, Offset, PathId, QueryId
from admin_api.routes.customers import create as create_customer
from admin_api.schemas.billing import ChargeOut
from admin_api.schemas.common import Page
from admin_api.schemas.services import (
    CancellationOut,
    DiagnosticsOut,
    MigrateIn,
    MigrationOut,
    MoneyMovedOut,
    PasswordIn,
    PlanChangeIn,
    ReasonIn,
    ServiceAddressIn,
    ServiceCancelIn,
    ServiceIn,
    ServiceOut,
    ServicePatch,
    SuspendIn,
    TransferIn,
    TransferOut,
)
from billing_bridge import contracts
from billing_bridge.cancellation import cancel_service
from billing_bridge.charges import due_day_changed
from billing_bridge.routine import settle

router = APIRouter(tags=["services"])


@router.get("/services", response_model=Page[ServiceOut])
def list_services(
    scope: CityScope,
    customer_id: QueryId | None = None,
    plan_id: QueryId | None = None,
    status: ServiceStatus | None = None,
    login: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    session: Session = db("services.read"),
) -> Page[ServiceOut]:
    items, total = services.list_services(
        session,
        scope,
        customer_id=customer_id,
        plan_id=plan_id,
        status=status,
        login=login,
        limit=limit,
        offset=offset,
    )
    return Page(items=services_page(session, items), total=total, limit=limit, offset=offset)


@router.post("/services", response_model=ServiceOut, status_code=201)
def create_service(body: ServiceIn, scope: CityScope, session: Session = db("services.write")) -> ServiceOut:
    """A new service for a customer (a second one for the same customer too). The response carries
    the password, generated when not given."""
    customer = customers.get_customer(session, body.customer_id, scope)
    fields = body.model_dump(exclude={"customer_id", "plan_id", "installation_address"})
    service = services.add_service(
        session, customer=customer, plan=plans.get_plan(session, body.plan_id), **fields
    )
    address = body.installation_address.model_dump() if body.installation_address else None
    if address is None:
        registration = [
            a for a in customers.addresses_of(session, customer) if a.kind is AddressKind.REGISTRATION
        ]
        address = registration[0].fields() if registration else None
    if address is not None:
        customers.set_address(session, customer, AddressKind.INSTALLATION, address, service)
    return service_out(session, service, with_password=True)


@router.get("/services/{service_id}", response_model=ServiceOut)
def get_service(service_id: PathId, scope: CityScope, session: Session = db("services.read")) -> ServiceOut:
    return service_out(session, services.get_service_by_id(session, service_id, scope))


@router.patch("/services/{service_id}", response_model=ServiceOut)
def update_service(
    service_id: PathId,
    body: ServicePatch,
    scope: CityScope,
    request: Request,
    session: Session = db("services.write"),
) -> ServiceOut:
    service = services.get_service_by_id(session, service_id, scope)
    changes = body.model_dump(exclude_unset=True)
    if "reply_attributes" in changes:
        changes["reply_attributes"] = reply_attributes(request, body.reply_attributes) or []
    before = service.due_day
    updated = services.update_service(session, service, **changes)
    out = service_out(session, updated)
    if "due_day" in changes:  # the billing method's fee or credit for it (seed 004)
        today = today_in(policy_zone(request))
        if note := due_day_changed(session, updated, before, today):
            out.notes.append(note)
    return out


@router.post("/services/{service_id}/password", response_model=ServiceOut)
def change_password(
    service_id: PathId, body: PasswordIn, scope: CityScope, session: Session = db("services.write")
) -> ServiceOut:
    service = services.get_service_by_id(session, service_id, scope)
    password = body.password or services.generate_password()
    return service_out(
        session, services.update_service(session, service, password=password), with_password=True
    )


@router.post("/services/{service_id}/enable", response_model=ServiceOut)
def enable(
    service_id: PathId, body: ReasonIn, scope: CityScope, session: Session = db("services.enable")
) -> ServiceOut:
    """Enable (Habilitar). For a service awaiting migration this completes the migration."""
    service = services.get_service_by_id(session, service_id, scope)
    return service_out(
        session, lifecycle.change_status(session, service, ServiceStatus.ENABLED, reason=body.reason)
    )


@router.post("/services/{service_id}/suspend", response_model=ServiceOut)
def suspend(
    service_id: PathId,
    body: SuspendIn,
    scope: CityScope,
    zone: ZoneInfo = Depends(policy_zone),
    session: Session = db("services.suspend"),
) -> ServiceOut:
    """Suspend on the customer's request (optionally until a date, which must be after the ISP's
    today), block manually, or reduce the speed manually (Reduzido manual); the suspension
    routine never undoes any of these."""
    service = services.get_service_by_id(session, service_id, scope)
    today = today_in(zone)
    changed = lifecycle.change_status(
        session, service, body.status, reason=body.reason, reenable_on=body.reenable_on, today=today
    )
    return service_out(session, changed)


@router.post("/services/{service_id}/cancel", response_model=CancellationOut)
def cancel(
    service_id: PathId,
    body: ServiceCancelIn,
    scope: CityScope,
    request: Request,
    session: Session = db("services.cancel"),
) -> CancellationOut:
    """Cancel (final). The login and the fixed IP become free for reuse. Optionally charge the
    loyalty fine (pro-rata of the loyalty months left) and cancel the charges not yet due."""
    service = services.get_service_by_id(session, service_id, scope)
    done = cancel_service(
        session,
        service,
        reason=body.reason,
        now=utcnow(),
        zone=policy_zone(request),
        charge_loyalty_fine=body.loyalty_fine,
        cancel_pending=body.cancel_pending_charges,
    )
    out = CancellationOut(**service_out(session, done.service).model_dump())
    out.fine = ChargeOut.model_validate(done.fine) if done.fine else None
    out.cancelled_charge_ids, out.notes = done.cancelled_charges, done.notes
    return out


@router.post("/services/{service_id}/migrate", response_model=MigrationOut, status_code=201)
def migrate(
    service_id: PathId, body: MigrateIn, scope: CityScope, session: Session = db("services.migrate")
) -> MigrationOut:
    """Migrate to another plan; returns the new service (enabled, or awaiting migration). The old
    service's open charges, carnês and open invoices move to the new one when the migration
    completes (now, if immediate), and the billing run never charges a month twice for the
    contract."""
    service = services.get_service_by_id(session, service_id, scope)
    new = migration.migrate_plan(
        session,
        service,
        plans.get_plan(session, body.plan_id),
        immediate=body.immediate,
        reason=body.reason,
        price=body.price,
    )
    session.flush()
    moved = contracts.moved_in(session, new.id)
    out = MigrationOut(**service_out(session, new).model_dump())
    out.money_moved = money_out(moved) if moved else None
    return out


@router.post("/services/{service_id}/plan", response_model=ServiceOut)
def change_plan(
    service_id: PathId,
    body: PlanChangeIn,
    who: Who,
    scope: CityScope,
    session: Session = db("services.migrate"),
) -> ServiceOut:
    """Atualização de plano: this service (same login, contract and addresses) on another plan
    now; online subscribers get the new speed by CoA. A cheaper or slower plan also needs
    ``services.plan_lower`` ("pode alterar para plano inferior")."""
    service = services.get_service_by_id(session, service_id, scope)
    target = plans.get_plan(session, body.plan_id)
    if plans.is_lower(service.plan, target):
        who.require("services.plan_lower")
    changed = plans.change_plan(session, service, target, reason=body.reason, change_price=body.change_price)
    return service_out(session, changed)


@router.post("/services/{service_id}/transfer", response_model=TransferOut)
def transfer(
    service_id: PathId,
    body: TransferIn,
    scope: CityScope,
    zone: ZoneInfo = Depends(policy_zone),
    session: Session = db("services.transfer"),
) -> TransferOut:
    """Troca de titularidade, to an existing customer or to one created in the same request. The
    service's open invoices go to the new owner; with ``transfer_debts`` false, the overdue
    charges stay the previous owner's debt (and no longer hold the service suspended)."""
    service = services.get_service_by_id(session, service_id, scope)
    if body.new_customer is not None:
        target = create_customer(session, body.new_customer, scope)
    else:
        assert body.customer_id is not None
        target = customers.get_customer(session, body.customer_id, scope)
    moved = transfer_to(
        session, service, target, reason=body.reason, transfer_debts=body.transfer_debts, zone=zone
    )
    return TransferOut(**service_out(session, service).model_dump(), money_moved=money_out(moved))


def transfer_to(
    session: Session,
    service: Service,
    target: Customer,
    *,
    reason: str,
    transfer_debts: bool,
    zone: ZoneInfo,
) -> contracts.Moved:
    """Troca de titularidade, the API's and the console's: the service and its open invoices go
    to ``target``; without ``transfer_debts`` the overdue charges stay the previous owner's and no
    longer hold the service."""
    previous = service.customer
    migration.transfer_ownership(session, service, target, reason=reason)
    today = today_in(zone)
    moved = contracts.carry_transfer(session, service, previous, transfer_debts=transfer_debts, today=today)
    if not transfer_debts:
        settle(session, [service.id], today, zone, "overdue debt left with the previous owner")
    return moved


def money_out(moved: contracts.Moved) -> MoneyMovedOut:
    return MoneyMovedOut(
        charges=moved.charges,
        amount=moved.amount,
        invoices=moved.invoices,
        carnes=moved.carnes,
        kept_charges=moved.kept_charges,
        kept_amount=moved.kept_amount,
        kept_invoices=moved.kept_invoices,
        summary=moved.text(),
    )


@router.put("/services/{service_id}/addresses", response_model=ServiceOut)
def set_addresses(
    service_id: PathId, body: ServiceAddressIn, scope: CityScope, session: Session = db("services.write")
) -> ServiceOut:
    """Change the service's addresses; list all four kinds to "update all" (registration is the
    customer's own address)."""
    service = services.get_service_by_id(session, service_id, scope)
    fields = body.address.model_dump()
    for kind in sorted(set(body.kinds)):
        owner = None if kind is AddressKind.REGISTRATION else service
        customers.set_address(session, service.customer, kind, fields, owner)
    return service_out(session, service)


@router.get("/services/{service_id}/diagnostics", response_model=DiagnosticsOut)
def diagnostics(
    service_id: PathId, request: Request, scope: CityScope, session: Session = db("services.read")
) -> DiagnosticsOut:
    service = services.get_service_by_id(session, service_id, scope)
    return diagnostics_out(session, diagnose(session, service, utcnow(), settings_of(request).policy))
