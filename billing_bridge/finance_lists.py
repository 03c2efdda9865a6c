"""Finance navigation (seed 000/001/004): charges, invoices, receipts and carnês across
customers with the filters finance staff use and the totals of what they select, the receipts
that paid a charge, and the overdue list (inadimplentes). Read-only; ``visible`` limits every
list to the operator's cities (the services it may see)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from aaa.db.paging import page
from aaa.subscribers.customers import Scope
from aaa.tables.subscribers import Customer, Service
from billing_bridge.amounts import ZERO
from billing_bridge.models import Carne, Charge, ChargeStatus, Invoice, InvoiceStatus, Receipt, ReceiptItem

OPEN = (ChargeStatus.OPEN, ChargeStatus.PARTIALLY_PAID)
CENT = Decimal("0.01")
_OPEN_AMOUNT = Charge.amount - Charge.paid_amount - Charge.discount_granted


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    due_after: date | None = None
    due_before: date | None = None
    city: str | None = None
    billing_method_id: int | None = None
    service_id: int | None = None
    customer_id: int | None = None


@dataclass(frozen=True)
class Listed:
    rows: list[Any]
    total: int
    amount: Decimal  # of everything selected, not only this page
    open_amount: Decimal

    def __post_init__(self) -> None:  # cents, whatever the database's sum of nothing is
        object.__setattr__(self, "amount", Decimal(self.amount).quantize(CENT))
        object.__setattr__(self, "open_amount", Decimal(self.open_amount).quantize(CENT))


def _services(visible: Select[Any], f: Filters) -> Select[Any]:
    """The ids of the services the filters and the operator's cities allow."""
    query = select(Service.id).where(Service.id.in_(visible))
    if f.service_id is not None:
        query = query.where(Service.id == f.service_id)
    if f.customer_id is not None:
        query = query.where(Service.customer_id == f.customer_id)
    if f.billing_method_id is not None:
        query = query.where(Service.billing_method_id == f.billing_method_id)
    if f.city:
        query = query.where(
            Service.customer_id.in_(select(Customer.id).where(Scope.of([f.city]).customers()))
        )
    return query


def charges(
    session: Session, visible: Select[Any], f: Filters, today: date, *, limit: int, offset: int
) -> Listed:
    query = select(Charge).where(Charge.service_id.in_(_services(visible, f)))
    if f.status == "overdue":
        query = query.where(Charge.status.in_(OPEN), Charge.due_date < today)
    elif f.status is not None:
        query = query.where(Charge.status == ChargeStatus(f.status))
    if f.due_after is not None:
        query = query.where(Charge.due_date >= f.due_after)
    if f.due_before is not None:
        query = query.where(Charge.due_date <= f.due_before)
    rows, total = page(session, query, (Charge.due_date.desc(), Charge.id.desc()), limit=limit, offset=offset)
    sums = query.with_only_columns(
        func.coalesce(func.sum(Charge.amount), 0),
        func.coalesce(func.sum(_OPEN_AMOUNT).filter(Charge.status.in_(OPEN)), 0),
    ).order_by(None)
    amount, open_amount = session.execute(sums).one()
    return Listed(rows, total, Decimal(amount), Decimal(open_amount))


def invoices(session: Session, visible: Select[Any], f: Filters, *, limit: int, offset: int) -> Listed:
    customers = select(Service.customer_id).where(Service.id.in_(_services(visible, f)))
    query = select(Invoice).where(Invoice.customer_id.in_(customers))
    if f.service_id is not None:
        query = query.where(Invoice.service_id == f.service_id)
    if f.billing_method_id is not None:
        query = query.where(Invoice.billing_method_id == f.billing_method_id)
    if f.status in ("issued", "cancelled"):
        query = query.where(Invoice.status == InvoiceStatus(f.status))
    elif f.status == "open":  # issued with money still open
        query = query.where(
            Invoice.status == InvoiceStatus.ISSUED,
            select(Charge.id).where(Charge.invoice_id == Invoice.id, Charge.status.in_(OPEN)).exists(),
        )
    if f.due_after is not None:
        query = query.where(Invoice.due_date >= f.due_after)
    if f.due_before is not None:
        query = query.where(Invoice.due_date <= f.due_before)
    rows, total = page(
        session, query, (Invoice.due_date.desc(), Invoice.id.desc()), limit=limit, offset=offset
    )
    amount = session.execute(
        query.with_only_columns(func.coalesce(func.sum(Invoice.amount), 0)).order_by(None)
    )
    ids = query.with_only_columns(Invoice.id).order_by(None)
    open_amount = session.scalar(
        select(func.coalesce(func.sum(_OPEN_AMOUNT), 0)).where(
            Charge.invoice_id.in_(ids), Charge.status.in_(OPEN)
        )
    )
    return Listed(rows, total, Decimal(amount.scalar_one()), Decimal(open_amount or 0))


def receipts(
    session: Session,
    visible: Select[Any],
    f: Filters,
    *,
    charge_id: int | None = None,
    received_after: date | None = None,
    received_before: date | None = None,
    limit: int,
    offset: int,
) -> Listed:
    """Receipts that paid a visible charge of the filtered services (or one charge)."""
    paid = (
        select(ReceiptItem.receipt_id)
        .join(Charge, Charge.id == ReceiptItem.charge_id)
        .where(Charge.service_id.in_(_services(visible, f)))
    )
    if charge_id is not None:
        paid = paid.where(ReceiptItem.charge_id == charge_id)
    query = select(Receipt).where(Receipt.id.in_(paid))
    if f.status == "reversed":
        query = query.where(Receipt.reversed_at.is_not(None))
    elif f.status == "valid":
        query = query.where(Receipt.reversed_at.is_(None))
    if received_after is not None:
        query = query.where(func.date(Receipt.received_at) >= received_after)
    if received_before is not None:
        query = query.where(func.date(Receipt.received_at) <= received_before)
    rows, total = page(session, query, Receipt.id.desc(), limit=limit, offset=offset)
    valid = query.where(Receipt.reversed_at.is_(None)).with_only_columns(
        func.coalesce(func.sum(Receipt.amount), 0)
    )
    return Listed(rows, total, Decimal(session.execute(valid.order_by(None)).scalar_one()), ZERO)


def carnes(session: Session, visible: Select[Any], f: Filters, *, limit: int, offset: int) -> Listed:
    query = select(Carne).where(Carne.service_id.in_(_services(visible, f)))
    if f.due_after is not None:
        query = query.where(Carne.first_due >= f.due_after)
    if f.due_before is not None:
        query = query.where(Carne.first_due <= f.due_before)
    rows, total = page(session, query, Carne.id.desc(), limit=limit, offset=offset)
    ids = query.with_only_columns(Carne.id).order_by(None)
    amount, open_amount = session.execute(
        select(
            func.coalesce(func.sum(Charge.amount), 0),
            func.coalesce(func.sum(_OPEN_AMOUNT).filter(Charge.status.in_(OPEN)), 0),
        ).where(Charge.carne_id.in_(ids), Charge.status != ChargeStatus.CANCELLED)
    ).one()
    return Listed(rows, total, Decimal(amount), Decimal(open_amount))


def receipts_of_charges(session: Session, charge_ids: list[int]) -> dict[int, list[int]]:
    """Which receipts paid each charge (reversed ones too: a reversal finds its receipt here)."""
    found: dict[int, list[int]] = {}
    if not charge_ids:
        return found
    rows = session.execute(
        select(ReceiptItem.charge_id, ReceiptItem.receipt_id)
        .where(ReceiptItem.charge_id.in_(charge_ids))
        .order_by(ReceiptItem.receipt_id)
    )
    for charge_id, receipt_id in rows:
        found.setdefault(charge_id, []).append(receipt_id)
    return found


@dataclass(frozen=True)
class Debtor:
    customer_id: int
    name: str
    document: str | None
    logins: list[str]
    charges: int
    oldest_due: date
    total_open: Decimal
    days: int


def overdue(
    session: Session, visible: Select[Any], f: Filters, today: date, *, min_days: int = 1
) -> list[Debtor]:
    """Inadimplentes: customers with charges overdue by ``min_days`` or more, the most owed first
    (debt left with a previous owner counts for that owner)."""
    debtor = func.coalesce(Charge.debtor_customer_id, Service.customer_id)
    rows = session.execute(
        select(
            debtor,
            func.count(Charge.id),
            func.min(Charge.due_date),
            func.sum(_OPEN_AMOUNT),
        )
        .join(Service, Service.id == Charge.service_id)
        .where(
            Charge.service_id.in_(_services(visible, f)),
            Charge.status.in_(OPEN),
            Charge.due_date <= date.fromordinal(today.toordinal() - min_days),
        )
        .group_by(debtor)
    ).all()
    if not rows:
        return []
    ids = [r[0] for r in rows]
    people = {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(ids)))}
    logins: dict[int, list[str]] = {}
    for customer_id, login in session.execute(
        select(Service.customer_id, func.coalesce(Service.login, Service.former_login))
        .where(Service.customer_id.in_(ids))
        .order_by(Service.id)
    ):
        if login:
            logins.setdefault(customer_id, []).append(login)
    found = [
        Debtor(
            customer_id,
            people[customer_id].name,
            people[customer_id].document,
            logins.get(customer_id, []),
            count,
            oldest,
            Decimal(total),
            (today - oldest).days,
        )
        for customer_id, count, oldest, total in rows
    ]
    return sorted(found, key=lambda d: (-d.total_open, d.customer_id))
