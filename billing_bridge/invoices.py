"""Invoices (faturas): one or more open charges of a customer under a billing method and a due
date ("amarrar a uma fatura"). Cancelling one keeps it visible and frees its charges
(or cancels them too); re-issuing cancels it and issues a new one with what is still open.

Invoices and their charges write audit entries (FLUSH_HOOKS in aaa.composition).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from aaa.db.paging import page
from aaa.errors import Conflict, Invalid, NotFound
from aaa.tables.subscribers import BillingMethod, Service
from billing_bridge.charges import LIVE, cancel_charge, lock_open
from billing_bridge.models import ZERO, Charge, ChargeStatus, Invoice, InvoiceStatus
from billing_bridge.pix import Pix


def get_invoice(session: Session, invoice_id: int) -> Invoice:
    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        raise NotFound(f"invoice {invoice_id} does not exist")
    return invoice


def live_charges(invoice: Invoice) -> list[Charge]:
    """The invoice's charges still open (or partially paid): what paying it pays."""
    return [c for c in invoice.charges if c.status in LIVE]


def state_of(invoice: Invoice) -> str:
    """issued, partially_paid, paid or cancelled: what the customer's boleto stands at."""
    if invoice.status is InvoiceStatus.CANCELLED:
        return "cancelled"
    if all(c.status in (ChargeStatus.PAID, ChargeStatus.CANCELLED) for c in invoice.charges):
        return "paid"
    if any(c.paid_amount > ZERO for c in invoice.charges):
        return "partially_paid"
    return "issued"


def issue(
    session: Session,
    *,
    charge_ids: Sequence[int],
    billing_method_id: int,
    due_date: date,
    reissued_from: Invoice | None = None,
) -> Invoice:
    method = session.get(BillingMethod, billing_method_id)
    if method is None or not method.active:
        raise Invalid(f"billing method {billing_method_id} does not exist or is inactive")
    charges = lock_open(session, charge_ids, "select the charges to put on the invoice")
    taken = [c.id for c in charges if c.invoice_id is not None]
    if taken:
        raise Conflict(f"charge(s) {', '.join(map(str, taken))} are already on an invoice; cancel it first")
    customers = set(
        session.scalars(select(Service.customer_id).where(Service.id.in_({c.service_id for c in charges})))
    )
    if len(customers) != 1:
        raise Invalid("an invoice groups the charges of one customer; these belong to several")
    contracts = {c.service_id for c in charges}
    invoice = Invoice(
        customer_id=customers.pop(),
        service_id=contracts.pop() if len(contracts) == 1 else None,
        billing_method_id=method.id,
        due_date=due_date,
        amount=sum((c.open_amount for c in charges), ZERO),
        charge_ids=[c.id for c in charges],
        status=InvoiceStatus.ISSUED,
        reissued_from_id=reissued_from.id if reissued_from else None,
    )
    session.add(invoice)
    session.flush()
    for charge in charges:
        charge.invoice_id = invoice.id
    session.flush()
    session.refresh(invoice, ["charges"])
    return invoice


def cancel_invoice(
    session: Session, invoice: Invoice, *, reason: str, now: datetime, cancel_charges: bool = False
) -> Invoice:
    """The invoice stays, cancelled; its charges go back to loose (or are cancelled as well)."""
    if not reason.strip():
        raise Invalid("give a reason for cancelling the invoice")
    if invoice.status is InvoiceStatus.CANCELLED:
        raise Conflict(f"invoice {invoice.id} is already cancelled")
    if state_of(invoice) == "paid":
        raise Conflict(f"invoice {invoice.id} is paid; reverse its receipt first")
    for charge in list(invoice.charges):
        charge.invoice_id = None
        if cancel_charges and charge.status in LIVE:
            cancel_charge(
                session, charge, reason=f"invoice {invoice.id} cancelled: {reason.strip()}", now=now
            )
    invoice.status, invoice.cancelled_at, invoice.cancel_reason = InvoiceStatus.CANCELLED, now, reason.strip()
    session.flush()
    session.expire(invoice, ["charges"])
    return invoice


def reissue(session: Session, invoice: Invoice, *, due_date: date, reason: str, now: datetime) -> Invoice:
    """Regerar fatura: a new invoice (new due date) with the old one's charges that are still open."""
    still_open = [c.id for c in live_charges(invoice)]
    if not still_open:
        raise Conflict(f"invoice {invoice.id} has nothing open to re-issue")
    cancel_invoice(session, invoice, reason=f"re-issued: {reason.strip()}", now=now)
    return issue(
        session,
        charge_ids=still_open,
        billing_method_id=invoice.billing_method_id,
        due_date=due_date,
        reissued_from=invoice,
    )


def invoices_of_customer(
    session: Session, customer_id: int, limit: int, offset: int = 0
) -> tuple[list[Invoice], int]:
    """Every invoice of the customer, cancelled ones included, newest first."""
    query = select(Invoice).where(Invoice.customer_id == customer_id)
    return page(session, query, Invoice.id.desc(), limit=limit, offset=offset)


def open_amount(invoice: Invoice) -> Decimal:
    return sum((c.open_amount for c in invoice.charges), ZERO)


def pix_of(invoice: Invoice, key: str, name: str, city: str) -> Pix:
    """The static BR Code that pays what is open on the invoice (txid: the invoice's number)."""
    if invoice.status is InvoiceStatus.CANCELLED:
        raise Conflict(f"invoice {invoice.id} is cancelled: nothing to pay")
    amount = open_amount(invoice)
    if amount <= ZERO:
        raise Conflict(f"invoice {invoice.id} is paid: nothing to pay")
    return Pix(
        name, city, amount=amount, txid=f"FAT{invoice.id}", key=key, description=f"Fatura {invoice.id}"
    )
