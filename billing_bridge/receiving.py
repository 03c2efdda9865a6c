"""Receiving money (seed 000: Receber) and reversing a receipt (recebi um boleto errado).

A receipt pays the selected charges in due-date order; less than their total leaves the last
one partially paid (baixado parcial), which still counts as open. Money that clears a debt
re-enables the service at once (``routine.settle``), without waiting for the routine.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from aaa.errors import Conflict, Invalid, NotFound
from aaa.operators.models import CashBox
from billing_bridge.charges import money
from billing_bridge.models import ZERO, Charge, ChargeStatus, Receipt, ReceiptItem
from billing_bridge.routine import Transition, settle
from billing_bridge.standing import brl


def receive(
    session: Session,
    *,
    charge_ids: Sequence[int],
    amount: Decimal,
    cash_box_id: int,
    received_by: str,
    now: datetime,
    zone: ZoneInfo,
) -> tuple[Receipt, list[Transition]]:
    """Returns the receipt and the services it moved back (toward ``enabled``)."""
    amount = money(amount)
    if amount <= ZERO:
        raise Invalid("the amount received must be more than zero")
    if not charge_ids:
        raise Invalid("select the charges being paid")
    box = session.get(CashBox, cash_box_id)
    if box is None or not box.active:
        raise Invalid(f"cash box {cash_box_id} does not exist or is closed")
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
    closed = [c.id for c in charges if c.status not in (ChargeStatus.OPEN, ChargeStatus.PARTIALLY_PAID)]
    if closed:
        raise Conflict(f"charge(s) {', '.join(map(str, closed))} are not open (paid or cancelled)")
    open_total = sum((c.open_amount for c in charges), ZERO)
    if amount > open_total:
        raise Invalid(f"{brl(amount)} is more than the {brl(open_total)} open on the selected charges")
    receipt = Receipt(cash_box_id=box.id, amount=amount, received_at=now, received_by=received_by)
    session.add(receipt)
    left = amount
    for charge in charges:
        if left <= ZERO:
            break
        paid = min(left, charge.open_amount)
        left -= paid
        charge.paid_amount += paid
        charge.status = (
            ChargeStatus.PAID if charge.paid_amount == charge.amount else ChargeStatus.PARTIALLY_PAID
        )
        receipt.items.append(ReceiptItem(charge=charge, amount=paid))
    session.flush()
    moved = settle(
        session, {c.service_id for c in charges}, now.astimezone(zone).date(), zone, f"receipt {receipt.id}"
    )
    return receipt, moved


def get_receipt(session: Session, receipt_id: int) -> Receipt:
    receipt = session.get(Receipt, receipt_id)
    if receipt is None:
        raise NotFound(f"receipt {receipt_id} does not exist")
    return receipt


def reverse(session: Session, receipt: Receipt, *, reason: str, by: str, now: datetime) -> Receipt:
    """Undo a receipt: every charge it paid is open again by that much. The receipt stays, marked
    reversed. A service re-enabled by it is suspended again by the next routine, not here."""
    if not reason.strip():
        raise Invalid("give a reason for reversing the receipt")
    if receipt.reversed_at is not None:
        raise Conflict(f"receipt {receipt.id} was already reversed on {receipt.reversed_at.isoformat()}")
    for item in receipt.items:
        charge = item.charge
        charge.paid_amount -= item.amount
        charge.status = ChargeStatus.OPEN if charge.paid_amount == ZERO else ChargeStatus.PARTIALLY_PAID
    receipt.reversed_at, receipt.reversed_by, receipt.reverse_reason = now, by, reason.strip()
    session.flush()
    return receipt
