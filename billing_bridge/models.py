"""Billing tables (Forma de Cobrança, Cobrança, Recibo). Money is Numeric(12, 2)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aaa.db.base import Base, UtcDateTime, str_enum, utcnow
from aaa.vocabulary.audit import Audited

ZERO = Decimal("0.00")


class ChargeKind(StrEnum):
    MONTHLY = "monthly"  # mensalidade
    INSTALLATION = "installation"
    SALE = "sale"
    FINE = "fine"
    OTHER = "other"


class ChargeStatus(StrEnum):
    OPEN = "open"
    PARTIALLY_PAID = "partially_paid"  # baixado parcial: still counts as open for suspension
    PAID = "paid"
    CANCELLED = "cancelled"


class Charge(Base):
    """Cobrança: one amount a service owes, due on a date; alone or on an invoice (fatura).

    A service has at most one live monthly fee per competence: the database refuses a second,
    which is what makes the monthly billing run idempotent even when two runs race."""

    __tablename__ = "charge"
    __audit__ = Audited("charge", service="service_id")
    __table_args__ = (
        Index("ix_charge_service_status", "service_id", "status"),
        Index(
            "uq_charge_monthly_competence",
            "service_id",
            "competence",
            unique=True,
            sqlite_where=text("kind = 'monthly' AND status <> 'cancelled'"),
            postgresql_where=text("kind = 'monthly' AND status <> 'cancelled'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    kind: Mapped[ChargeKind] = mapped_column(str_enum(ChargeKind, "charge_kind"))
    description: Mapped[str] = mapped_column(String(200), default="")
    competence: Mapped[date | None] = mapped_column(Date)  # the month served (first day)
    due_date: Mapped[date] = mapped_column(Date, index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    paid_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=ZERO)
    # Promotional discount: this much off when paid in full by due date − N days.
    discount_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    discount_days_before: Mapped[int] = mapped_column(Integer, default=0)
    discount_granted: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=ZERO)
    installment: Mapped[int | None] = mapped_column(Integer)  # 2 of 3
    installments: Mapped[int | None] = mapped_column(Integer)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"), index=True)
    carne_id: Mapped[int | None] = mapped_column(ForeignKey("carne.id"), index=True)
    # Owed by this customer, not by the service's owner: an ownership transfer left the debt
    # with the previous owner ("transferir débitos: não"); it no longer counts against the service.
    debtor_customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))
    billing_run_id: Mapped[int | None] = mapped_column(ForeignKey("billing_run.id"), index=True)
    status: Mapped[ChargeStatus] = mapped_column(
        str_enum(ChargeStatus, "charge_status"), default=ChargeStatus.OPEN
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)

    @property
    def open_amount(self) -> Decimal:
        if self.status is ChargeStatus.CANCELLED:
            return ZERO
        return self.amount - self.paid_amount - self.discount_granted


class InvoiceStatus(StrEnum):
    ISSUED = "issued"
    CANCELLED = "cancelled"  # stays visible; its charges are free for another invoice


class Invoice(Base):
    """Fatura: the boleto a customer pays, grouping one or more charges under a billing method and
    a due date (a monthly fee and an installation fee on one boleto). Re-issuing
    cancels it and issues a new one with the charges still open."""

    __tablename__ = "invoice"
    __audit__ = Audited("invoice", customer="customer_id")
    # The billing run finds its invoice per service with this (a correlated lookup per charge).
    __table_args__ = (Index("ix_invoice_run_service", "billing_run_id", "service_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"))  # the contract billed, if one
    billing_method_id: Mapped[int] = mapped_column(ForeignKey("billing_method.id"))
    due_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # what it was issued for
    charge_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # as issued, kept after cancel
    status: Mapped[InvoiceStatus] = mapped_column(
        str_enum(InvoiceStatus, "invoice_status"), default=InvoiceStatus.ISSUED
    )
    reissued_from_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"))
    billing_run_id: Mapped[int | None] = mapped_column(ForeignKey("billing_run.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)

    charges: Mapped[list[Charge]] = relationship(order_by="Charge.due_date, Charge.id")


class Carne(Base):
    """Carnê: N monthly charges of a service generated at once, the first pro-rata."""

    __tablename__ = "carne"
    __audit__ = Audited("carne", service="service_id")

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    first_due: Mapped[date] = mapped_column(Date)
    installments: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))


class BillingRun(Base):
    """Faturamento mensal for one competence (dry: the preview); what it generated and warned."""

    __tablename__ = "billing_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    competence: Mapped[date] = mapped_column(Date, index=True)  # first day of the month billed
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    pro_rata: Mapped[bool] = mapped_column(Boolean, default=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    run_by: Mapped[str] = mapped_column(String(200))
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    total: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=ZERO)
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # the preview's lines


class Receipt(Base):
    """Recibo: money received into a cash box, spread over charges. A reversal keeps the row."""

    __tablename__ = "receipt"
    __audit__ = Audited("receipt")

    id: Mapped[int] = mapped_column(primary_key=True)
    cash_box_id: Mapped[int] = mapped_column(ForeignKey("cash_box.id"))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    received_by: Mapped[str] = mapped_column(String(200))
    reversed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reversed_by: Mapped[str | None] = mapped_column(String(200))
    reverse_reason: Mapped[str | None] = mapped_column(Text)

    items: Mapped[list[ReceiptItem]] = relationship(back_populates="receipt", order_by="ReceiptItem.id")


class ReceiptItem(Base):
    __tablename__ = "receipt_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_id: Mapped[int] = mapped_column(ForeignKey("receipt.id"), index=True)
    charge_id: Mapped[int] = mapped_column(ForeignKey("charge.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # toward the charge's amount
    discount: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=ZERO)  # promotional, granted
    fine: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=ZERO)  # late fee received
    interest: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=ZERO)

    receipt: Mapped[Receipt] = relationship(back_populates="items")
    charge: Mapped[Charge] = relationship()


class RoutineTask(StrEnum):
    SUSPENSION = "suspension"  # habilitação/suspensão: move services to their standing


class Routine(Base):
    """Rotina: a task on a cron-like schedule in the ISP's time zone. Fields take cron
    syntax ("*", "1-5", "mon-fri", "0,30"); e.g. weekdays only: day_of_week = "mon-fri"."""

    __tablename__ = "routine"
    __audit__ = Audited("routine")

    id: Mapped[int] = mapped_column(primary_key=True)
    description: Mapped[str] = mapped_column(String(200))
    task: Mapped[RoutineTask] = mapped_column(
        str_enum(RoutineTask, "routine_task"), default=RoutineTask.SUSPENSION
    )
    month: Mapped[str] = mapped_column(String(50), default="*")
    day: Mapped[str] = mapped_column(String(100), default="*")
    day_of_week: Mapped[str] = mapped_column(String(50), default="*")
    hour: Mapped[str] = mapped_column(String(50), default="6")
    minute: Mapped[str] = mapped_column(String(50), default="0")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # The last scheduled moment that ran: a moment runs once, whichever node fires it.
    last_slot: Mapped[datetime | None] = mapped_column(UtcDateTime)


class RoutineRun(Base):
    """One run of the suspension / re-enable routine: what it changed and why (or would have)."""

    __tablename__ = "routine_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    routine_id: Mapped[int | None] = mapped_column(ForeignKey("routine.id"))  # empty: run by hand
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    day: Mapped[date] = mapped_column(Date)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class NotificationStatus(StrEnum):
    APPLIED = "applied"
    FLAGGED = "flagged"  # unknown or mismatching: an operator decides
    DISMISSED = "dismissed"


class PaymentNotification(Base):
    """An inbound payment notice from a gateway or bank, kept as received; one per external id."""

    __tablename__ = "payment_notification"
    __audit__ = Audited("payment_notification")

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(200), unique=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    invoice_id: Mapped[int | None] = mapped_column(Integer)  # as named by the sender, maybe unknown
    status: Mapped[NotificationStatus] = mapped_column(str_enum(NotificationStatus, "notification_status"))
    reason: Mapped[str] = mapped_column(Text, default="")
    receipt_id: Mapped[int | None] = mapped_column(ForeignKey("receipt.id"))
    resolved_by: Mapped[str | None] = mapped_column(String(200))


class Webhook(Base):
    """An outbound subscriber to events (status changes, payments), signed with its secret."""

    __tablename__ = "webhook"
    __audit__ = Audited("webhook")

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(200))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # gave up after the last attempt


class WebhookDelivery(Base):
    """One event for one webhook, written in the transaction of the change; the delivery log."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhook.id"), index=True)
    event: Mapped[str] = mapped_column(String(50))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class GatewayChargeState(StrEnum):
    PENDING = "pending"  # to be created at the provider (the job retries with backoff)
    CREATED = "created"  # the provider has it: boleto / PIX fields filled
    FAILED = "failed"  # the provider refused it, or every attempt failed: an operator looks
    CANCEL_PENDING = "cancel_pending"  # the invoice was cancelled: to be cancelled at the provider
    CANCELLED = "cancelled"


class GatewayCharge(Base):
    """An invoice's charge at a payment provider (Asaas, Efí): its boleto and PIX fields, and
    where creating or cancelling it stands. Created by a job, never in the invoice's own
    transaction, so a provider outage never blocks issuing invoices."""

    __tablename__ = "gateway_charge"
    __audit__ = Audited("gateway_charge")
    __table_args__ = (
        Index("ix_gateway_charge_due", "state", "next_attempt_at"),
        Index("uq_gateway_charge_provider_id", "provider", "provider_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), unique=True)
    provider: Mapped[str] = mapped_column(String(20))
    state: Mapped[GatewayChargeState] = mapped_column(
        str_enum(GatewayChargeState, "gateway_charge_state"), default=GatewayChargeState.PENDING
    )
    provider_id: Mapped[str | None] = mapped_column(String(100))  # Asaas pay_…, Efí txid
    nosso_numero: Mapped[str | None] = mapped_column(String(40))
    linha_digitavel: Mapped[str | None] = mapped_column(String(60))
    barcode: Mapped[str | None] = mapped_column(String(44))
    pix_payload: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(500))  # the provider's page for the customer
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class BankReturnFile(Base):
    """An imported arquivo retorno, once per content (its SHA-256): a second import of the same
    file reports what the first did and applies nothing."""

    __tablename__ = "bank_return_file"
    __audit__ = Audited("bank_return_file")

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    layout: Mapped[str] = mapped_column(String(10))
    bank: Mapped[str] = mapped_column(String(3))
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    imported_by: Mapped[str] = mapped_column(String(200))
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
