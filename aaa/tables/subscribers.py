"""Customer, Plan and Service tables (Cliente, Serviço/Plano, Serviço do cliente)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    func,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aaa.db.base import Base, UtcDateTime, str_enum, utcnow
from aaa.vocabulary.audit import Audited
from aaa.vocabulary.subscribers import (
    AddressKind,
    BillingMode,
    CustomerKind,
    MacBinding,
    ServiceStatus,
    SuspendedAction,
    Technology,
)


class Customer(Base):
    __tablename__ = "customer"
    __audit__ = Audited("customer", customer="id")
    # A trigram index on PostgreSQL (migration 0014), a plain one elsewhere: "contains" searches.
    __table_args__ = (
        Index(
            "ix_customer_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[CustomerKind] = mapped_column(str_enum(CustomerKind, "customer_kind"))
    name: Mapped[str] = mapped_column(String(200))  # person's name or company name (razão social)
    trade_name: Mapped[str | None] = mapped_column(String(200))  # nome fantasia
    document: Mapped[str | None] = mapped_column(String(20), unique=True)  # CPF/CNPJ digits
    birth_date: Mapped[date | None] = mapped_column(Date)
    phones: Mapped[list[str]] = mapped_column(JSON, default=list)
    emails: Mapped[list[str]] = mapped_column(JSON, default=list)
    group_name: Mapped[str | None] = mapped_column(String(100))
    origin: Mapped[str | None] = mapped_column(String(100))
    notes: Mapped[str | None] = mapped_column(Text)
    state_registration: Mapped[str | None] = mapped_column(String(20))  # Inscrição estadual (IE)
    municipal_registration: Mapped[str | None] = mapped_column(String(20))  # Inscrição municipal (IM)
    # [{"name", "phone", "email", "role", "sms", "whatsapp"}]: who else to talk to, and consent.
    contacts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    # Leitura obrigatória: shown with every service of the customer, to whoever opens it.
    must_read: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Names folded, document and phones as digits, e-mails (aaa.vocabulary.search): what /search reads.
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    services: Mapped[list[Service]] = relationship(back_populates="customer")


class Address(Base):
    """A customer's address (``service_id`` empty) or one of a service's addresses."""

    __tablename__ = "address"
    __audit__ = Audited("address", customer="customer_id", service="service_id")

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"), index=True)
    kind: Mapped[AddressKind] = mapped_column(str_enum(AddressKind, "address_kind"))
    cep: Mapped[str | None] = mapped_column(String(8))  # digits only
    street: Mapped[str] = mapped_column(String(200))
    number: Mapped[str | None] = mapped_column(String(20))
    complement: Mapped[str | None] = mapped_column(String(100))
    district: Mapped[str | None] = mapped_column(String(100))
    city: Mapped[str] = mapped_column(String(100), index=True)
    state: Mapped[str] = mapped_column(String(2))

    def fields(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in ADDRESS_FIELDS}


ADDRESS_FIELDS = ("cep", "street", "number", "complement", "district", "city", "state")


class Plan(Base):
    """A speed plan. Rates are kbit/s; bursts follow MikroTik's burst model."""

    __tablename__ = "plan"
    __audit__ = Audited("plan")

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    price: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0.00"))
    download_kbps: Mapped[int] = mapped_column(Integer)
    upload_kbps: Mapped[int] = mapped_column(Integer)
    burst_download_kbps: Mapped[int | None] = mapped_column(Integer)
    burst_upload_kbps: Mapped[int | None] = mapped_column(Integer)
    burst_threshold_download_kbps: Mapped[int | None] = mapped_column(Integer)
    burst_threshold_upload_kbps: Mapped[int | None] = mapped_column(Integer)
    burst_time_s: Mapped[int | None] = mapped_column(Integer)
    technology: Mapped[Technology | None] = mapped_column(str_enum(Technology, "technology"))
    # Where a subscriber without a fixed address gets one; empty: the NAS's pools apply.
    ipv4_pool_id: Mapped[int | None] = mapped_column(ForeignKey("ip_pool.id"))
    ipv6_pool_id: Mapped[int | None] = mapped_column(ForeignKey("ip_pool.id"))
    ipv6_pd_pool_id: Mapped[int | None] = mapped_column(ForeignKey("ip_pool.id"))
    # Extra reply attributes for every Access-Accept (radgroupreply): [[attribute, op, value]].
    reply_attributes: Mapped[list[list[str]]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Service(Base):
    """A customer's subscription: the PPPoE login and everything RADIUS needs to answer it."""

    __tablename__ = "service"
    __audit__ = Audited("service", customer="customer_id", service="id")
    # A login is unique whatever its case (aaa.subscribers.service._login says which holds it).
    __table_args__ = (
        Index("uq_service_login_lower", func.lower(text("login")), unique=True),
        # A login's beginning, for the search box (PostgreSQL: text_pattern_ops serves LIKE 'x%').
        Index(
            "ix_service_login_pattern",
            func.lower(text("login")).label("login_lower"),
            postgresql_ops={"login_lower": "text_pattern_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    # Empty while a non-immediate migration waits and once cancelled (``former_login`` keeps it),
    # so a login is unique among the services that can authenticate.
    login: Mapped[str | None] = mapped_column(String(253), unique=True)
    former_login: Mapped[str | None] = mapped_column(String(253), index=True)
    # Cleartext on purpose: CHAP and MS-CHAP need the password (or its NT hash) to verify.
    password: Mapped[str] = mapped_column(String(128))
    # cleartext, or the hash a FreeRADIUS import brought (aaa.vocabulary.passwords): then
    # ``password`` holds the hash and only the methods it can verify work.
    password_scheme: Mapped[str] = mapped_column(String(16), default="cleartext", server_default="cleartext")
    status: Mapped[ServiceStatus] = mapped_column(
        str_enum(ServiceStatus, "service_status"), default=ServiceStatus.ENABLED
    )
    simultaneous_use: Mapped[int] = mapped_column(Integer, default=1)
    mac_binding: Mapped[MacBinding] = mapped_column(
        str_enum(MacBinding, "mac_binding"), default=MacBinding.OFF
    )
    mac: Mapped[str | None] = mapped_column(String(17), index=True)  # AA:BB:CC:DD:EE:FF
    nas_port_id: Mapped[str | None] = mapped_column(String(253))  # registered interface
    price: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0.00"))
    due_day: Mapped[int | None] = mapped_column(Integer)
    billing_method_id: Mapped[int | None] = mapped_column(ForeignKey("billing_method.id"))
    # Per-contract overrides of the billing method's rule (aba Info do contrato): automatic block,
    # and the days after the due date before reduced speed / suspension.
    auto_block: Mapped[bool] = mapped_column(Boolean, default=True)
    reduction_tolerance_days: Mapped[int | None] = mapped_column(Integer)
    block_tolerance_days: Mapped[int | None] = mapped_column(Integer)
    # When it first went live: the billing run's pro-rata starts here.
    activated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    billing_mode: Mapped[BillingMode] = mapped_column(
        str_enum(BillingMode, "billing_mode"), default=BillingMode.ADVANCE
    )
    loyalty_months: Mapped[int | None] = mapped_column(Integer)  # fidelidade
    loyalty_fine: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))  # for all months remaining
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reenable_on: Mapped[date | None] = mapped_column(Date)  # scheduled end of a customer's suspension
    migrated_from_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"))
    # Overlays (policies): each ends by itself at its date; aaa.subscribers.overlays clears it then.
    custom_download_kbps: Mapped[int | None] = mapped_column(Integer)  # Navegação customizada
    custom_upload_kbps: Mapped[int | None] = mapped_column(Integer)
    custom_until: Mapped[datetime | None] = mapped_column(UtcDateTime)  # empty: no end date
    trial_plan_id: Mapped[int | None] = mapped_column(ForeignKey("plan.id"))  # Degustação de plano
    trial_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    trust_until: Mapped[datetime | None] = mapped_column(UtcDateTime)  # Desbloqueio em confiança
    trust_reason: Mapped[str | None] = mapped_column(Text)
    bonus_until: Mapped[datetime | None] = mapped_column(UtcDateTime)  # Conceder bônus
    exempt: Mapped[bool] = mapped_column(Boolean, default=False)  # Isentar
    # Extra reply attributes for this login only (radreply), after the plan's.
    reply_attributes: Mapped[list[list[str]]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="services")
    plan: Mapped[Plan] = relationship(foreign_keys=[plan_id])
    trial_plan: Mapped[Plan | None] = relationship(foreign_keys=[trial_plan_id])


class TrustUnlock(Base):
    """Every trust unlock granted: who asked (operator or the subscriber), until when, why.

    Kept apart from the service's current ``trust_until`` so the self-service limit (once a
    month) counts grants, not the current state."""

    __tablename__ = "trust_unlock"
    __audit__ = Audited("trust_unlock", service="service_id")

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    until: Mapped[datetime] = mapped_column(UtcDateTime)
    reason: Mapped[str] = mapped_column(Text)
    self_service: Mapped[bool] = mapped_column(Boolean, default=False)
    granted_by: Mapped[str] = mapped_column(String(200))


ZERO = Decimal("0.00")


class BillingMethod(Base):
    """Forma de cobrança: how a service pays, with its suspension rule (Rotina de habilitação/
    suspensão) and the reduced speed its services get while a bill is overdue. Part of the
    subscription (the RADIUS snapshot reads the reduction); billing_bridge writes it."""

    __tablename__ = "billing_method"
    __audit__ = Audited("billing_method")

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    total_suspension: Mapped[bool] = mapped_column(Boolean, default=False)
    total_suspension_days: Mapped[int] = mapped_column(Integer, default=15)  # days after the due date
    partial_suspension: Mapped[bool] = mapped_column(Boolean, default=False)  # reduced speed
    partial_suspension_days: Mapped[int] = mapped_column(Integer, default=5)
    minimum_open: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=ZERO)  # to suspend at all
    # Reduced speed for this method's services; empty: the ISP's [policy] one.
    reduction: Mapped[str | None] = mapped_column(String(16))  # "relative" or "absolute"
    reduction_percent: Mapped[int | None] = mapped_column(Integer)
    reduction_download_kbps: Mapped[int | None] = mapped_column(Integer)
    reduction_upload_kbps: Mapped[int | None] = mapped_column(Integer)
    # What its services suspended for debt get; empty: the ISP's (a NAS's own wins over both).
    suspended_action: Mapped[SuspendedAction | None] = mapped_column(
        str_enum(SuspendedAction, "suspended_action")
    )
    # Late fee (multa, once) and interest (juros simples per 30 days) at receiving; 0: off.
    fine_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=ZERO)
    interest_percent_month: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=ZERO)
    # Changing a service's due day (Alteração de vencimento): a fee charged, or a credit taken off
    # its next open monthly fee; empty: nothing.
    due_day_change_fee: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    due_day_change_credit: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
