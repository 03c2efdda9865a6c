"""Bodies of invoices, quotes, billing runs, carnês and installation fees."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, Field

from admin_api.schemas.billing import ChargeIds, ChargeOut
from admin_api.schemas.common import Id, In, Money, Out, Reason


class QuoteItemOut(BaseModel):
    charge_id: int
    open_amount: Decimal
    discount: Decimal
    fine: Decimal
    interest: Decimal
    days_late: int
    total: Decimal


class QuoteOut(BaseModel):
    on: date
    items: list[QuoteItemOut]
    total: Decimal


class InvoiceIn(In):
    charge_ids: ChargeIds
    billing_method_id: Id
    due_date: date


class InvoiceCancelIn(In):
    reason: Reason
    cancel_charges: bool = Field(False, description="cancel its open charges too (else they stay, loose)")


class ReissueIn(In):
    due_date: date
    reason: Reason


class InvoiceOut(Out):
    id: int
    customer_id: int
    service_id: int | None = Field(description="the contract billed, when all its charges are one service's")
    billing_method_id: int
    due_date: date
    amount: Decimal
    charge_ids: list[int]
    status: str = Field(description="issued, partially_paid, paid or cancelled")
    open_amount: Decimal = Decimal("0.00")
    reissued_from_id: int | None
    billing_run_id: int | None
    created_at: datetime
    cancelled_at: datetime | None
    cancel_reason: str | None
    charges: list[ChargeOut] = []


class BillingRunIn(In):
    competence: date = Field(description="the month billed (any day of it)")
    dry_run: bool = Field(True, description="preview: what would be generated, and the warnings")
    pro_rata: bool = Field(True, description="charge services activated mid-month for their days only")
    billing_method_id: Id | None = Field(None, description="only this billing method's contracts")
    due_day: Annotated[int, Field(ge=1, le=28)] | None = Field(None, description="only this due day")
    city: Annotated[str, Field(min_length=1, max_length=100)] | None = Field(
        None, description="only customers registered in this city"
    )


class PixOut(Out):
    payload: str = Field(description="PIX copia e cola (BR Code)")
    txid: str
    amount: Decimal
    svg: str = Field(description="the QR code as an SVG image")
    source: str = Field(description="static (from billing.pix_key) or the payment provider's name")


class BoletoOut(Out):
    """A boleto's fields as printed on the ficha de compensação."""

    source: str = Field(description="bank (the ISP's own agreement) or the payment provider's name")
    bank: str
    nosso_numero: str | None
    linha_digitavel: str | None = Field(description="the 47 digits, formatted in their five fields")
    barcode: str | None = Field(description="the 44 digits the Interleaved 2 of 5 barcode encodes")
    due_date: date
    amount: Decimal
    beneficiary: str
    instructions: str
    url: str | None


class NextInvoiceOut(Out):
    """What the billing run for ``competence`` would bill this contract, or why nothing."""

    service_id: int
    competence: date
    billed: bool
    due_date: date | None = None
    amount: Decimal | None = None
    description: str | None = None
    reason: str | None = Field(None, description="why nothing would be billed")


class BillingRunOut(Out):
    id: int
    competence: date
    dry_run: bool
    pro_rata: bool
    started_at: datetime
    finished_at: datetime | None
    run_by: str
    counts: dict[str, int]
    total: Decimal
    warnings: list[dict[str, Any]]
    items: list[dict[str, Any]] = Field([], description="the preview's lines (a dry run only)")


class CarneIn(In):
    first_due: date
    installments: Annotated[int, Field(ge=1, le=36)]
    start: date | None = Field(None, description="when the customer started; default: activation day")


class ChargeIdsIn(In):
    charge_ids: ChargeIds


class CarneOut(Out):
    id: int
    service_id: int
    first_due: date
    installments: int
    created_by: str
    charges: list[ChargeOut] = []


class InstallationFeeIn(In):
    amount: Money
    installments: Annotated[int, Field(ge=1, le=24)] = 1
    first_due: date
    description: Annotated[str, Field(min_length=1, max_length=150)] = "Taxa de instalação"
