"""Charges generated in series: a carnê (N monthly fees at once, the first pro-rata
from the day the customer started) and an installation fee in instalments.

Carnês and their charges write audit entries (FLUSH_HOOKS in aaa.composition).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from aaa.audit.log import actor_of
from aaa.errors import Conflict, Invalid
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
