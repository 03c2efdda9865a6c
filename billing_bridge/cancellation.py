"""Cancelling a service, with its money ("Gerar Multa", "Cancelar Faturas Pendentes"):
an optional loyalty fine in proportion to the loyalty months left, and optionally the pending
charges cancelled. Overdue debt stays: cancelling a contract does not forgive what was used.

The cancellation goes through ``change_status``: FLUSH_HOOKS (audit, RADIUS caches, the
outbox disconnects an online subscriber, the status webhook).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from aaa.errors import Invalid
from aaa.subscribers.lifecycle import change_status
from aaa.tables.subscribers import Service
from aaa.vocabulary.subscribers import ServiceStatus
from billing_bridge.amounts import ZERO, loyalty_fine
from billing_bridge.charges import add_charge, cancel_charge
from billing_bridge.models import Charge, ChargeKind, ChargeStatus, Invoice, InvoiceStatus
from billing_bridge.standing import brl

FINE_DUE_DAYS = 10  # the loyalty fine is due this many days after the cancellation


@dataclass
class Cancellation:
    service: Service
    fine: Charge | None = None
    cancelled_charges: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def cancel_service(
    session: Session,
    service: Service,
    *,
    reason: str,
    now: datetime,
    zone: ZoneInfo,
    charge_loyalty_fine: bool = False,
    cancel_pending: bool = False,
) -> Cancellation:
    today = now.astimezone(zone).date()
    result = Cancellation(service)
    if charge_loyalty_fine:
        result.fine = _fine(session, service, today, zone, result.notes)
    if cancel_pending:
        result.cancelled_charges = _cancel_pending(session, service, today, now)
    change_status(session, service, ServiceStatus.CANCELLED, reason=reason)
    session.flush()
    return result


def _fine(session: Session, service: Service, today: date, zone: ZoneInfo, notes: list[str]) -> Charge | None:
    if not service.loyalty_months or service.loyalty_fine is None:
        raise Invalid(f"service {service.id} has no loyalty term (loyalty_months and loyalty_fine)")
    if service.activated_at is None:
        notes.append("never activated: no loyalty fine")
        return None
    start = service.activated_at.astimezone(zone).date()
    fine = loyalty_fine(service.loyalty_fine, service.loyalty_months, start, today)
    if fine.amount == ZERO:
        notes.append(f"loyalty of {fine.months} months from {start:%d/%m/%Y} completed: no fine")
        return None
    notes.append(
        f"loyalty fine: {fine.remaining_months} of {fine.months} months left × {brl(service.loyalty_fine)}"
        f" / {fine.months} = {brl(fine.amount)}"
    )
    return add_charge(
        session,
        service,
        kind=ChargeKind.FINE,
        due_date=today + timedelta(days=FINE_DUE_DAYS),
        amount=fine.amount,
        description=f"Multa de fidelidade ({fine.remaining_months}/{fine.months} meses restantes)",
    )


def _cancel_pending(session: Session, service: Service, today: date, now: datetime) -> list[int]:
    """Charges not yet due and with nothing paid; an invoice left with nothing live is cancelled."""
    pending = list(
        session.scalars(
            select(Charge).where(
                Charge.service_id == service.id,
                Charge.status == ChargeStatus.OPEN,
                Charge.due_date >= today,
                Charge.kind != ChargeKind.FINE,
            )
        )
    )
    for charge in pending:
        cancel_charge(session, charge, reason="service cancelled", now=now)
    invoice_ids = {c.invoice_id for c in pending if c.invoice_id}
    for invoice in session.scalars(select(Invoice).where(Invoice.id.in_(invoice_ids))):
        if all(c.status is ChargeStatus.CANCELLED for c in invoice.charges):
            invoice.status, invoice.cancelled_at = InvoiceStatus.CANCELLED, now
            invoice.cancel_reason = "service cancelled"
    return [c.id for c in pending]
