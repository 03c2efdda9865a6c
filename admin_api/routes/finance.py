"""Finance navigation: charges, invoices, receipts and carnês across customers with filters and
totals, a customer's receipts, and the overdue list (inadimplentes) with its CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from aaa.db.base import today_in
from aaa.subscribers import customers
from aaa.subscribers import service as services
from admin_api import scoped
from admin_api.deps import CityScope, db, policy_zone
from admin_api.routes.common import Limit, Offset, PathId, QueryId
from admin_api.routes.invoicing import invoice_out
from admin_api.schemas.billing import ChargeOut, ReceiptOut
from admin_api.schemas.invoicing import CarneOut, InvoiceOut
from billing_bridge import finance_lists as lists
from billing_bridge.instalments import charges_of_carne
from billing_bridge.standing import brl

router = APIRouter(tags=["finance"])
T = TypeVar("T")
City = Annotated[
    str | None, Query(min_length=1, max_length=100, description="customers registered in this city")
]


class FinancePage(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
    amount: Decimal = Field(description="the sum of everything selected (not only this page)")
    open_amount: Decimal = Field(description="of which still open")


@dataclass(frozen=True)
class Whose:
    """Whose money a list shows: the filters every finance list shares."""

    city: str | None
    billing_method_id: int | None
    service_id: int | None
    customer_id: int | None

    def filters(
        self, status: str | None = None, after: date | None = None, before: date | None = None
    ) -> lists.Filters:
        return lists.Filters(
            status, after, before, self.city, self.billing_method_id, self.service_id, self.customer_id
        )

    def check(self, session: Session, scope: Any) -> None:
        """A customer or service named as a filter must be one the operator sees (else 404)."""
        if self.customer_id is not None:
            customers.get_customer(session, self.customer_id, scope)
        if self.service_id is not None:
            services.get_service_by_id(session, self.service_id, scope)


def whose(
    city: City = None,
    billing_method_id: QueryId | None = None,
    service_id: QueryId | None = None,
    customer_id: QueryId | None = None,
) -> Whose:
    return Whose(city, billing_method_id, service_id, customer_id)


Of = Annotated[Whose, Depends(whose)]


def _page(found: lists.Listed, items: list[Any], limit: int, offset: int) -> FinancePage[Any]:
    return FinancePage(
        items=items,
        total=found.total,
        limit=limit,
        offset=offset,
        amount=found.amount,
        open_amount=found.open_amount,
    )


def charge_outs(session: Session, rows: list[Any]) -> list[ChargeOut]:
    """Charges with the receipts that paid them (so a reversal finds its receipt)."""
    paid_by = lists.receipts_of_charges(session, [c.id for c in rows])
    outs = []
    for charge in rows:
        out = ChargeOut.model_validate(charge)
        out.receipt_ids = paid_by.get(charge.id, [])
        outs.append(out)
    return outs


@router.get("/charges", response_model=FinancePage[ChargeOut])
def list_charges(
    scope: CityScope,
    of: Of,
    status: Literal["open", "partially_paid", "paid", "cancelled", "overdue"] | None = None,
    due_after: date | None = None,
    due_before: date | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    zone: ZoneInfo = Depends(policy_zone),
    session: Session = db("finance.read"),
) -> FinancePage[ChargeOut]:
    """Charges across customers, newest due date first, with the total and open amount of all
    that the filters select."""
    of.check(session, scope)
    f = of.filters(status, due_after, due_before)
    today = today_in(zone)
    found = lists.charges(session, scoped.visible_services(scope), f, today, limit=limit, offset=offset)
    return _page(found, charge_outs(session, found.rows), limit, offset)


@router.get("/invoices", response_model=FinancePage[InvoiceOut])
def list_invoices(
    scope: CityScope,
    of: Of,
    status: Literal["issued", "open", "cancelled"] | None = None,
    due_after: date | None = None,
    due_before: date | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    session: Session = db("finance.read"),
) -> FinancePage[InvoiceOut]:
    of.check(session, scope)
    f = of.filters(status, due_after, due_before)
    found = lists.invoices(session, scoped.visible_services(scope), f, limit=limit, offset=offset)
    return _page(found, [invoice_out(i) for i in found.rows], limit, offset)


@router.get("/receipts", response_model=FinancePage[ReceiptOut])
def list_receipts(
    scope: CityScope,
    of: Of,
    status: Literal["valid", "reversed"] | None = None,
    charge_id: QueryId | None = Query(None, description="the receipts that paid this charge"),
    received_after: date | None = None,
    received_before: date | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    session: Session = db("finance.read"),
) -> FinancePage[ReceiptOut]:
    """Receipts, newest first; ``amount`` sums the ones not reversed."""
    of.check(session, scope)
    f = of.filters(status)
    found = lists.receipts(
        session,
        scoped.visible_services(scope),
        f,
        charge_id=charge_id,
        received_after=received_after,
        received_before=received_before,
        limit=limit,
        offset=offset,
    )
    return _page(found, [ReceiptOut.model_validate(r) for r in found.rows], limit, offset)


@router.get("/customers/{customer_id}/receipts", response_model=FinancePage[ReceiptOut])
def customer_receipts(
    customer_id: PathId,
    scope: CityScope,
    limit: Limit = 50,
    offset: Offset = 0,
    session: Session = db("finance.read"),
) -> FinancePage[ReceiptOut]:
    customers.get_customer(session, customer_id, scope)
    f = lists.Filters(customer_id=customer_id)
    found = lists.receipts(session, scoped.visible_services(scope), f, limit=limit, offset=offset)
    return _page(found, [ReceiptOut.model_validate(r) for r in found.rows], limit, offset)


@router.get("/carnes", response_model=FinancePage[CarneOut])
def list_carnes(
    scope: CityScope,
    of: Of,
    due_after: date | None = Query(None, description="first instalment due on or after"),
    due_before: date | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    session: Session = db("finance.read"),
) -> FinancePage[CarneOut]:
    of.check(session, scope)
    f = of.filters(None, due_after, due_before)
    found = lists.carnes(session, scoped.visible_services(scope), f, limit=limit, offset=offset)
    items = []
    for book in found.rows:
        out = CarneOut.model_validate(book)
        out.charges = [ChargeOut.model_validate(c) for c in charges_of_carne(session, book.id)]
        items.append(out)
    return _page(found, items, limit, offset)


class DebtorOut(BaseModel):
    customer_id: int
    name: str
    document: str | None
    logins: list[str]
    charges: int
    oldest_due: date
    total_open: Decimal
    days: int = Field(description="days since the oldest open due date")


class OverdueOut(BaseModel):
    items: list[DebtorOut]
    total: int
    total_open: Decimal


@router.get("/overdue", response_model=OverdueOut, responses={200: {"content": {"text/csv": {}}}})
def overdue_list(
    scope: CityScope,
    min_days: Annotated[int, Query(ge=1, le=3650, description="overdue by at least this many days")] = 1,
    city: City = None,
    billing_method_id: QueryId | None = None,
    format: Literal["json", "csv"] = "json",
    zone: ZoneInfo = Depends(policy_zone),
    session: Session = db("finance.read"),
) -> Any:
    """Inadimplentes: each customer with overdue charges (the most owed first), its services,
    oldest due date, total open and days late. ``format=csv`` for a spreadsheet (pt-BR)."""
    f = lists.Filters(None, None, None, city, billing_method_id)
    today = today_in(zone)
    found = lists.overdue(session, scoped.visible_services(scope), f, today, min_days=min_days)
    if format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";")
        writer.writerow(
            ["cliente", "documento", "logins", "cobrancas", "vencimento_mais_antigo", "em_aberto", "dias"]
        )
        for d in found:
            writer.writerow(
                [
                    d.name,
                    d.document or "",
                    " ".join(d.logins),
                    d.charges,
                    f"{d.oldest_due:%d/%m/%Y}",
                    brl(d.total_open).removeprefix("R$ "),
                    d.days,
                ]
            )
        headers = {"Content-Disposition": f'attachment; filename="inadimplentes-{today.isoformat()}.csv"'}
        return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)
    items = [DebtorOut(**d.__dict__) for d in found]
    return OverdueOut(
        items=items, total=len(items), total_open=sum((d.total_open for d in found), Decimal("0.00"))
    )
