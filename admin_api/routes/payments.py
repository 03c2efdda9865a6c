"""Brazilian payments: the providers' own webhooks (Asaas, Efí), an invoice's charge at the
provider, and bank return files (arquivo retorno)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from aaa.audit.log import Actor, act_as, actor_of
from aaa.db.base import utcnow
from aaa.errors import Invalid, NotFound, Unauthenticated
from admin_api import scoped
from admin_api.deps import CityScope, db, policy_zone, public_session, settings_of
from admin_api.routes.common import Limit, Offset, PathId
from admin_api.schemas.common import Page
from admin_api.schemas.payments import BankReturnOut, GatewayChargeOut, ProviderHookOut
from billing_bridge import bank_return, gateway_sync, payment_slips, provider_payments
from billing_bridge.gateways.base import Provider, Unauthorized
from billing_bridge.models import BankReturnFile

router = APIRouter(tags=["payments"])
_MAX_RETURN_FILE = 20 * 1024 * 1024


def provider(request: Request) -> Provider:
    """The configured provider, made once per process (Efí keeps its token and TLS context)."""
    state = request.app.state
    current = getattr(state, "payment_provider", None)
    if current is None:
        current = gateway_sync.provider_of(settings_of(request).billing)
        if current is None:
            raise NotFound("no payment provider is configured (billing.gateway)")
        state.payment_provider = current
    return current  # type: ignore[no-any-return]


async def _provider_hook(request: Request, session: Session, name: str) -> JSONResponse:
    b = settings_of(request).billing
    if b.gateway != name:
        raise NotFound(f"the {name} webhook is off: billing.gateway is not {name!r}")
    body = await request.body()
    try:
        payments = provider(request).payments(request.headers, request.query_params, body)
    except Unauthorized as exc:
        raise Unauthenticated(str(exc)) from None
    except ValueError as exc:
        raise Invalid(f"not a {name} webhook body: {exc}") from None
    act_as(session, Actor(f"gateway:{name}", request.client.host if request.client else "unknown"))
    results = provider_payments.receive_payments(
        session, name, payments, now=utcnow(), zone=policy_zone(request), cash_box=b.gateway_cash_box
    )
    out = ProviderHookOut(
        received=len(payments),
        applied=sum(1 for note, new, _ in results if new and note.receipt_id),
        flagged=sum(1 for note, new, _ in results if new and not note.receipt_id),
        duplicates=sum(1 for _, new, _ in results if not new),
        notification_ids=[note.id for note, _, _ in results],
    )
    session.commit()  # acknowledged only once stored
    return JSONResponse(out.model_dump(mode="json"))


@router.post("/hooks/asaas", response_model=ProviderHookOut)
async def asaas_webhook(
    request: Request, session: Annotated[Session, Depends(public_session, scope="function")]
) -> JSONResponse:
    """Asaas's own webhook (header ``asaas-access-token``). PAYMENT_RECEIVED / PAYMENT_CONFIRMED
    pay the invoice whose charge they name; other events are acknowledged. 200 once stored (a
    repeat is a duplicate, an unknown charge or a wrong amount is flagged for an operator)."""
    return await _provider_hook(request, session, "asaas")


@router.post("/hooks/efi", response_model=ProviderHookOut)
@router.post("/hooks/efi/pix", response_model=ProviderHookOut, include_in_schema=False)
async def efi_webhook(
    request: Request,
    session: Annotated[Session, Depends(public_session, scope="function")],
    hmac: str = "",
    ignorar: str = "",
) -> JSONResponse:
    """Efí's PIX webhook: ``{"pix": [{"endToEndId", "txid", "valor", "horario"}]}``. Register
    ``https://<server>/api/v1/hooks/efi?hmac=<billing.efi_webhook_secret>&ignorar=`` (Efí appends
    /pix; ``ignorar`` takes it off a query string that ends the URL)."""
    del hmac, ignorar  # read by the adapter from the query string
    return await _provider_hook(request, session, "efi")


@router.get("/invoices/{invoice_id}/gateway", response_model=GatewayChargeOut)
def invoice_gateway_charge(
    invoice_id: PathId, scope: CityScope, session: Session = db("finance.read")
) -> GatewayChargeOut:
    """The invoice's charge at the payment provider: pending, created (with its boleto and PIX
    fields), failed (with the provider's message), being cancelled or cancelled."""
    invoice = scoped.invoice(session, invoice_id, scope)
    row = gateway_sync.charge_of(session, invoice.id)
    if row is None:
        raise NotFound(f"invoice {invoice.id} has no charge at a payment provider (yet)")
    return GatewayChargeOut.model_validate(row)


@router.post("/invoices/{invoice_id}/gateway/retry", response_model=GatewayChargeOut)
def retry_gateway_charge(
    invoice_id: PathId, scope: CityScope, session: Session = db("finance.returns")
) -> GatewayChargeOut:
    """Create the provider charge again after fixing what the provider refused."""
    invoice = scoped.invoice(session, invoice_id, scope)
    return GatewayChargeOut.model_validate(gateway_sync.retry(session, invoice.id, utcnow()))


def _return_out(record: BankReturnFile, new: bool) -> BankReturnOut:
    out = BankReturnOut.model_validate(record)
    out.already_imported = not new
    return out


@router.post("/finance/returns", response_model=BankReturnOut, status_code=201, responses={200: {}})
async def import_bank_return(
    request: Request, scope: CityScope, name: str = "retorno", session: Session = db("finance.returns")
) -> Any:
    """Upload a bank return file (CNAB 240 or Banco do Brasil CNAB 400) as the request body. Each
    liquidation pays the invoice its nosso número names; the report lists every line (paid,
    already_paid, unknown, amount_mismatch, cancelled_invoice, not_a_payment, invalid). 201:
    imported; 200: this file was imported before (its report, nothing applied again)."""
    scoped.whole_isp(scope, "a bank return file")
    content = await request.body()
    if not content:
        raise Invalid("send the return file as the request body")
    if len(content) > _MAX_RETURN_FILE:
        raise Invalid(f"the file is over {_MAX_RETURN_FILE // 1024 // 1024} MiB")
    b = settings_of(request).billing
    record, new, _ = bank_return.import_return(
        session,
        content,
        name,
        agreement=payment_slips.agreement_of(b),
        by=actor_of(session).name,
        now=utcnow(),
        zone=policy_zone(request),
        cash_box=b.gateway_cash_box,
    )
    out = _return_out(record, new)
    session.commit()
    return JSONResponse(out.model_dump(mode="json"), status_code=201 if new else 200)


@router.get("/finance/returns", response_model=Page[BankReturnOut])
def list_bank_returns(
    scope: CityScope, limit: Limit = 50, offset: Offset = 0, session: Session = db("finance.returns")
) -> Page[BankReturnOut]:
    scoped.whole_isp(scope, "bank return files")
    items, total = bank_return.list_returns(session, limit, offset)
    return Page(
        items=[_return_out(r, True).model_copy(update={"lines": []}) for r in items],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/finance/returns/{return_id}", response_model=BankReturnOut)
def get_bank_return(
    return_id: PathId, scope: CityScope, session: Session = db("finance.returns")
) -> BankReturnOut:
    scoped.whole_isp(scope, "bank return files")
    record = session.get(BankReturnFile, return_id)
    if record is None:
        raise NotFound(f"bank return file {return_id} does not exist")
    return _return_out(record, True)
