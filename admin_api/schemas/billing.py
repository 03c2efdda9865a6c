"""Bodies of billing methods, charges, receiving and routines."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, model_validator

from aaa.vocabulary.subscribers import (
    ServiceStatus,
    SuspendedAction,
)
from admin_api.schemas.common import CronField, Id, In, Money, Out, Percent
from billing_bridge.models import ChargeKind, ChargeStatus, RoutineTask


class BillingMethodIn(In):
    name: Annotated[str, Field(min_length=1, max_length=50)]
    total_suspension: bool = False
    total_suspension_days: Annotated[int, Field(ge=0, le=365)] = 15
    partial_suspension: bool = Field(False, description="reduced speed (Suspenso Parcialmente)")
    partial_suspension_days: Annotated[int, Field(ge=0, le=365)] = 5
    minimum_open: Money = Field(Decimal("0.00"), description="suspend only from this open amount")
    active: bool = True
    reduction: Literal["relative", "absolute"] | None = Field(
        None, description="reduced speed of this method's services; empty: the ISP's [policy]"
    )
    reduction_percent: Annotated[int, Field(ge=1, le=100)] | None = None
    reduction_download_kbps: Annotated[int, Field(ge=1)] | None = None
    reduction_upload_kbps: Annotated[int, Field(ge=1)] | None = None
    suspended_action: SuspendedAction | None = Field(
        None, description="what its services suspended for debt get; empty: the ISP's (a NAS's own wins)"
    )
    fine_percent: Percent = Field(Decimal("0.00"), description="late fee (multa) at receiving; 0: off")
    interest_percent_month: Percent = Field(Decimal("0.00"), description="juros simples per 30 days late")
    due_day_change_fee: Money | None = Field(None, description="charged when a service's due day changes")
    due_day_change_credit: Money | None = Field(None, description="or taken off its next monthly fee")


class BillingMethodPatch(In):
    name: Annotated[str, Field(min_length=1, max_length=50)] | None = None
    total_suspension: bool | None = None
    total_suspension_days: Annotated[int, Field(ge=0, le=365)] | None = None
    partial_suspension: bool | None = None
    partial_suspension_days: Annotated[int, Field(ge=0, le=365)] | None = None
    minimum_open: Money | None = None
    active: bool | None = None
    reduction: Literal["relative", "absolute"] | None = None
    reduction_percent: Annotated[int, Field(ge=1, le=100)] | None = None
    reduction_download_kbps: Annotated[int, Field(ge=1)] | None = None
    reduction_upload_kbps: Annotated[int, Field(ge=1)] | None = None
    suspended_action: SuspendedAction | None = None
    fine_percent: Percent | None = None
    interest_percent_month: Percent | None = None
    due_day_change_fee: Money | None = None
    due_day_change_credit: Money | None = None


class BillingMethodOut(Out):
    id: int
    name: str
    total_suspension: bool
    total_suspension_days: int
    partial_suspension: bool
    partial_suspension_days: int
    minimum_open: Decimal
    active: bool
    reduction: str | None
    reduction_percent: int | None
    reduction_download_kbps: int | None
    reduction_upload_kbps: int | None
    suspended_action: SuspendedAction | None
    fine_percent: Decimal
    interest_percent_month: Decimal
    due_day_change_fee: Decimal | None
    due_day_change_credit: Decimal | None


class ChargeDiscountIn(In):
    discount_amount: Money = Field(description="promotional discount if paid in full in time")
    discount_days_before: Annotated[int, Field(ge=0, le=60)] = Field(
        0, description="the discount holds until the due date minus this many days"
    )


class ChargeIn(In):
    kind: ChargeKind
    due_date: date
    amount: Money
    description: Annotated[str, Field(max_length=200)] = ""
    competence: date | None = Field(None, description="the month served (any day of it)")
    discount_amount: Money | None = Field(None, description="promotional discount if paid in full in time")
    discount_days_before: Annotated[int, Field(ge=0, le=60)] = Field(
        0, description="the discount holds until the due date minus this many days"
    )


class ChargeOut(Out):
    id: int
    service_id: int
    kind: ChargeKind
    description: str
    competence: date | None
    due_date: date
    amount: Decimal
    paid_amount: Decimal
    discount_amount: Decimal | None
    discount_days_before: int
    discount_granted: Decimal
    open_amount: Decimal
    installment: int | None
    installments: int | None
    invoice_id: int | None
    carne_id: int | None
    billing_run_id: int | None
    status: ChargeStatus
    cancelled_at: datetime | None
    cancel_reason: str | None
    receipt_ids: list[int] = Field([], description="the receipts that paid it (reversed ones too)")


ChargeIds = Annotated[list[Id], Field(min_length=1, max_length=500)]


class ReceiveIn(In):
    charge_ids: ChargeIds | None = Field(None, description="the charges paid (or invoice_id)")
    invoice_id: Id | None = Field(None, description="pay the open charges of this invoice")
    amount: Money | None = Field(
        None,
        description="default: what settles them today, fees included (another one: finance.receive_amount)",
    )
    discount: Money | None = Field(None, description="off the total at the counter; needs finance.discount")
    cash_box_id: Id

    @model_validator(mode="after")
    def _one_target(self) -> ReceiveIn:
        if (self.charge_ids is None) == (self.invoice_id is None):
            raise ValueError("give either charge_ids or invoice_id")
        return self


class ReceiptItemOut(Out):
    charge_id: int
    amount: Decimal
    discount: Decimal
    fine: Decimal
    interest: Decimal


class TransitionOut(Out):
    service_id: int
    login: str | None
    current: ServiceStatus
    target: ServiceStatus
    reason: str


class ReceiptOut(Out):
    id: int
    cash_box_id: int
    amount: Decimal
    received_at: datetime
    received_by: str
    reversed_at: datetime | None
    reversed_by: str | None
    reverse_reason: str | None
    items: list[ReceiptItemOut]
    services_moved: list[TransitionOut] = Field([], description="services this payment moved back at once")


class RoutineIn(In):
    day: date | None = Field(None, description="evaluate as of this day (default today); e.g. tomorrow, dry")
    dry_run: bool = Field(True, description="only list who would change and why")
    reenable_without_debt: bool = Field(
        False, description="also re-enable services held for debt that have no charge at all"
    )


class RoutineRunOut(Out):
    id: int
    started_at: datetime
    day: date
    dry_run: bool
    counts: dict[str, int]
    changes: list[TransitionOut]


class RoutineDefIn(In):
    description: Annotated[str, Field(min_length=1, max_length=200)]
    task: RoutineTask = RoutineTask.SUSPENSION
    month: CronField = "*"
    day: CronField = "*"
    day_of_week: CronField = Field("*", description="e.g. mon-fri: no suspension on weekends")
    hour: CronField = "6"
    minute: CronField = "0"
    enabled: bool = True


class RoutineDefPatch(In):
    description: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    month: CronField | None = None
    day: CronField | None = None
    day_of_week: CronField | None = None
    hour: CronField | None = None
    minute: CronField | None = None
    enabled: bool | None = None


class RoutineDefOut(Out):
    id: int
    description: str
    task: RoutineTask
    month: str
    day: str
    day_of_week: str
    hour: str
    minute: str
    enabled: bool
    last_slot: datetime | None
    next_run: datetime | None = None
