"""Charges generated in series: a carnê (N monthly fees at once, the first pro-rata
from the day the customer started) and an installation fee in instalments.

Carnês and their charges write audit entries (FLUSH_HOOKS in aaa.composition).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from aaa.audit.log import actor_of, record
from aaa.errors import Conflict, Invalid, NotFound
from aaa.tables.subscribers import Service
from aaa.vocabulary.subscribers import BillingMode
from billing_bridge.amounts import add_months, due_in, month_of, pro_rata, split
from billing_bridge.charges import add_charge, money
from billing_bridge.models import Carne, Charge, ChargeKind, ChargeStatus
from billing_bridge.standing import brl


def _due_dates(first_due: date, count: int) -> list[date]:
    return [due_in(add_months(month_of(first_due), i), first_due.day) for i in range(count)]


def carne(session: Session, service: Service, *, first_due: date, installments: int, start: date) -> Carne:
    """Monthly fees for ``installments`` consecutive competences. The billing run then skips
    those months (they are charged)."""
    if not 1 <= installments <= 36:
        raise Invalid("a carnê has 1 to 36 instalments")
    if start > first_due:
        raise Invalid("the start of service must be on or before the first due date")
    first = (
        month_of(first_due)
        if service.billing_mode is BillingMode.ADVANCE
        else add_months(month_of(first_due), -1)
    )
    months = [add_months(first, i) for i in range(installments)]
    taken = session.scalars(
        select(Charge.competence).where(
            Charge.service_id == service.id,
            Charge.kind == ChargeKind.MONTHLY,
            Charge.competence.in_(months),
            Charge.status != ChargeStatus.CANCELLED,
        )
    ).all()
    if taken:
        listed = ", ".join(f"{m:%m/%Y}" for m in sorted(m for m in taken if m))
        raise Conflict(f"service {service.id} already has its monthly fee for {listed}")
    book = Carne(
        service_id=service.id,
        first_due=first_due,
        installments=installments,
        created_by=actor_of(session).name,
    )
    session.add(book)
    session.flush()
    for i, (month, due) in enumerate(zip(months, _due_dates(first_due, installments), strict=True)):
        share = pro_rata(service.price, month, start if i == 0 else None)
        text = f"Carnê {i + 1}/{installments} — Mensalidade {month:%m/%Y}"
        if not share.whole:
            text += f" (pro-rata {share.days}/{share.of} dias de {brl(service.price)})"
        if share.amount > 0:
            charge = add_charge(
                session,
                service,
                kind=ChargeKind.MONTHLY,
                due_date=due,
                amount=share.amount,
                description=text,
                competence=month,
            )
            charge.carne_id, charge.installment, charge.installments = book.id, i + 1, installments
    session.flush()
    return book


def installation_fee(
    session: Session,
    service: Service,
    *,
    amount: Decimal,
    installments: int,
    first_due: date,
    description: str = "Taxa de instalação",
) -> list[Charge]:
    """The fee split into instalments that add up to the cent, due monthly from ``first_due``."""
    if not 1 <= installments <= 24:
        raise Invalid("an installation fee has 1 to 24 instalments")
    parts = split(money(amount), installments)
    charges = []
    for i, (part, due) in enumerate(zip(parts, _due_dates(first_due, installments), strict=True)):
        charge = add_charge(
            session,
            service,
            kind=ChargeKind.INSTALLATION,
            due_date=due,
            amount=part,
            description=f"{description} {i + 1}/{installments}" if installments > 1 else description,
        )
        charge.installment, charge.installments = i + 1, installments
        charges.append(charge)
    session.flush()
    return charges


def charges_of_carne(session: Session, carne_id: int) -> list[Charge]:
    return list(session.scalars(select(Charge).where(Charge.carne_id == carne_id).order_by(Charge.due_date)))


def get_carne(session: Session, carne_id: int) -> Carne:
    book = session.get(Carne, carne_id)
    if book is None:
        raise NotFound(f"carnê {carne_id} does not exist")
    return book


def carnes_of_service(session: Session, service_id: int) -> list[Carne]:
    return list(
        session.scalars(select(Carne).where(Carne.service_id == service_id).order_by(Carne.id.desc()))
    )


def cancel_remaining(session: Session, book: Carne, *, reason: str, now: datetime) -> list[Charge]:
    """Cancel the carnê's instalments nobody has paid anything of (Cancelar parcelas restantes);
    paid and partly paid ones stay as they are. Returns the cancelled ones."""
    if not reason.strip():
        raise Invalid("give a reason for cancelling the remaining instalments")
    remaining = [
        c for c in charges_of_carne(session, book.id) if c.status is ChargeStatus.OPEN and c.paid_amount == 0
    ]
    if not remaining:
        raise Conflict(f"carnê {book.id} has no unpaid instalment left")
    for charge in remaining:
        charge.status, charge.cancelled_at = ChargeStatus.CANCELLED, now
        charge.cancel_reason = f"carnê {book.id}: {reason.strip()}"
    record(
        session,
        entity="carne",
        entity_id=book.id,
        action="remaining_cancelled",
        service_id=book.service_id,
        note=f"{len(remaining)} instalment(s) cancelled: {reason.strip()}",
    )
    session.flush()
    return remaining


def associate(session: Session, book: Carne, charge_ids: list[int]) -> list[Charge]:
    """Put loose charges of the carnê's service into it (Associar cobranças avulsas), as its next
    instalments, in due-date order."""
    found = list(session.scalars(select(Charge).where(Charge.id.in_(charge_ids)).order_by(Charge.due_date)))
    missing = sorted(set(charge_ids) - {c.id for c in found})
    if missing:
        raise NotFound(f"charge(s) {', '.join(map(str, missing))} do not exist")
    for charge in found:
        if charge.service_id != book.service_id:
            raise Invalid(f"charge {charge.id} belongs to service {charge.service_id}, not the carnê's")
        if charge.carne_id is not None:
            raise Conflict(f"charge {charge.id} is already in carnê {charge.carne_id}")
        if charge.status is ChargeStatus.CANCELLED:
            raise Conflict(f"charge {charge.id} is cancelled")
    total = book.installments + len(found)
    for number, charge in enumerate(found, start=book.installments + 1):
        charge.carne_id, charge.installment = book.id, number
    for charge in charges_of_carne(session, book.id) + found:
        charge.installments = total
    book.installments = total
    session.flush()
    return found
