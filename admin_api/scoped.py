"""Objects as a city-limited operator may reach them: another city's reads as absent (404).

Charges, invoices, receipts, payment notifications and IP assignments belong to a customer
through their service or invoice; each getter here applies the same scope as customers
(``Scope.customers()``), so every route that takes such an id checks it the same way. What
spans the whole ISP (billing runs, routines, reconciliation, webhooks) needs an operator of
every city.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from aaa.errors import Forbidden, NotFound
from aaa.subscribers.customers import Scope
from aaa.tables.subscribers import Customer, Service
from billing_bridge.models import Carne, Charge, Invoice, PaymentNotification, Receipt


def visible_customers(scope: Scope) -> Select[int]:
    return select(Customer.id).where(scope.customers())


def visible_services(scope: Scope) -> Select[int]:
    return select(Service.id).where(Service.customer_id.in_(visible_customers(scope)))


def visible_invoices(scope: Scope) -> Select[int] | None:
    """Invoices of the customers the scope sees; None for an operator of every city."""
    if scope.cities is None:
        return None
    return select(Invoice.id).where(Invoice.customer_id.in_(visible_customers(scope)))


def charge(session: Session, charge_id: int, scope: Scope) -> Charge:
    found = session.get(Charge, charge_id)
    if found is None or not _service_visible(session, found.service_id, scope):
        raise NotFound(f"charge {charge_id} does not exist")
    return found


def charges(session: Session, charge_ids: Iterable[int], scope: Scope) -> None:
    """Every id a charge of a visible service (the first that is not: 404)."""
    ids = sorted(set(charge_ids))
    if scope.cities is None or not ids:
        return
    seen = set(
        session.scalars(
            select(Charge.id).where(Charge.id.in_(ids), Charge.service_id.in_(visible_services(scope)))
        )
    )
    missing = [i for i in ids if i not in seen]
    if missing:
        raise NotFound(f"charge {missing[0]} does not exist")


def invoice(session: Session, invoice_id: int, scope: Scope) -> Invoice:
    found = session.get(Invoice, invoice_id)
    if found is None or not _customer_visible(session, found.customer_id, scope):
        raise NotFound(f"invoice {invoice_id} does not exist")
    return found


def carne(session: Session, carne_id: int, scope: Scope) -> Carne:
    found = session.get(Carne, carne_id)
    if found is None or not _service_visible(session, found.service_id, scope):
        raise NotFound(f"carnê {carne_id} does not exist")
    return found


def receipt(session: Session, receipt_id: int, scope: Scope) -> Receipt:
    """A receipt is visible when every charge it paid is (one payment never spans cities)."""
    found = session.get(Receipt, receipt_id)
    if found is None:
        raise NotFound(f"receipt {receipt_id} does not exist")
    try:
        charges(session, [item.charge_id for item in found.items], scope)
    except NotFound:
        raise NotFound(f"receipt {receipt_id} does not exist") from None
    return found


def notification(session: Session, notification_id: int, scope: Scope) -> PaymentNotification:
    found = session.get(PaymentNotification, notification_id)
    if found is None or not _notification_visible(session, found, scope):
        raise NotFound(f"payment notification {notification_id} does not exist")
    return found


def _notification_visible(session: Session, note: PaymentNotification, scope: Scope) -> bool:
    if scope.cities is None:
        return True
    if note.invoice_id is None:
        return False
    found = session.get(Invoice, note.invoice_id)
    return found is not None and _customer_visible(session, found.customer_id, scope)


def service_visible(session: Session, service_id: int | None, scope: Scope) -> bool:
    return service_id is not None and _service_visible(session, service_id, scope)


def whole_isp(scope: Scope, what: str) -> None:
    """Operations over every city's customers need an operator of every city."""
    if scope.cities is not None:
        raise Forbidden(f"{what} spans every city; an operator limited to cities cannot run or read it")


def _customer_visible(session: Session, customer_id: int, scope: Scope) -> bool:
    if scope.cities is None:
        return True
    query = select(Customer.id).where(Customer.id == customer_id, scope.customers())
    return session.scalar(query) is not None


def _service_visible(session: Session, service_id: int, scope: Scope) -> bool:
    if scope.cities is None:
        return True
    owner = session.scalar(select(Service.customer_id).where(Service.id == service_id))
    return owner is not None and _customer_visible(session, owner, scope)
