"""What an invoice offers its payer: a boleto (the provider's, or the ISP's own Banco do Brasil
boleto) and a PIX code (the provider's dynamic one, else the static code from the ISP's key).
Nothing configured: nothing offered, and invoices work as before."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from aaa.errors import Conflict
from aaa.settings import BillingSettings
from billing_bridge.boleto import BancoDoBrasil, bb_boleto, formatted, linha_digitavel
from billing_bridge.gateway_sync import charge_of
from billing_bridge.invoices import pix_of, state_of
from billing_bridge.models import GatewayChargeState, Invoice

BANKS = {"001": "Banco do Brasil"}


def _bank_name(code: str) -> str:
    return f"{code} - {BANKS[code]}" if code in BANKS else code


def agreement_of(b: BillingSettings) -> BancoDoBrasil | None:
    if b.boleto_bank != "001":
        return None
    return BancoDoBrasil(b.boleto_convenio, b.boleto_wallet, b.boleto_agency, b.boleto_account)


@dataclass(frozen=True)
class BoletoView:
    source: str  # "bank" (the ISP's own) or the provider's name
    bank: str  # "001 - Banco do Brasil", or the provider
    nosso_numero: str | None
    linha_digitavel: str | None  # formatted
    barcode: str | None  # 44 digits
    due_date: date
    amount: Decimal
    beneficiary: str
    instructions: str
    url: str | None = None


@dataclass(frozen=True)
class PixView:
    source: str  # "static" or the provider's name
    payload: str
    txid: str | None
    amount: Decimal | None


def payable(invoice: Invoice) -> bool:
    return state_of(invoice) in ("issued", "partially_paid")


def boleto_of(session: Session, invoice: Invoice, b: BillingSettings) -> BoletoView | None:
    """The invoice's boleto while it is open: the provider's once created, else the ISP's own."""
    if not payable(invoice):
        return None
    charge = charge_of(session, invoice.id) if b.gateway else None
    if charge is not None and charge.state is GatewayChargeState.CREATED and charge.barcode:
        return BoletoView(
            source=charge.provider,
            bank=charge.barcode[:3]
            + (f" - {BANKS[charge.barcode[:3]]}" if charge.barcode[:3] in BANKS else ""),
            nosso_numero=charge.nosso_numero,
            linha_digitavel=formatted(linha_digitavel(charge.barcode)),
            barcode=charge.barcode,
            due_date=invoice.due_date,
            amount=invoice.amount,
            beneficiary=b.boleto_beneficiary or b.pix_merchant_name,
            instructions=b.boleto_instructions,
            url=charge.url,
        )
    agreement = agreement_of(b)
    if agreement is None:
        return None
    slip = bb_boleto(agreement, invoice.id, invoice.due_date, invoice.amount)
    return BoletoView(
        source="bank",
        bank=_bank_name(slip.bank),
        nosso_numero=slip.nosso_numero,
        linha_digitavel=slip.linha,
        barcode=slip.barcode,
        due_date=invoice.due_date,
        amount=invoice.amount,
        beneficiary=b.boleto_beneficiary,
        instructions=b.boleto_instructions,
    )


def pix_view(session: Session, invoice: Invoice, b: BillingSettings) -> PixView | None:
    """The provider's PIX code once created, else the static one from billing.pix_key."""
    if not payable(invoice):
        return None
    charge = charge_of(session, invoice.id) if b.gateway else None
    if charge is not None and charge.state is GatewayChargeState.CREATED and charge.pix_payload:
        return PixView(charge.provider, charge.pix_payload, charge.provider_id, None)
    if not b.pix_key:
        return None
    code = pix_of(invoice, b.pix_key, b.pix_merchant_name, b.pix_merchant_city)
    return PixView("static", code.payload(), code.txid, code.amount)


def require_pix(session: Session, invoice: Invoice, b: BillingSettings) -> PixView:
    view = pix_view(session, invoice, b)
    if view is not None:
        return view
    if not payable(invoice):
        raise Conflict(f"invoice {invoice.id} is {state_of(invoice)}: nothing to pay")
    raise Conflict(
        "PIX is not configured: set billing.pix_key, pix_merchant_name and pix_merchant_city, "
        "or a payment provider (billing.gateway) whose charge for this invoice is created"
    )
