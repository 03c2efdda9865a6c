"""Charges (cobranças) and what the routine reads of them. Flush, never commit.

A charge written writes its audit entry (FLUSH_HOOKS in aaa.composition).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from aaa.db.paging import page
from aaa.errors import Conflict, Invalid, NotFound
from aaa.tables.subscribers import BillingMethod, Service
from aaa.vocabulary.subscribers import ServiceStatus
from billing_bridge.amounts import add_months, due_in, month_of
from billing_bridge.models import ZERO, Charge, ChargeKind, ChargeStatus
from billing_bridge.standing import OpenCharge, Rule

CENT = Decimal("0.01")


def money(value: Decimal | int | str, what: str = "the amount") -> Decimal:
    """Exact to the cent, or an error saying so (never rounded silently)."""
    amount = Decimal(value)
    if amount != amount.quantize(CENT):
        raise Invalid(f"{what} {value} has more than two decimal places")
    return amount.quantize(CENT)


def add_charge(
    session: Session,
    service: Service,
    *,
    kind: ChargeKind,
    due_date: date,
    amount: Decimal,
    description: str = "",
    competence: date | None = None,
    discount_amount: Decimal | None = None,
    discount_days_before: int = 0,
) -> Charge:
    """``discount_amount``: promotional discount when paid in full by the due date
    minus ``discount_days_before`` days."""
    if service.status is ServiceStatus.CANCELLED:
        raise Conflict(f"service {service.id} is cancelled; charge the customer on another service")
    amount = money(amount)
    if amount <= ZERO:
        raise Invalid("a charge's amount must be more than zero")
    if discount_amount is not None:
        discount_amount = money(discount_amount, "the discount")
        if not ZERO < discount_amount < amount:
            raise Invalid(f"the discount must be more than zero and less than the amount {amount}")
    if discount_days_before < 0:
        raise Invalid("discount_days_before cannot be negative")
    charge = Charge(
        service_id=service.id,
        kind=kind,
        due_date=due_date,
        amount=amount,
        paid_amount=ZERO,
        description=description,
        competence=competence.replace(day=1) if competence else None,
        discount_amount=discount_amount,
        discount_days_before=discount_days_before,
        discount_granted=ZERO,
        status=ChargeStatus.OPEN,
    )
    session.add(charge)
    session.flush()
    return charge


LIVE = (ChargeStatus.OPEN, ChargeStatus.PARTIALLY_PAID)


def lock_open(session: Session, charge_ids: Sequence[int], what: str) -> list[Charge]:
    """The charges, locked, in due-date order; an error naming any missing or not open.
    ``what``: the sentence for an empty selection."""
    if not charge_ids:
        raise Invalid(what)
    charges = list(
        session.scalars(
            select(Charge)
            .where(Charge.id.in_(charge_ids))
            .order_by(Charge.due_date, Charge.id)
            .with_for_update()
        )
    )
    missing = sorted(set(charge_ids) - {c.id for c in charges})
    if missing:
        raise NotFound(f"charge(s) {', '.join(map(str, missing))} do not exist")
    closed = [c.id for c in charges if c.status not in LIVE]
    if closed:
        raise Conflict(f"charge(s) {', '.join(map(str, closed))} are not open (paid or cancelled)")
    return charges


def get_charge(session: Session, charge_id: int) -> Charge:
    charge = session.get(Charge, charge_id)
    if charge is None:
        raise NotFound(f"charge {charge_id} does not exist")
    return charge


def due_day_changed(session: Session, service: Service, before: int | None, now: date) -> str | None:
    """The billing method's fee (a charge due on the new due day) or credit (taken off the next
    open monthly fee) for changing the due day; what was done, in words, or None."""
    if before is None or before == service.due_day or service.billing_method_id is None:
        return None
    method = session.get(BillingMethod, service.billing_method_id)
    if method is None:
        return None
    if method.due_day_change_fee:
        due = next_due_on(now, service.due_day or now.day)
        charge = add_charge(
            session,
            service,
            kind=ChargeKind.OTHER,
            due_date=due,
            amount=method.due_day_change_fee,
            description=f"Alteração de vencimento (dia {before} → {service.due_day})",
        )
        return f"due-day change fee: charge {charge.id} of {charge.amount}, due {due.isoformat()}"
    if method.due_day_change_credit:
        target = session.scalar(
            select(Charge)
            .where(
                Charge.service_id == service.id,
                Charge.kind == ChargeKind.MONTHLY,
                Charge.status == ChargeStatus.OPEN,
                Charge.paid_amount == ZERO,
            )
            .order_by(Charge.due_date)
        )
        if target is None:
            return "due-day change credit: no open monthly fee to take it off"
        credit = min(method.due_day_change_credit, target.amount - target.discount_granted)
        target.discount_granted += credit
        session.flush()
        return f"due-day change credit: {credit} off charge {target.id}"
    return None


def next_due_on(today: date, day: int) -> date:
    """The next date on ``day`` of a month, after ``today``."""
    this_month = due_in(month_of(today), day)
    return this_month if this_month > today else due_in(add_months(month_of(today), 1), day)


def set_discount(session: Session, charge: Charge, *, amount: Decimal, days_before: int) -> Charge:
    """Give an open charge a promotional discount (Desconto promocional) after it was made."""
    if charge.status not in (ChargeStatus.OPEN,) or charge.paid_amount > ZERO:
        raise Conflict(
            f"charge {charge.id} is {charge.status.value}; only an unpaid open charge takes a discount"
        )
    amount = money(amount)
    if amount <= ZERO or amount >= charge.amount:
        raise Invalid(f"the discount must be more than zero and less than the amount ({charge.amount})")
    charge.discount_amount, charge.discount_days_before = amount, days_before
    session.flush()
    return charge


def cancel_charge(session: Session, charge: Charge, *, reason: str, now: datetime) -> Charge:
    """Cancelled charges stay visible; one with money on it needs its receipt reversed."""
    if not reason.strip():
        raise Invalid("give a reason for cancelling the charge")
    if charge.status is ChargeStatus.CANCELLED:
        raise Conflict(f"charge {charge.id} is already cancelled")
    if charge.paid_amount > ZERO:
        raise Conflict(f"charge {charge.id} has {charge.paid_amount} paid; reverse its receipt first")
    charge.status, charge.cancelled_at, charge.cancel_reason = ChargeStatus.CANCELLED, now, reason.strip()
    session.flush()
    return charge


def open_charges(
    session: Session, service_ids: Collection[int] | None, today: date
) -> dict[int, list[OpenCharge]]:
    """Overdue money per service (``None``: every service): open or partially paid charges due
    before ``today``."""
    query = select(
        Charge.service_id, Charge.due_date, Charge.amount - Charge.paid_amount - Charge.discount_granted
    ).where(
        Charge.status.in_((ChargeStatus.OPEN, ChargeStatus.PARTIALLY_PAID)),
        Charge.due_date < today,
        Charge.debtor_customer_id.is_(None),  # debt left with a previous owner is not the service's
    )
    if service_ids is not None:
        query = query.where(Charge.service_id.in_(service_ids))
    rows = session.execute(query)
    found: dict[int, list[OpenCharge]] = {}
    for service_id, due, open_amount in rows:
        found.setdefault(service_id, []).append(OpenCharge(due, open_amount))
    return found


def rule_of(service: Service, method: BillingMethod | None) -> Rule | None:
    """The billing method's rule with the contract's overrides (aba Info do contrato)."""
    if method is None:
        return None
    return Rule(
        total=method.total_suspension,
        total_days=service.block_tolerance_days
        if service.block_tolerance_days is not None
        else method.total_suspension_days,
        partial=method.partial_suspension,
        partial_days=service.reduction_tolerance_days
        if service.reduction_tolerance_days is not None
        else method.partial_suspension_days,
        minimum_open=method.minimum_open,
        auto_block=service.auto_block,
    )


def charges_of_service(
    session: Session, service_id: int, limit: int, offset: int = 0
) -> tuple[list[Charge], int]:
    """Every charge of the service, cancelled ones included, newest due date first."""
    query = select(Charge).where(Charge.service_id == service_id)
    return page(session, query, (Charge.due_date.desc(), Charge.id.desc()), limit=limit, offset=offset)


def unpaid_charges(session: Session, service_ids: Collection[int]) -> list[Charge]:
    """What the services' owner still has to pay: open and partially paid charges, any due date,
    oldest due first (the customer screen's "em aberto")."""
    query = select(Charge).where(
        Charge.service_id.in_(service_ids),
        Charge.status.in_((ChargeStatus.OPEN, ChargeStatus.PARTIALLY_PAID)),
        Charge.debtor_customer_id.is_(None),
    )
    return list(session.scalars(query.order_by(Charge.due_date, Charge.id)))
