"""Receiving money (Receber) and reversing a receipt (recebi um boleto errado).

A receipt pays the selected charges in due-date order, each with its late fee, interest and
promotional discount as of the day (``amounts.quote``); less than their total leaves the last
one partially paid (baixado parcial), which still counts as open. Money that clears a debt
re-enables the service at once (``routine.settle``), without waiting for the routine.

A receipt that settles a debt changes the service's status through ``change_status``, which
sets off the FLUSH_HOOKS (aaa.composition): audit, RADIUS caches, enforcement outbox, webhooks.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from aaa.errors import Conflict, Invalid, NotFound
from aaa.tables.operators import CashBox
from aaa.tables.subscribers import BillingMethod, Service
from billing_bridge.amounts import MONEY_LIMIT, Discount, LateRule, Quote, quote
from billing_bridge.charges import lock_open, money
from billing_bridge.models import ZERO, Charge, ChargeStatus, Receipt, ReceiptItem
from billing_bridge.routine import Transition, settle
from billing_bridge.standing import brl
from billing_bridge.webhooks import emit


def quote_charges(
    session: Session, charges: Sequence[Charge], paid_on: date, zone: ZoneInfo
) -> dict[int, Quote]:
    """What settles each charge on ``paid_on``: open amount, promotional discount, late fee and
    interest under its service's billing method, minus what earlier receipts already paid."""
    service_ids = {c.service_id for c in charges}
    rules = {
        sid: LateRule(m.fine_percent, m.interest_percent_month)
        for sid, m in session.execute(
            select(Service.id, BillingMethod)
            .join(BillingMethod, BillingMethod.id == Service.billing_method_id)
            .where(Service.id.in_(service_ids))
        )
    }
    fined: set[int] = set()
    interest_since: dict[int, date] = {}
    earlier = session.execute(
        select(ReceiptItem.charge_id, ReceiptItem.fine, ReceiptItem.interest, Receipt.received_at)
        .join(Receipt, Receipt.id == ReceiptItem.receipt_id)
        .where(ReceiptItem.charge_id.in_([c.id for c in charges]), Receipt.reversed_at.is_(None))
    )
    for charge_id, fine, interest, received_at in earlier:
        if fine > ZERO:
            fined.add(charge_id)
        if interest > ZERO:
            day = received_at.astimezone(zone).date()
            interest_since[charge_id] = max(day, interest_since.get(charge_id, day))
    quotes = {
        c.id: quote(
            c.open_amount,
            c.due_date,
            paid_on,
            rules.get(c.service_id),
            Discount(c.discount_amount, c.discount_days_before) if c.discount_amount else None,
            untouched=c.paid_amount == ZERO,
            fined=c.id in fined,
            interest_since=interest_since.get(c.id),
        )
        for c in charges
    }
    total = sum((q.total for q in quotes.values()), ZERO)
    if total >= MONEY_LIMIT:  # interest over decades: more than a money column holds
        raise Invalid(
            f"what these charges would cost on {paid_on} ({total}) is beyond any amount this system stores"
        )
    return quotes


def quote_of(session: Session, charge_ids: Sequence[int], paid_on: date, zone: ZoneInfo) -> dict[int, Quote]:
    charges = lock_open(session, charge_ids, "select the charges to quote")
    return quote_charges(session, charges, paid_on, zone)


def receive(
    session: Session,
    *,
    charge_ids: Sequence[int],
    amount: Decimal | None,
    cash_box_id: int,
    received_by: str,
    now: datetime,
    zone: ZoneInfo,
    discount: Decimal = ZERO,
) -> tuple[Receipt, list[Transition]]:
    """Returns the receipt and the services it moved back (toward ``enabled``). ``amount`` None:
    exactly what settles the charges today. Charges are paid in due-date order; a charge paid
    in part pays its late fee and interest first and gets no promotional discount.
    ``discount``: off the total at the counter (Desconto no recebimento), taken from the charges
    in due-date order; the caller checks the operator may give it."""
    box = session.get(CashBox, cash_box_id)
    if box is None or not box.active:
        raise Invalid(f"cash box {cash_box_id} does not exist or is closed")
    charges = lock_open(session, charge_ids, "select the charges being paid")
    paid_on = now.astimezone(zone).date()
    quotes = quote_charges(session, charges, paid_on, zone)
    discount = money(discount)
    if discount < ZERO:
        raise Invalid("a discount cannot be negative")
    extra: dict[int, Decimal] = {}
    left_off = discount
    for charge in charges:  # due-date order
        q = quotes[charge.id]
        room = q.open_amount - q.discount
        extra[charge.id] = min(left_off, room)
        left_off -= extra[charge.id]
    if left_off > ZERO:
        raise Invalid(f"a discount of {brl(discount)} is more than the selected charges' open amount")
    total = sum((q.total for q in quotes.values()), ZERO) - discount
    amount = total if amount is None else money(amount)
    if amount <= ZERO:
        raise Invalid("the amount received must be more than zero")
    if amount > total:
        raise Invalid(f"{brl(amount)} is more than the {brl(total)} that settles the selected charges today")
    receipt = Receipt(cash_box_id=box.id, amount=amount, received_at=now, received_by=received_by)
    session.add(receipt)
    left = amount
    for charge in charges:
        if left <= ZERO:
            break
        q = quotes[charge.id]
        given, fees = q.discount + extra[charge.id], q.fine + q.interest
        if left < q.total - extra[charge.id]:  # in part
            if left < fees:
                raise Invalid(
                    f"{brl(left)} left for charge {charge.id} does not cover its late fee and interest"
                    f" ({brl(fees)}); receive at least that much for it"
                )
            given = extra[charge.id]  # the counter's discount stays; the promotional one is lost
        principal = min(left - fees, q.open_amount - given)
        left -= principal + fees
        charge.paid_amount += principal
        charge.discount_granted += given
        if charge.open_amount == ZERO:
            charge.status = ChargeStatus.PAID
        elif charge.paid_amount > ZERO:
            charge.status = ChargeStatus.PARTIALLY_PAID
        receipt.items.append(
            ReceiptItem(charge=charge, amount=principal, discount=given, fine=q.fine, interest=q.interest)
        )
    session.flush()
    emit(session, "payment.received", receipt_event(receipt))
    moved = settle(session, {c.service_id for c in charges}, paid_on, zone, f"receipt {receipt.id}")
    return receipt, moved


def receipt_event(receipt: Receipt) -> dict[str, Any]:
    return {
        "receipt_id": receipt.id,
        "amount": str(receipt.amount),
        "received_at": receipt.received_at.isoformat(),
        "charges": [{"charge_id": i.charge_id, "amount": str(i.amount)} for i in receipt.items],
    }


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
        charge.discount_granted -= item.discount
        charge.status = ChargeStatus.OPEN if charge.paid_amount == ZERO else ChargeStatus.PARTIALLY_PAID
    receipt.reversed_at, receipt.reversed_by, receipt.reverse_reason = now, by, reason.strip()
    session.flush()
    emit(session, "receipt.reversed", {**receipt_event(receipt), "reason": receipt.reverse_reason})
    return receipt
