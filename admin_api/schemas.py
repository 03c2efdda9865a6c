"""Request and response bodies, separate from the ORM models: the API's contract is its own."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from aaa.nul import contains_nul
from aaa.tables.nas import MaMode, VendorProfile
from aaa.vocabulary.ipam import AssignmentKind, PoolKind, PoolMode, ReleaseReason, SubnetPurpose
from aaa.vocabulary.subscribers import (
    AddressKind,
    BillingMode,
    CustomerKind,
    MacBinding,
    ServiceStatus,
    Technology,
)
from billing_bridge.models import ChargeKind, ChargeStatus, RoutineTask

T = TypeVar("T")
Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
Kbps = Annotated[int, Field(gt=0, le=100_000_000)]
Text = Annotated[str, Field(min_length=1, max_length=200)]
Reason = Annotated[str, Field(min_length=1, max_length=500, description="why; kept in the history")]
Id = Annotated[int, Field(ge=1, le=2_147_483_647)]
Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]
WebhookEvent = Literal[
    "service.status_changed", "payment.received", "receipt.reversed", "payment.flagged", "*"
]


class In(BaseModel):
    """Request bodies reject unknown fields: a misspelt field is an error, not silently ignored.
    No text may hold a NUL (PostgreSQL's text cannot), and no day may lie outside what an ISP's
    records mean (2000 to 2100; birth dates from 1900): a typo'd year is a 422, never a 500 or
    a value the database cannot hold."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if contains_nul(data):
            raise ValueError("text must not contain a NUL character (\\u0000)")
        return data

    @model_validator(mode="after")
    def _days_in_range(self) -> In:
        for name, value in self:
            day = value.date() if isinstance(value, datetime) else value
            if isinstance(day, date):
                low = BIRTH_MIN if name == "birth_date" else DAY_MIN
                if not low <= day <= DAY_MAX:
                    raise ValueError(f"{name}: {day} is out of range ({low} to {DAY_MAX})")
        return self


DAY_MIN, DAY_MAX, BIRTH_MIN = date(2000, 1, 1), date(2100, 12, 31), date(1900, 1, 1)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str


# --- auth and operators -----------------------------------------------------------------------


class LoginIn(In):
    login: Text
    password: Annotated[str, Field(min_length=1, max_length=200)]


class TokenOut(Out):
    token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime | None
    must_change_password: bool = Field(
        False, description="true: this token only reaches POST /auth/password until it is changed"
    )


class PasswordChangeIn(In):
    current_password: Annotated[str, Field(min_length=1, max_length=200)]
    new_password: Annotated[str, Field(min_length=12, max_length=200, description="12 characters or more")]


class OperatorIn(In):
    login: Annotated[str, Field(min_length=1, max_length=64)]
    name: Text
    email: Annotated[str, Field(max_length=200)] | None = None
    password: Annotated[str, Field(min_length=12, max_length=200)]
    must_change_password: bool = False
    superuser: bool = False
    permissions: list[str] = []
    roles: list[Id] = []
    cities: list[Text] = []
    cash_boxes: list[Id] = []


class OperatorPatch(In):
    name: Text | None = None
    email: Annotated[str, Field(max_length=200)] | None = None
    password: Annotated[str, Field(min_length=12, max_length=200)] | None = None
    must_change_password: bool | None = None
    superuser: bool | None = None
    permissions: list[str] | None = None
    roles: list[Id] | None = None
    cities: list[Text] | None = None
    cash_boxes: list[Id] | None = None


class OperatorOut(Out):
    id: int
    login: str
    name: str
    email: str | None
    active: bool
    superuser: bool
    permissions: list[str]
    roles: list[int]
    effective_permissions: list[str]
    cities: list[str]
    cash_boxes: list[int]
    must_change_password: bool
    locked_until: datetime | None = Field(
        None, description="set while the login is locked after wrong passwords"
    )
    created_at: datetime


class CloneIn(In):
    from_operator_id: Id


class RoleIn(In):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    description: Annotated[str, Field(max_length=200)] | None = None
    permissions: list[str] = []


class RolePatch(In):
    description: Annotated[str, Field(max_length=200)] | None = None
    permissions: list[str] | None = None


class RoleOut(Out):
    id: int
    name: str
    description: str | None
    permissions: list[str]


class CashBoxIn(In):
    name: Annotated[str, Field(min_length=1, max_length=64)]


class CashBoxOut(Out):
    id: int
    name: str
    active: bool


class ApiKeyIn(In):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    scopes: list[str]
    expires_at: datetime | None = None


class ApiKeyOut(Out):
    id: int
    name: str | None
    operator_id: int
    scopes: list[str] | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    token: str | None = Field(None, description="shown once, when the key is created")


class PermissionOut(Out):
    name: str
    description: str


# --- customers ---------------------------------------------------------------------------------


class AddressIn(In):
    cep: Annotated[str, Field(max_length=9, description="8 digits, with or without the dash")] | None = None
    street: Text
    number: Annotated[str, Field(max_length=20)] | None = None
    complement: Annotated[str, Field(max_length=100)] | None = None
    district: Annotated[str, Field(max_length=100)] | None = None
    city: Annotated[str, Field(min_length=1, max_length=100)]
    state: Annotated[str, Field(min_length=2, max_length=2, description="UF, e.g. MG")]


class AddressOut(Out):
    kind: AddressKind
    cep: str | None
    street: str
    number: str | None
    complement: str | None
    district: str | None
    city: str
    state: str


class CustomerFields(In):
    trade_name: Text | None = None
    birth_date: date | None = None
    phones: list[Annotated[str, Field(min_length=8, max_length=20)]] = []
    emails: list[Annotated[str, Field(min_length=3, max_length=200, pattern=r"^[^@\s]+@[^@\s]+$")]] = []
    group_name: Annotated[str, Field(max_length=100)] | None = None
    origin: Annotated[str, Field(max_length=100)] | None = None
    notes: Annotated[str, Field(max_length=5000)] | None = None


class CustomerIn(CustomerFields):
    kind: CustomerKind
    name: Text = Field(description="the person's name, or the company name (razão social)")
    document: Annotated[
        str, Field(min_length=11, max_length=18, description="CPF or CNPJ, digits or formatted")
    ]
    addresses: dict[AddressKind, AddressIn] = Field(
        default_factory=dict, description="registration (cadastral), billing, fiscal"
    )

    @model_validator(mode="after")
    def _required_by_kind(self) -> CustomerIn:
        # "Adicionar cliente": a person needs a birth date and a phone, a company a phone.
        if not self.phones:
            raise ValueError("give at least one phone number")
        if self.kind is CustomerKind.PERSON and self.birth_date is None:
            raise ValueError("a person (CPF) needs a birth_date")
        return self


class CustomerPatch(CustomerFields):
    kind: CustomerKind | None = None
    name: Text | None = None
    document: Annotated[str, Field(min_length=11, max_length=18)] | None = None
    phones: list[Annotated[str, Field(min_length=8, max_length=20)]] | None = None  # type: ignore[assignment]
    emails: list[str] | None = None  # type: ignore[assignment]


class CustomerOut(Out):
    id: int
    kind: CustomerKind
    name: str
    trade_name: str | None
    document: str | None
    birth_date: date | None
    phones: list[str]
    emails: list[str]
    group_name: str | None
    origin: str | None
    notes: str | None
    addresses: list[AddressOut] = []
    created_at: datetime


# --- plans -----------------------------------------------------------------------------------


class PoolFields(In):
    """Where subscribers without a fixed address get one (IPAM pools); a plan's pool wins over the NAS's."""

    ipv4_pool_id: Id | None = Field(None, description="an ipv4 pool: Framed-Pool, or a server lease")
    ipv6_pool_id: Id | None = Field(None, description="an ipv6 pool: Framed-IPv6-Pool / Framed-IPv6-Prefix")
    ipv6_pd_pool_id: Id | None = Field(None, description="an ipv6_pd pool: Delegated-IPv6-Prefix(-Pool)")


class PoolRefsOut(Out):
    ipv4_pool_id: int | None
    ipv6_pool_id: int | None
    ipv6_pd_pool_id: int | None


class PlanFields(PoolFields):
    burst_download_kbps: Kbps | None = None
    burst_upload_kbps: Kbps | None = None
    burst_threshold_download_kbps: Kbps | None = None
    burst_threshold_upload_kbps: Kbps | None = None
    burst_time_s: Annotated[int, Field(ge=1, le=3600)] | None = None
    technology: Technology | None = None


class PlanIn(PlanFields):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    price: Money
    download_kbps: Kbps
    upload_kbps: Kbps


class PlanPatch(PlanFields):
    name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    price: Money | None = None
    download_kbps: Kbps | None = None
    upload_kbps: Kbps | None = None


class PlanOut(PoolRefsOut):
    id: int
    name: str
    price: Decimal
    download_kbps: int
    upload_kbps: int
    burst_download_kbps: int | None
    burst_upload_kbps: int | None
    burst_threshold_download_kbps: int | None
    burst_threshold_upload_kbps: int | None
    burst_time_s: int | None
    technology: Technology | None
    created_at: datetime


class PlanCloneIn(In):
    name: Annotated[str, Field(min_length=1, max_length=100)]


class MassChangeIn(In):
    target_plan_id: Id
    change_price: bool = Field(description="give each service the target plan's price; else keep its own")
    statuses: list[ServiceStatus] | None = None
    service_ids: list[Id] | None = Field(None, description="only these services (of the source plan)")


class MassChangeOut(Out):
    changed: list[int]


# --- NAS ----------------------------------------------------------------------------------------

Secret = Annotated[str, Field(min_length=1, max_length=128)]


class NasFields(PoolFields):
    vendor: VendorProfile = VendorProfile.MIKROTIK
    coa_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    require_message_authenticator: MaMode = MaMode.YES
    swap_octets: bool = False
    interim_interval: Annotated[int, Field(ge=60, le=86400)] | None = None
    description: Annotated[str, Field(max_length=200)] = ""
    api_port: Annotated[int, Field(ge=1, le=65535)] | None = Field(
        None, description="default 8729 with api_tls, else 8728"
    )
    api_username: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        None, description="RouterOS API user: enforcement fallback and the reconciler's /ppp/active"
    )
    api_password: Annotated[str, Field(max_length=128)] | None = Field(None, description="write-only")
    api_tls: bool = Field(
        False, description="RouterOS api-ssl (port 8729): plain api sends the password in clear"
    )
    api_tls_verify: bool = Field(False, description="check the router's certificate (enforcer.api_ca_file)")
    allow_wide_prefix: bool = Field(
        False, description="accept an address wider than /24 (IPv6: /64) on purpose"
    )
    allow_short_secret: bool = Field(False, description="accept a secret under 16 octets on purpose")


class NasIn(NasFields):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    address: Annotated[str, Field(min_length=2, max_length=43, description="IP or CIDR")]
    secret: Secret | None = Field(None, description="generated when omitted, and shown once")


class NasPatch(PoolFields):
    name: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    address: Annotated[str, Field(min_length=2, max_length=43)] | None = None
    vendor: VendorProfile | None = None
    coa_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    require_message_authenticator: MaMode | None = None
    swap_octets: bool | None = None
    interim_interval: Annotated[int, Field(ge=60, le=86400)] | None = None
    description: Annotated[str, Field(max_length=200)] | None = None
    api_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    api_username: Annotated[str, Field(max_length=64)] | None = None
    api_password: Annotated[str, Field(max_length=128)] | None = None
    api_tls: bool | None = None
    api_tls_verify: bool | None = None
    allow_wide_prefix: bool | None = None
    allow_short_secret: bool | None = Field(None, description="only false: require a secret of 16 octets")


class NasOut(PoolRefsOut):
    id: int
    name: str
    address: str
    vendor: VendorProfile
    coa_port: int
    require_message_authenticator: MaMode
    ma_seen: bool
    swap_octets: bool
    interim_interval: int | None
    description: str
    api_port: int
    api_username: str | None
    api_tls: bool
    api_tls_verify: bool
    allow_wide_prefix: bool
    allow_short_secret: bool = Field(description="its secret is under 16 octets, kept on purpose: rotate it")
    secret: str | None = Field(None, description="shown once, when created or rotated")


class SecretIn(In):
    secret: Secret | None = Field(None, description="the new secret; generated when omitted")
    allow_short_secret: bool = Field(False, description="accept a secret under 16 octets on purpose")


# --- services --------------------------------------------------------------------------------

Login = Annotated[str, Field(min_length=1, max_length=253, pattern=r"^\S+$")]
Password = Annotated[str, Field(min_length=1, max_length=128)]
Mac = Annotated[str, Field(max_length=17)]
Ipv4 = Annotated[str, Field(max_length=15)]
Tolerance = Annotated[int, Field(ge=0, le=365)]


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


class HeldOut(Out):
    id: int
    address: str
    prefix_len: int
    kind: AssignmentKind
    subnet_id: int
    assigned_at: datetime


class ServiceOut(Out):
    id: int
    customer_id: int
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
    created_at: datetime
    password: str | None = Field(None, description="shown when created or changed")


Until = Annotated[
    date | datetime,
    Field(description="a date (the overlay ends when that local day ends) or a date-time with its zone"),
]


class CustomSpeedIn(In):
    download_kbps: Annotated[int, Field(ge=1, le=100_000_000)]
    upload_kbps: Annotated[int, Field(ge=1, le=100_000_000)]
    until: Until | None = Field(None, description="empty: until removed")


class TrialIn(In):
    plan_id: Id
    until: Until


class TrustUnlockIn(In):
    reason: Reason
    until: Until | None = Field(
        None, description="required from an operator; the self-service length is fixed"
    )
    self_service: bool = Field(False, description="asked by the subscriber (Central do Assinante): limited")


class BonusIn(In):
    until: Until


class ExemptIn(In):
    exempt: bool


class AttemptOut(Out):
    id: int
    at: datetime
    nas_id: int | None
    acct_session_id: str | None
    method: str
    result: str
    error_cause: int | None
    detail: str


class EnforcementOut(Out):
    id: int
    cause: str
    created_at: datetime
    state: str
    attempts: int
    next_attempt_at: datetime
    finished_at: datetime | None
    outcome: str
    attempt_log: list[AttemptOut] = []


class ReconcileOut(Out):
    nas_id: int
    nas: str
    source: str
    closed: list[str]
    unknown: list[str]
    reapplied: list[int]
    error: str | None


class PasswordIn(In):
    password: Password | None = Field(None, description="generated when omitted")


class ReasonIn(In):
    reason: Reason


class SuspendIn(In):
    status: Literal[ServiceStatus.SUSPENDED_REQUEST, ServiceStatus.BLOCKED_MANUAL]
    reason: Reason
    reenable_on: date | None = Field(None, description="customer's request only: re-enable on this day")


class MigrateIn(In):
    plan_id: Id
    immediate: bool
    reason: Reason
    price: Money | None = Field(None, description="default: the new plan's price")


class TransferIn(In):
    customer_id: Id | None = Field(None, description="an existing customer")
    new_customer: CustomerIn | None = Field(None, description="or a customer created in the same request")
    reason: Reason

    @model_validator(mode="after")
    def _one_target(self) -> TransferIn:
        if (self.customer_id is None) == (self.new_customer is None):
            raise ValueError("give exactly one of customer_id and new_customer")
        return self


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


class AuditOut(Out):
    id: int
    at: datetime
    actor: str
    operator_id: int | None
    source: str
    entity: str
    entity_id: int | None
    customer_id: int | None
    service_id: int | None
    action: str
    changes: dict[str, Any]
    note: str | None


# --- IPAM ------------------------------------------------------------------------------------

IpText = Annotated[str, Field(min_length=2, max_length=49, description="an address, or a prefix a/len")]
Note = Annotated[str, Field(max_length=200)]
PrefixLen = Annotated[int, Field(ge=0, le=128)]


class FolderIn(In):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    description: Note = ""


class FolderPatch(In):
    name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    description: Note | None = None


class UsageOut(BaseModel):
    """Counts in the subnet's units: addresses, or prefixes in a delegation subnet."""

    usable: int
    used: int
    fixed: int
    leased: int
    free: int
    percent: Decimal


class FolderOut(Out):
    id: int
    name: str
    description: str
    created_at: datetime
    usage: dict[str, UsageOut] = Field({}, description="per IP version: ipv4, ipv6")


class PoolIn(In):
    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^\S+$")]
    kind: PoolKind
    mode: PoolMode = PoolMode.NAS
    lease_seconds: Annotated[int, Field(ge=30, le=86400)] = 300
    description: Note = ""


class PoolPatch(In):
    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^\S+$")] | None = None
    mode: PoolMode | None = None
    lease_seconds: Annotated[int, Field(ge=30, le=86400)] | None = None
    description: Note | None = None


class PoolOut(Out):
    id: int
    name: str
    kind: PoolKind
    mode: PoolMode
    lease_seconds: int
    description: str


class SubnetIn(In):
    folder_id: Id
    cidr: Annotated[
        str, Field(min_length=9, max_length=49, description="e.g. 100.64.0.0/22 or 2001:db8::/40")
    ]
    purpose: SubnetPurpose
    unit_len: PrefixLen | None = Field(
        None, description="what one holder gets at most: 32 for IPv4; IPv6 default /64, /56 for delegation"
    )
    pool_id: Id | None = None
    nas_id: Id | None = Field(None, description="only this NAS's subscribers lease from it")
    gateway: IpText | None = None
    use_all: bool = Field(
        False, description="hand out the network/broadcast (IPv4) or anycast (IPv6) address too"
    )
    name: Annotated[str, Field(max_length=100)] = ""
    description: Note = ""


class SubnetPatch(In):
    folder_id: Id | None = None
    pool_id: Id | None = None
    nas_id: Id | None = None
    name: Annotated[str, Field(max_length=100)] | None = None
    description: Note | None = None


class SubnetOut(Out):
    id: int
    folder_id: int
    cidr: str
    name: str
    purpose: SubnetPurpose
    unit_len: int
    use_all: bool
    pool_id: int | None
    nas_id: int | None
    description: str
    created_at: datetime
    usage: UsageOut | None = None


class NextFreeOut(BaseModel):
    subnet_id: int
    address: str
    prefix_len: int


class AssignmentOut(Out):
    id: int
    subnet_id: int
    address: str
    prefix_len: int
    kind: AssignmentKind
    service_id: int | None
    nas_id: int | None
    note: str
    assigned_at: datetime
    expires_at: datetime | None
    released_at: datetime | None
    release_reason: ReleaseReason | None
    login: str | None = None


class ReservationIn(In):
    address: IpText
    prefix_len: PrefixLen | None = None
    note: Note = ""


class ExclusionIn(In):
    start: IpText
    end: IpText
    note: Note = ""


class AssignIn(In):
    """Choose the subnet and take its next free address, or give the address."""

    subnet_id: Id | None = Field(None, description="take the next free address of this subnet")
    address: IpText | None = Field(None, description="this address (its subnet is found when not given)")
    prefix_len: PrefixLen | None = Field(None, description="e.g. 29 for a routed /29 (Framed-Route)")
    note: Note = ""

    @model_validator(mode="after")
    def _one_of(self) -> AssignIn:
        if self.subnet_id is None and self.address is None:
            raise ValueError("give subnet_id (next free address) or address")
        return self


class AddressReportOut(BaseModel):
    address: str
    subnet: SubnetOut
    holder: AssignmentOut | None
    history: list[AssignmentOut]


class ImportIn(In):
    csv: Annotated[str, Field(min_length=1, max_length=5_000_000, description="header: login,address")]
    dry_run: bool = False


class ImportConflictOut(BaseModel):
    line: int
    login: str
    address: str
    reason: str


class ImportOut(BaseModel):
    imported: int
    unchanged: int
    conflicts: list[ImportConflictOut]
    dry_run: bool


# --- billing ---------------------------------------------------------------------------------


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
    fine_percent: Percent = Field(Decimal("0.00"), description="late fee (multa) at receiving; 0: off")
    interest_percent_month: Percent = Field(Decimal("0.00"), description="juros simples per 30 days late")


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
    fine_percent: Percent | None = None
    interest_percent_month: Percent | None = None


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
    fine_percent: Decimal
    interest_percent_month: Decimal


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


ChargeIds = Annotated[list[Id], Field(min_length=1, max_length=500)]


class ReceiveIn(In):
    charge_ids: ChargeIds | None = Field(None, description="the charges paid (or invoice_id)")
    invoice_id: Id | None = Field(None, description="pay the open charges of this invoice")
    amount: Money | None = Field(None, description="default: what settles them today, fees included")
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
    status: str
    state: str = Field("", description="issued, partially_paid, paid or cancelled")
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


class ServiceCancelIn(In):
    reason: Reason
    loyalty_fine: bool = Field(False, description="charge the loyalty fine for the months left")
    cancel_pending_charges: bool = Field(False, description="cancel open charges not yet due")


class WebhookIn(In):
    url: Annotated[str, Field(pattern=r"^https?://", max_length=500)]
    secret: Annotated[str, Field(min_length=16, max_length=200)]
    events: Annotated[list[WebhookEvent], Field(min_length=1)]
    active: bool = True


class WebhookPatch(In):
    url: Annotated[str, Field(pattern=r"^https?://", max_length=500)] | None = None
    secret: Annotated[str, Field(min_length=16, max_length=200)] | None = None
    events: Annotated[list[WebhookEvent], Field(min_length=1)] | None = None
    active: bool | None = None


class WebhookOut(Out):
    id: int
    url: str
    events: list[str]
    active: bool
    created_at: datetime


class DeliveryOut(Out):
    id: int
    webhook_id: int
    event: str
    payload: dict[str, Any]
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    last_code: int | None
    last_error: str | None
    delivered_at: datetime | None


class NotificationOut(Out):
    id: int
    external_id: str
    received_at: datetime
    payload: dict[str, Any]
    amount: Decimal | None
    invoice_id: int | None
    status: str
    reason: str
    receipt_id: int | None
    resolved_by: str | None
    services_moved: list[TransitionOut] = []


class ResolveIn(In):
    action: Literal["apply", "dismiss"]


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


class RoutineRunOut(Out):
    id: int
    started_at: datetime
    day: date
    dry_run: bool
    counts: dict[str, int]
    changes: list[TransitionOut]


CronField = Annotated[
    str, Field(min_length=1, max_length=100, description="cron syntax: *, 1-5, mon-fri, 0,30")
]


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


class CancellationOut(ServiceOut):
    fine: ChargeOut | None = Field(None, description="the loyalty fine charged, if any")
    cancelled_charge_ids: list[int] = []
    notes: list[str] = []
