"""Billing (Financeiro): billing methods and their suspension rules, charges, receiving and
reversal, and the suspension / re-enable routine (run now, or dry: who would change and why)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from aaa.audit.log import actor_of
from aaa.db.base import utcnow
from aaa.errors import Conflict, Forbidden
from aaa.operators import service as operators
from aaa.subscribers import service as services
from aaa.tables.subscribers import Service
from admin_api import scoped
from admin_api.deps import CityScope, Who, db, policy_zone, settings_of
from admin_api.routes.common import Limit, Offset, PathId, listed, paged
from admin_api.routes.finance import charge_outs
from admin_api.schemas.billing import (
    BillingMethodIn,
    BillingMethodOut,
    BillingMethodPatch,
    ChargeDiscountIn,
    ChargeIn,
    ChargeOut,
    ReceiptOut,
    ReceiveIn,
    RoutineDefIn,
    RoutineDefOut,
    RoutineDefPatch,
    RoutineIn,
    RoutineRunOut,
    TransitionOut,
)
from admin_api.schemas.common import Page
from admin_api.schemas.services import ReasonIn
from billing_bridge import charges as billing
from billing_bridge import methods, receiving
from billing_bridge import scheduler as schedules
from billing_bridge.amounts import ZERO
from billing_bridge.invoices import live_charges
from billing_bridge.models import Routine
from billing_bridge.printing import receipt_html
from billing_bridge.routine import Transition, recent_runs, restate, run_routine
from billing_bridge.scheduler import SCHEDULE, trigger_of
from billing_bridge.sources import charge_source

router = APIRouter(tags=["billing"])


@router.get("/billing-methods", response_model=Page[BillingMethodOut])
def list_methods(
    limit: Limit = 100, offset: Offset = 0, session: Session = db("finance.read")
) -> Page[BillingMethodOut]:
    return listed([BillingMethodOut.model_validate(m) for m in methods.list_methods(session)], limit, offset)


@router.post("/billing-methods", response_model=BillingMethodOut, status_code=201)
def create_method(body: BillingMethodIn, session: Session = db("finance.configure")) -> BillingMethodOut:
    return BillingMethodOut.model_validate(methods.add_method(session, **body.model_dump()))


@router.patch("/billing-methods/{method_id}", response_model=BillingMethodOut)
def update_method(
    method_id: PathId, body: BillingMethodPatch, session: Session = db("finance.configure")
) -> BillingMethodOut:
    method = methods.update_method(session, method_id, **body.model_dump(exclude_unset=True))
    return BillingMethodOut.model_validate(method)


@router.post("/services/{service_id}/charges", response_model=ChargeOut, status_code=201)
def add_charge(
    service_id: PathId, body: ChargeIn, scope: CityScope, session: Session = db("finance.charge")
) -> ChargeOut:
    service = services.get_service_by_id(session, service_id, scope)
    return ChargeOut.model_validate(billing.add_charge(session, service, **body.model_dump()))


@router.get("/services/{service_id}/charges", response_model=Page[ChargeOut])
def list_charges(
    service_id: PathId,
    scope: CityScope,
    limit: Limit = 100,
    offset: Offset = 0,
    session: Session = db("finance.read"),
) -> Page[ChargeOut]:
    """Every charge of the service, cancelled ones included, newest due date first."""
    services.get_service_by_id(session, service_id, scope)
    rows, total = billing.charges_of_service(session, service_id, limit, offset)
    return Page(items=charge_outs(session, rows), total=total, limit=limit, offset=offset)


@router.post("/charges/{charge_id}/discount", response_model=ChargeOut)
def add_discount(
    charge_id: PathId, body: ChargeDiscountIn, scope: CityScope, session: Session = db("finance.charge")
) -> ChargeOut:
    """A promotional discount on an existing open charge: off if paid in full by the due date
    minus ``discount_days_before``."""
    charge = scoped.charge(session, charge_id, scope)
    changed = billing.set_discount(
        session, charge, amount=body.discount_amount, days_before=body.discount_days_before
    )
    return ChargeOut.model_validate(changed)


@router.post("/charges/{charge_id}/cancel", response_model=ChargeOut)
def cancel_charge(
    charge_id: PathId, body: ReasonIn, scope: CityScope, session: Session = db("finance.charge")
) -> ChargeOut:
    charge = scoped.charge(session, charge_id, scope)
    return ChargeOut.model_validate(billing.cancel_charge(session, charge, reason=body.reason, now=utcnow()))


def _receipt_out(receipt: receiving.Receipt, moved: list[Transition] | None = None) -> ReceiptOut:
    out = ReceiptOut.model_validate(receipt)
    out.services_moved = [TransitionOut.model_validate(t, from_attributes=True) for t in moved or []]
    return out


@router.post("/receipts", response_model=ReceiptOut, status_code=201)
def receive(
    body: ReceiveIn, request: Request, who: Who, scope: CityScope, session: Session = db("finance.receive")
) -> ReceiptOut:
    """Receive into a cash box the operator may use: charges, or an invoice's open charges, with
    the late fee, interest and promotional discount of the day (see /charges/quote). Less than
    the total leaves charges partially paid; money that clears the debt re-enables the service
    at once."""
    if not who.superuser and not operators.may_use_cash_box(session, who.operator_id, body.cash_box_id):
        raise Forbidden(f"{who.describe()} may not use cash box {body.cash_box_id}")
    if body.discount:
        who.require("finance.discount")
    if body.amount is not None:
        who.require("finance.receive_amount")
    if body.invoice_id is not None:
        invoice = scoped.invoice(session, body.invoice_id, scope)
        charge_ids = [c.id for c in live_charges(invoice)]
        if not charge_ids:
            raise Conflict(f"invoice {invoice.id} has nothing open")
    else:
        charge_ids = body.charge_ids or []
        scoped.charges(session, charge_ids, scope)
    receipt, moved = receiving.receive(
        session,
        charge_ids=charge_ids,
        amount=body.amount,
        cash_box_id=body.cash_box_id,
        received_by=actor_of(session).name,
        now=utcnow(),
        zone=policy_zone(request),
        discount=body.discount or ZERO,
    )
    return _receipt_out(receipt, moved)


@router.get("/receipts/{receipt_id}", response_model=ReceiptOut)
def get_receipt(receipt_id: PathId, scope: CityScope, session: Session = db("finance.read")) -> ReceiptOut:
    """The receipt as printable data."""
    return _receipt_out(scoped.receipt(session, receipt_id, scope))


@router.get("/receipts/{receipt_id}/print", response_class=HTMLResponse)
def print_receipt(
    receipt_id: PathId, request: Request, scope: CityScope, session: Session = db("finance.read")
) -> HTMLResponse:
    """The receipt as a printable HTML page (in the ISP's time zone), with the customer's name
    and CPF/CNPJ."""
    receipt = scoped.receipt(session, receipt_id, scope)
    box = operators.cash_box_name(session, receipt.cash_box_id)
    first = receipt.items[0].charge if receipt.items else None
    customer = session.get(Service, first.service_id).customer if first else None  # type: ignore[union-attr]
    return HTMLResponse(receipt_html(receipt, policy_zone(request), box, customer))


@router.post("/receipts/{receipt_id}/reverse", response_model=ReceiptOut)
def reverse(
    receipt_id: PathId,
    body: ReasonIn,
    request: Request,
    scope: CityScope,
    session: Session = db("finance.reverse"),
) -> ReceiptOut:
    """Undo a receipt (recebi um boleto errado): its charges reopen, and each service it paid for
    moves to its standing at once (a service the payment re-enabled is suspended again);
    ``services_moved`` says which. Audited."""
    receipt = scoped.receipt(session, receipt_id, scope)
    now = utcnow()
    reversed_ = receiving.reverse(session, receipt, reason=body.reason, by=actor_of(session).name, now=now)
    zone = policy_zone(request)
    services = sorted({item.charge.service_id for item in reversed_.items})
    moved = restate(session, services, now.astimezone(zone).date(), zone, f"receipt {receipt.id} reversed")
    return _receipt_out(reversed_, moved)


@router.post("/routines/suspension", response_model=RoutineRunOut, status_code=201)
def run_suspension_routine(
    body: RoutineIn, request: Request, scope: CityScope, session: Session = db("routines.run")
) -> RoutineRunOut:
    """Evaluate every enabled / reduced / suspended service against its billing method now: apply
    the transitions, or (dry run) list who would change and why. Needs an operator of every city."""
    scoped.whole_isp(scope, "the suspension routine")
    zone = policy_zone(request)
    now = utcnow()
    run = run_routine(
        session,
        body.day or now.astimezone(zone).date(),
        zone,
        now,
        dry_run=body.dry_run,
        source=charge_source(settings_of(request).billing),
        reenable_without_debt=body.reenable_without_debt,
    )
    return RoutineRunOut.model_validate(run)


@router.get("/routines/runs", response_model=Page[RoutineRunOut])
def list_runs(
    scope: CityScope, limit: Limit = 20, offset: Offset = 0, session: Session = db("finance.read")
) -> Page[RoutineRunOut]:
    scoped.whole_isp(scope, "the routine runs' log")
    return paged(recent_runs(session, limit, offset), RoutineRunOut.model_validate, limit, offset)


def _routine_out(routine: Routine, zone: ZoneInfo) -> RoutineDefOut:
    out = RoutineDefOut.model_validate(routine)
    if routine.enabled:
        trigger = trigger_of({name: getattr(routine, name) for name in SCHEDULE}, zone)
        out.next_run = trigger.get_next_fire_time(None, utcnow())
    return out


@router.get("/routines", response_model=Page[RoutineDefOut])
def list_routines(
    request: Request, limit: Limit = 100, offset: Offset = 0, session: Session = db("finance.read")
) -> Page[RoutineDefOut]:
    """Rotinas: their schedules (ISP time zone) and when each runs next."""
    zone = policy_zone(request)
    return listed([_routine_out(r, zone) for r in schedules.list_routines(session)], limit, offset)


@router.post("/routines", response_model=RoutineDefOut, status_code=201)
def create_routine(
    body: RoutineDefIn, request: Request, session: Session = db("routines.configure")
) -> RoutineDefOut:
    routine = schedules.add_routine(session, policy_zone(request), **body.model_dump())
    return _routine_out(routine, policy_zone(request))


@router.patch("/routines/{routine_id}", response_model=RoutineDefOut)
def update_routine(
    routine_id: PathId, body: RoutineDefPatch, request: Request, session: Session = db("routines.configure")
) -> RoutineDefOut:
    changes = body.model_dump(exclude_unset=True)
    routine = schedules.update_routine(session, routine_id, policy_zone(request), **changes)
    return _routine_out(routine, policy_zone(request))
