"""Bodies of /services: lifecycle, migration, transfer, cancellation, diagnostics."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from aaa.vocabulary.subscribers import (
    AddressKind,
    BillingMode,
    MacBinding,
    ServiceStatus,
)
from admin_api.schemas.billing import ChargeOut
from admin_api.schemas.common import (
    Id,
    In,
    Ipv4,
    Login,
    Mac,
    Money,
    Out,
    Password,
    Reason,
    ReplyAttribute,
    ReplyAttributes,
    Tolerance,
)
from admin_api.schemas.customers import AddressIn, CustomerIn
from admin_api.schemas.ipam import HeldOut


class ServiceFields(In):
    price: Money | None = Field(None, description="default: the plan's price")
    due_day: Annotated[int, Field(ge=1, le=28)] | None = None
    billing_method_id: Id | None = Field(None, description="its rule decides reduced speed and suspension")
    auto_block: bool = Field(True, description="Bloqueio automático: off keeps the routine away")
    reduction_tolerance_days: Tolerance | None = Field(None, description="override of the method's days")
    block_tolerance_days: Tolerance | None = Field(None, description="override of the method's days")
    billing_mode: BillingMode = Field(
        BillingMode.ADVANCE, description="advance: a due date pays its own month; postpaid: the month before"
    )
    loyalty_months: Annotated[int, Field(ge=1, le=120)] | None = Field(None, description="fidelidade")
    loyalty_fine: Money | None = Field(None, description="the fine with every loyalty month remaining")
    simultaneous_use: Annotated[int, Field(ge=0, le=100)] = 1
    mac_binding: MacBinding = MacBinding.OFF
    mac: Mac | None = None
    nas_port_id: Annotated[str, Field(max_length=253)] | None = None
    fixed_ipv4: Ipv4 | None = None


class ServiceIn(ServiceFields):
    customer_id: Id
    plan_id: Id
    login: Login
    password: Password | None = Field(None, description="generated when omitted")
    status: Literal[ServiceStatus.ENABLED, ServiceStatus.PENDING_INSTALL] = ServiceStatus.ENABLED
    installation_address: AddressIn | None = Field(None, description="default: the registration address")


class ServicePatch(In):
    login: Login | None = None
    price: Money | None = None
    due_day: Annotated[int, Field(ge=1, le=28)] | None = None
    billing_method_id: Id | None = None
    auto_block: bool | None = None
    reduction_tolerance_days: Tolerance | None = None
    block_tolerance_days: Tolerance | None = None
    billing_mode: BillingMode | None = None
    loyalty_months: Annotated[int, Field(ge=1, le=120)] | None = None
    loyalty_fine: Money | None = None
    simultaneous_use: Annotated[int, Field(ge=0, le=100)] | None = None
    mac_binding: MacBinding | None = None
    mac: Mac | None = None
    nas_port_id: Annotated[str, Field(max_length=253)] | None = None
    fixed_ipv4: Ipv4 | None = None
    reply_attributes: ReplyAttributes | None = Field(
        None, description="this login's own (radreply), after its plan's; replaces the whole list"
    )


class ServiceOut(Out):
    id: int
    customer_id: int
    customer_must_read: str | None = Field(None, description="the customer's leitura obrigatória")
    plan_id: int
    login: str | None
    former_login: str | None
    status: ServiceStatus
    status_reason: str | None
    status_changed_at: datetime | None
    reenable_on: date | None
    price: Decimal
    due_day: int | None
    billing_method_id: int | None
    auto_block: bool
    reduction_tolerance_days: int | None
    block_tolerance_days: int | None
    billing_mode: BillingMode
    loyalty_months: int | None
    loyalty_fine: Decimal | None
    activated_at: datetime | None
    simultaneous_use: int
    mac_binding: MacBinding
    mac: str | None
    nas_port_id: str | None
    fixed_ipv4: str | None = Field(None, description="the fixed Framed-IP-Address, if any")
    addresses: list[HeldOut] = Field([], description="every address held now: fixed and leased")
    migrated_from_id: int | None
    custom_download_kbps: int | None
    custom_upload_kbps: int | None
    custom_until: datetime | None
    trial_plan_id: int | None
    trial_until: datetime | None
    trust_until: datetime | None
    trust_reason: str | None
    bonus_until: datetime | None
    exempt: bool
    reply_attributes: list[ReplyAttribute] = []
    created_at: datetime
    password: str | None = Field(None, description="shown when created or changed")
    notes: list[str] = Field([], description="what else the change did (e.g. a due-day change fee)")


class PasswordIn(In):
    password: Password | None = Field(None, description="generated when omitted")


class ReasonIn(In):
    reason: Reason


class SuspendIn(In):
    status: Literal[
        ServiceStatus.SUSPENDED_REQUEST, ServiceStatus.BLOCKED_MANUAL, ServiceStatus.REDUCED_MANUAL
    ] = Field(description="reduced_manual: reduced speed, never undone by a routine")
    reason: Reason
    reenable_on: date | None = Field(None, description="customer's request only: re-enable on this day")


class PlanChangeIn(In):
    plan_id: Id
    reason: Reason
    change_price: bool = Field(True, description="give the service the new plan's price; false keeps its own")


class MigrateIn(In):
    plan_id: Id
    immediate: bool
    reason: Reason
    price: Money | None = Field(None, description="default: the new plan's price")


class TransferIn(In):
    customer_id: Id | None = Field(None, description="an existing customer")
    new_customer: CustomerIn | None = Field(None, description="or a customer created in the same request")
    reason: Reason
    transfer_debts: bool = Field(
        True,
        description="transferir débitos: the overdue charges go with the service to the new owner; "
        "false leaves them (and their invoices) as the previous owner's debt",
    )

    @model_validator(mode="after")
    def _one_target(self) -> TransferIn:
        if (self.customer_id is None) == (self.new_customer is None):
            raise ValueError("give exactly one of customer_id and new_customer")
        return self


class MoneyMovedOut(Out):
    """What money moved with the service (or stayed behind)."""

    charges: int = Field(description="open charges now on the service (migration: moved to it)")
    amount: Decimal = Field(description="their open amount")
    invoices: int = Field(description="open invoices moved")
    carnes: int = 0
    kept_charges: int = Field(0, description="overdue charges left with the previous owner")
    kept_amount: Decimal = Decimal("0.00")
    kept_invoices: int = 0
    summary: str


class MigrationOut(ServiceOut):
    money_moved: MoneyMovedOut | None = Field(
        None,
        description="immediate migration: what moved now; otherwise it moves when the new service is enabled",
    )


class TransferOut(ServiceOut):
    money_moved: MoneyMovedOut


class ServiceAddressIn(In):
    kinds: list[AddressKind] = Field(
        min_length=1, description="which addresses to set; all four for 'update all' (Atualizar Todos)"
    )
    address: AddressIn


class SessionOut(Out):
    nas_id: int
    acct_session_id: str
    framed_ip: str | None
    calling_station_id: str | None
    nas_port_id: str | None
    start_time: datetime | None
    start_estimated: bool = Field(
        description="no Start arrived: the start is an Interim's or Stop's time less its session time"
    )
    stop_time: datetime | None
    session_time: int
    input_octets: int
    output_octets: int
    terminate_cause: str | None
    closed_by: str | None


class AuthOut(Out):
    time: datetime
    nas_id: int | None
    method: str
    result: str
    reason: str
    mac: str | None
    nas_port_id: str | None
    mac_differs: bool
    interface_differs: bool


class DecisionOut(Out):
    outcome: str
    reasons: list[str]
    attributes: dict[str, Any]


class DiagnosticsOut(Out):
    service: ServiceOut
    status: ServiceStatus
    status_reason: str | None
    next_login: DecisionOut | None = Field(description="what the registered CPE would get now, and why")
    online: list[SessionOut]
    history: list[SessionOut]
    authentications: list[AuthOut] = Field(description="the last 7 days, newest first")


class ServiceCancelIn(In):
    reason: Reason
    loyalty_fine: bool = Field(False, description="charge the loyalty fine for the months left")
    cancel_pending_charges: bool = Field(False, description="cancel open charges not yet due")


class CancellationOut(ServiceOut):
    fine: ChargeOut | None = Field(None, description="the loyalty fine charged, if any")
    cancelled_charge_ids: list[int] = []
    notes: list[str] = []
