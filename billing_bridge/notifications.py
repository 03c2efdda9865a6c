"""Inbound payment notifications (a bank's or gateway's webhook): signed, idempotent by the
sender's external id, and never applied on a guess. A notice naming an unknown invoice, or an
amount other than what settles the invoice that day, is kept and flagged for an operator, who
applies it (as a partial payment when it is less) or dismisses it.

Body: ``{"external_id": "...", "invoice_id": 12, "amount": "94.90", "paid_at": "<ISO 8601>"}``;
header ``X-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>." + raw body)>``.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from aaa.db.paging import page
from aaa.errors import Conflict, Forbidden, Invalid, NotFound
from aaa.nul import contains_nul
from aaa.tables.operators import CashBox
from billing_bridge.amounts import MONEY_LIMIT
from billing_bridge.invoices import live_charges, state_of
from billing_bridge.models import Invoice, InvoiceStatus, NotificationStatus, PaymentNotification
from billing_bridge.receiving import quote_charges, receive
from billing_bridge.routine import Transition
from billing_bridge.standing import brl
from billing_bridge.webhooks import emit, sign


def verify(secret: str, header: str | None, body: bytes, now: datetime, max_skew: int) -> None:
    """Forbidden unless the signature is the secret's over this body and recent."""
    if not secret:
        raise Forbidden("payment notifications are off: set billing.notification_secret")
    malformed = Forbidden("missing or malformed X-Signature (t=<unix time>,v1=<hex>)")
    if not header or len(header) > 200 or not header.isascii():
        raise malformed
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    stamp = parts.get("t", "")
    if not (stamp.isdigit() and len(stamp) <= 12):
        raise malformed
    timestamp = int(stamp)
    if abs(now.timestamp() - timestamp) > max_skew:
        raise Forbidden(f"the signature's timestamp is more than {max_skew} s away from now")
    if not hmac.compare_digest(sign(secret, timestamp, body), f"t={timestamp},v1={parts.get('v1', '')}"):
        raise Forbidden("the signature does not match the body")


def _gateway_box(session: Session, name: str) -> CashBox:
    box = session.scalar(select(CashBox).where(CashBox.name == name))
    if box is None:
        box = CashBox(name=name, active=True)
        session.add(box)
        session.flush()
    return box


def _amount(value: Any) -> Decimal | None:
    try:
        amount = Decimal(str(value))
        exact = amount.is_finite() and amount == amount.quantize(Decimal("0.01"))
        return amount if exact and abs(amount) < MONEY_LIMIT else None
    except (InvalidOperation, ValueError):  # not a number, or too many digits for money
        return None


def notify(
    session: Session,
    payload: dict[str, Any],
    *,
    now: datetime,
    zone: ZoneInfo,
    cash_box: str,
    paid_at: datetime | None = None,
) -> tuple[PaymentNotification, bool, list[Transition]]:
    """Record and, when it matches, apply. Returns (notification, was it new, services moved).
    ``paid_at``: when the payer paid, as the sender vouches (a bank return read days later, a
    provider's webhook): late fee and interest are reckoned to that moment, and the receipt
    carries it; never later than now."""
    paid = min(paid_at, now) if paid_at is not None else now
    external_id = payload.get("external_id")
    if not isinstance(external_id, str) or not 1 <= len(external_id) <= 200:
        raise Invalid("external_id (a string of 1 to 200 characters) is required")
    if (known := _find(session, external_id)) is not None:
        return known, False, []
    if contains_nul(payload):
        raise Invalid("the notification contains a NUL character (\\u0000), which cannot be stored")
    amount = _amount(payload.get("amount"))
    invoice_id = payload.get("invoice_id")
    if invoice_id is not None and (
        isinstance(invoice_id, bool) or not isinstance(invoice_id, int) or not 1 <= invoice_id < 2**31
    ):
        raise Invalid("invoice_id must be a positive integer (an invoice of this system)")
    note = PaymentNotification(
        external_id=external_id,
        received_at=now,
        payload=payload,
        amount=amount,
        invoice_id=invoice_id if isinstance(invoice_id, int) else None,
        status=NotificationStatus.FLAGGED,
        reason="",
    )
    try:
        with session.begin_nested():  # claims the external id; a concurrent twin waits, then finds it
            session.add(note)
    except IntegrityError:
        known = _find(session, external_id)
        assert known is not None
        return known, False, []
    problem = _problem(session, note, paid, zone)
    moved: list[Transition] = []
    if problem:
        note.reason = problem
        emit(
            session,
            "payment.flagged",
            {"notification_id": note.id, "external_id": external_id, "reason": problem},
        )
    else:
        invoice = session.get(Invoice, note.invoice_id)
        assert invoice is not None and note.amount is not None
        receipt, moved = receive(
            session,
            charge_ids=[c.id for c in live_charges(invoice)],
            amount=note.amount,
            cash_box_id=_gateway_box(session, cash_box).id,
            received_by=f"gateway:{external_id}",
            now=paid,
            zone=zone,
        )
        note.status, note.receipt_id, note.reason = (
            NotificationStatus.APPLIED,
            receipt.id,
            "settles the invoice",
        )
    session.flush()
    return note, True, moved


def _find(session: Session, external_id: str) -> PaymentNotification | None:
    return session.scalar(select(PaymentNotification).where(PaymentNotification.external_id == external_id))


def _problem(session: Session, note: PaymentNotification, now: datetime, zone: ZoneInfo) -> str | None:
    """Why the notice cannot be applied as it stands, or None."""
    if note.amount is None or note.amount <= 0:
        return f"amount {note.payload.get('amount')!r} is not a positive amount in cents"
    if note.invoice_id is None:
        return "names no invoice_id"
    invoice = session.get(Invoice, note.invoice_id)
    if invoice is None:
        return f"invoice {note.invoice_id} does not exist"
    if invoice.status is InvoiceStatus.CANCELLED:
        return f"invoice {invoice.id} was cancelled"
    if state_of(invoice) == "paid":
        return f"invoice {invoice.id} is already paid"
    live = live_charges(invoice)
    due = sum(
        (q.total for q in quote_charges(session, live, now.astimezone(zone).date(), zone).values()),
        Decimal(0),
    )
    if note.amount != due:
        return f"{brl(note.amount)} does not match the {brl(due)} that settles invoice {invoice.id} today"
    return None


def get_notification(session: Session, notification_id: int) -> PaymentNotification:
    note = session.get(PaymentNotification, notification_id)
    if note is None:
        raise NotFound(f"payment notification {notification_id} does not exist")
    return note


def resolve(
    session: Session,
    note: PaymentNotification,
    *,
    apply: bool,
    by: str,
    now: datetime,
    zone: ZoneInfo,
    cash_box: str,
) -> list[Transition]:
    """An operator's decision on a flagged notice: apply its amount to its invoice (a smaller
    amount is a partial payment) or dismiss it."""
    if note.status is not NotificationStatus.FLAGGED:
        raise Conflict(f"payment notification {note.id} is {note.status.value}, not flagged")
    note.resolved_by = by
    if not apply:
        note.status = NotificationStatus.DISMISSED
        session.flush()
        return []
    invoice = session.get(Invoice, note.invoice_id) if note.invoice_id else None
    if invoice is None or note.amount is None or note.amount <= 0:
        raise Conflict(f"payment notification {note.id} names no invoice or amount to apply; dismiss it")
    moved = _apply(session, note, invoice, f"{by} (notification {note.external_id})", now, zone, cash_box)
    session.flush()
    return moved


def _apply(
    session: Session,
    note: PaymentNotification,
    invoice: Invoice,
    received_by: str,
    now: datetime,
    zone: ZoneInfo,
    cash_box: str,
) -> list[Transition]:
    """The notice's amount received into the gateway's cash box against the invoice's open charges."""
    assert note.amount is not None
    receipt, moved = receive(
        session,
        charge_ids=[c.id for c in live_charges(invoice)],
        amount=note.amount,
        cash_box_id=_gateway_box(session, cash_box).id,
        received_by=received_by,
        now=now,
        zone=zone,
    )
    note.status, note.receipt_id = NotificationStatus.APPLIED, receipt.id
    return moved


def list_notifications(
    session: Session,
    *,
    status: NotificationStatus | None,
    invoices: Select[Any] | None,
    limit: int,
    offset: int = 0,
) -> tuple[list[PaymentNotification], int]:
    """Newest first; ``invoices`` (ids a city-limited operator may see; None: all) keeps the others out."""
    query = select(PaymentNotification)
    if status:
        query = query.where(PaymentNotification.status == status)
    if invoices is not None:
        query = query.where(PaymentNotification.invoice_id.in_(invoices))
    return page(session, query, PaymentNotification.id.desc(), limit=limit, offset=offset)
