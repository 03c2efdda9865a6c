"""Invoicing (Faturamento): the monthly billing run and its preview, invoices (issue, cancel,
re-issue), carnês, installation fees in instalments, and the quote of what settles charges today."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from aaa.db.base import today_in, utcnow
from aaa.errors import Conflict, Invalid
from aaa.subscribers import customers
from aaa.subscribers import service as services
from admin_api import scoped
from admin_api.deps import CityScope, db, policy_zone, settings_of
from admin_api.routes.common import Limit, Offset, PathId, listed, paged
from admin_api.schemas.billing import ChargeOut
from admin_api.schemas.common import Id, Page
from admin_api.schemas.invoicing import (
    BillingRunIn,
    BillingRunOut,
    BoletoOut,
    CarneIn,
    CarneOut,
    ChargeIdsIn,
    InstallationFeeIn,
    InvoiceCancelIn,
    InvoiceIn,
    InvoiceOut,
    NextInvoiceOut,
    PixOut,
    QuoteItemOut,
    QuoteOut,
    ReissueIn,
)
from admin_api.schemas.services import ReasonIn
from billing_bridge import invoices, payment_slips, pix
from billing_bridge.amounts import add_months, month_of
from billing_bridge.billing_run import Only, Skip, preview_contract, recent_runs, run_billing
from billing_bridge.instalments import (
    associate,
    cancel_remaining,
    carne,
    carnes_of_service,
    charges_of_carne,
    installation_fee,
)
from billing_bridge.models import ZERO, Carne, Invoice
from billing_bridge.printing import invoice_html
from billing_bridge.receiving import quote_of

router = APIRouter(tags=["invoicing"])


@router.post("/billing-runs", response_model=BillingRunOut, status_code=201)
def billing_run(
    body: BillingRunIn, request: Request, scope: CityScope, session: Session = db("finance.bill")
) -> BillingRunOut:
    """Faturamento mensal. Dry (the default): what would be generated and the warnings to read
    first (a service without a billing method, due day or price). Then with dry_run false:
    the monthly fees and their invoices. Running a month twice generates nothing twice. Needs an
    operator of every city."""
    scoped.whole_isp(scope, "the billing run")
    only = Only(billing_method_id=body.billing_method_id, due_day=body.due_day, city=body.city)
    run = run_billing(
        session, body.competence, policy_zone(request), dry_run=body.dry_run, prorate=body.pro_rata, only=only
    )
    return BillingRunOut.model_validate(run)


@router.get("/services/{service_id}/next-invoice", response_model=NextInvoiceOut)
def next_invoice(
    service_id: PathId,
    request: Request,
    scope: CityScope,
    competence: date | None = Query(
        None, description="the month to bill (any day of it); default next month"
    ),
    session: Session = db("finance.read"),
) -> NextInvoiceOut:
    """The monthly fee the billing run would generate for this contract, before it runs."""
    services.get_service_by_id(session, service_id, scope)
    zone = policy_zone(request)
    month = competence or add_months(month_of(today_in(zone)), 1)
    found = preview_contract(session, service_id, month, zone)
    if isinstance(found, Skip):
        return NextInvoiceOut(
            service_id=service_id, competence=month_of(month), billed=False, reason=found.message
        )
    return NextInvoiceOut(
        service_id=service_id,
        competence=month_of(month),
        billed=True,
        due_date=found.due_date,
        amount=found.amount,
        description=found.description,
        reason=None,
    )


@router.get("/billing-runs", response_model=Page[BillingRunOut])
def list_billing_runs(
    scope: CityScope, limit: Limit = 20, offset: Offset = 0, session: Session = db("finance.read")
) -> Page[BillingRunOut]:
    scoped.whole_isp(scope, "the billing runs' log")
    runs, total = recent_runs(session, limit, offset)
    items = [BillingRunOut.model_validate(r).model_copy(update={"items": []}) for r in runs]
    return Page(items=items, total=total, limit=limit, offset=offset)


def invoice_out(invoice: Invoice) -> InvoiceOut:
    out = InvoiceOut.model_validate(invoice)
    out.status = invoices.state_of(invoice)  # one field: where the customer's boleto stands
    out.open_amount = sum((c.open_amount for c in invoice.charges), ZERO)
    return out


@router.post("/invoices", response_model=InvoiceOut, status_code=201)
def issue_invoice(body: InvoiceIn, scope: CityScope, session: Session = db("finance.charge")) -> InvoiceOut:
    """Group open charges of one customer on one boleto (amarrar a uma fatura)."""
    scoped.charges(session, body.charge_ids, scope)
    return invoice_out(invoices.issue(session, **body.model_dump()))


@router.get("/invoices/{invoice_id}", response_model=InvoiceOut)
def get_invoice(invoice_id: PathId, scope: CityScope, session: Session = db("finance.read")) -> InvoiceOut:
    return invoice_out(scoped.invoice(session, invoice_id, scope))


@router.get(
    "/invoices/{invoice_id}/pix",
    response_model=PixOut,
    responses={200: {"content": {"image/png": {}, "image/svg+xml": {}}}},
)
def invoice_pix(
    invoice_id: PathId,
    request: Request,
    scope: CityScope,
    format: Literal["json", "png", "svg"] = "json",
    session: Session = db("finance.read"),
) -> Any:
    """PIX copia e cola for what is open on the invoice, as JSON with the payload and an SVG, or
    the QR image alone: the payment provider's dynamic code once its charge is created, else a
    static BR Code from the ISP's key (txid FAT<invoice>)."""
    invoice = scoped.invoice(session, invoice_id, scope)
    code = payment_slips.require_pix(session, invoice, settings_of(request).billing)
    if format == "png":
        return Response(pix.qr_png(code.payload), media_type="image/png")
    if format == "svg":
        return Response(pix.qr_svg(code.payload), media_type="image/svg+xml")
    return PixOut(
        payload=code.payload,
        txid=code.txid or "",
        amount=code.amount if code.amount is not None else invoices.open_amount(invoice),
        svg=pix.qr_svg(code.payload),
        source=code.source,
    )


@router.get("/invoices/{invoice_id}/boleto", response_model=BoletoOut)
def invoice_boleto(
    invoice_id: PathId, request: Request, scope: CityScope, session: Session = db("finance.read")
) -> BoletoOut:
    """The open invoice's boleto: the payment provider's once its charge is created, else the
    ISP's own (billing.boleto_bank). 409 when the invoice is not open or no boleto is set up."""
    invoice = scoped.invoice(session, invoice_id, scope)
    slip = payment_slips.boleto_of(session, invoice, settings_of(request).billing)
    if slip is None:
        raise Conflict(
            f"invoice {invoice.id} has no boleto: it is {invoices.state_of(invoice)}, or no bank "
            "(billing.boleto_bank) or provider charge with a boleto exists for it"
        )
    return BoletoOut.model_validate(slip, from_attributes=True)


@router.get("/invoices/{invoice_id}/print", response_class=HTMLResponse)
def print_invoice(
    invoice_id: PathId, request: Request, scope: CityScope, session: Session = db("finance.read")
) -> HTMLResponse:
    """The invoice as a printable HTML page, whatever its status (a cancelled one is marked),
    with the customer's name and CPF/CNPJ; while open, its boleto and PIX code when set up."""
    invoice = scoped.invoice(session, invoice_id, scope)
    customer = customers.get_customer(session, invoice.customer_id, scope)
    b = settings_of(request).billing
    return HTMLResponse(
        invoice_html(
            invoice,
            customer,
            invoices.state_of(invoice),
            payment_slips.pix_view(session, invoice, b),
            payment_slips.boleto_of(session, invoice, b),
        )
    )


@router.get("/customers/{customer_id}/invoices", response_model=Page[InvoiceOut])
def customer_invoices(
    customer_id: PathId,
    scope: CityScope,
    limit: Limit = 50,
    offset: Offset = 0,
    session: Session = db("finance.read"),
) -> Page[InvoiceOut]:
    """Every invoice of the customer, cancelled ones included, newest first."""
    customers.get_customer(session, customer_id, scope)
    found = invoices.invoices_of_customer(session, customer_id, limit, offset)
    return paged(found, invoice_out, limit, offset)


@router.post("/invoices/{invoice_id}/cancel", response_model=InvoiceOut)
def cancel_invoice(
    invoice_id: PathId, body: InvoiceCancelIn, scope: CityScope, session: Session = db("finance.charge")
) -> InvoiceOut:
    invoice = scoped.invoice(session, invoice_id, scope)
    return invoice_out(
        invoices.cancel_invoice(
            session, invoice, reason=body.reason, now=utcnow(), cancel_charges=body.cancel_charges
        )
    )


@router.post("/invoices/{invoice_id}/reissue", response_model=InvoiceOut, status_code=201)
def reissue_invoice(
    invoice_id: PathId, body: ReissueIn, scope: CityScope, session: Session = db("finance.charge")
) -> InvoiceOut:
    """Regerar fatura: the old one is cancelled (and stays), a new one carries what is open."""
    invoice = scoped.invoice(session, invoice_id, scope)
    return invoice_out(
        invoices.reissue(session, invoice, due_date=body.due_date, reason=body.reason, now=utcnow())
    )


@router.get("/charges/quote", response_model=QuoteOut)
def quote(
    request: Request,
    scope: CityScope,
    ids: list[Id] = Query(..., min_length=1, max_length=500, description="charge ids"),
    on: date | None = Query(None, description="the day of payment (default today)"),
    session: Session = db("finance.read"),
) -> QuoteOut:
    """What settles the charges on a day: open amount − promotional discount + late fee + interest."""
    scoped.charges(session, ids, scope)
    zone = policy_zone(request)
    day = on or today_in(zone)
    quotes = quote_of(session, ids, day, zone)
    items = [
        QuoteItemOut(
            charge_id=cid,
            open_amount=q.open_amount,
            discount=q.discount,
            fine=q.fine,
            interest=q.interest,
            days_late=q.days_late,
            total=q.total,
        )
        for cid, q in quotes.items()
    ]
    return QuoteOut(on=day, items=items, total=sum((i.total for i in items), ZERO))


def _carne_out(session: Session, book: Carne) -> CarneOut:
    out = CarneOut.model_validate(book)
    out.charges = [ChargeOut.model_validate(c) for c in charges_of_carne(session, book.id)]
    return out


@router.post("/services/{service_id}/carnes", response_model=CarneOut, status_code=201)
def create_carne(
    service_id: PathId,
    body: CarneIn,
    scope: CityScope,
    request: Request,
    session: Session = db("finance.charge"),
) -> CarneOut:
    """Carnê: N monthly fees at once; the first is pro-rata from the start of service."""
    service = services.get_service_by_id(session, service_id, scope)
    start = body.start
    if start is None:
        if service.activated_at is None:
            raise Invalid(f"service {service.id} was never activated; give the start date")
        start = service.activated_at.astimezone(policy_zone(request)).date()
    book = carne(session, service, first_due=body.first_due, installments=body.installments, start=start)
    return _carne_out(session, book)


@router.get("/services/{service_id}/carnes", response_model=Page[CarneOut])
def list_carnes(
    service_id: PathId,
    scope: CityScope,
    limit: Limit = 50,
    offset: Offset = 0,
    session: Session = db("finance.read"),
) -> Page[CarneOut]:
    """The service's carnês, newest first, each with its instalments."""
    services.get_service_by_id(session, service_id, scope)
    books = [_carne_out(session, b) for b in carnes_of_service(session, service_id)]
    return listed(books, limit, offset)


@router.get("/carnes/{carne_id}", response_model=CarneOut)
def get_carne(carne_id: PathId, scope: CityScope, session: Session = db("finance.read")) -> CarneOut:
    return _carne_out(session, scoped.carne(session, carne_id, scope))


@router.post("/carnes/{carne_id}/cancel", response_model=CarneOut)
def cancel_carne(
    carne_id: PathId, body: ReasonIn, scope: CityScope, session: Session = db("finance.charge")
) -> CarneOut:
    """Cancelar parcelas restantes: every instalment nobody has paid anything of; paid and
    partly paid ones stay."""
    book = scoped.carne(session, carne_id, scope)
    cancel_remaining(session, book, reason=body.reason, now=utcnow())
    return _carne_out(session, book)


@router.post("/carnes/{carne_id}/charges", response_model=CarneOut)
def associate_charges(
    carne_id: PathId, body: ChargeIdsIn, scope: CityScope, session: Session = db("finance.charge")
) -> CarneOut:
    """Associar cobranças avulsas: loose charges of the carnê's service become its next
    instalments."""
    book = scoped.carne(session, carne_id, scope)
    scoped.charges(session, body.charge_ids, scope)
    associate(session, book, body.charge_ids)
    return _carne_out(session, book)


@router.post("/services/{service_id}/installation-fee", response_model=list[ChargeOut], status_code=201)
def create_installation_fee(
    service_id: PathId, body: InstallationFeeIn, scope: CityScope, session: Session = db("finance.charge")
) -> list[ChargeOut]:
    """Installation fee in instalments that add up to the cent, due monthly."""
    service = services.get_service_by_id(session, service_id, scope)
    return [ChargeOut.model_validate(c) for c in installation_fee(session, service, **body.model_dump())]
