"""Billing tables (seeds: Forma de Cobrança, Cobrança, Recibo). Money is Numeric(12, 2)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aaa.db.base import Base, UtcDateTime, str_enum, utcnow

ZERO = Decimal("0.00")


class BillingMethod(Base):
    """Forma de cobrança, with its suspension rule (seed 000: Rotina de habilitação/suspensão)."""

    __tablename__ = "billing_method"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    total_suspension: Mapped[bool] = mapped_column(Boolean, default=False)
    total_suspension_days: Mapped[int] = mapped_column(Integer, default=15)  # days after the due date
    partial_suspension: Mapped[bool] = mapped_column(Boolean, default=False)  # reduced speed
    partial_suspension_days: Mapped[int] = mapped_column(Integer, default=5)
    minimum_open: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=ZERO)  # to suspend at all
    # Reduced speed for this method's services (seed 004 item 3); empty: the ISP's [policy] one.
    reduction: Mapped[str | None] = mapped_column(String(16))  # "relative" or "absolute"
    reduction_percent: Mapped[int | None] = mapped_column(Integer)
    reduction_download_kbps: Mapped[int | None] = mapped_column(Integer)
    reduction_upload_kbps: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


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
    """Cobrança: one amount a service owes, due on a date."""

    __tablename__ = "charge"
    __table_args__ = (Index("ix_charge_service_status", "service_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    kind: Mapped[ChargeKind] = mapped_column(str_enum(ChargeKind, "charge_kind"))
    description: Mapped[str] = mapped_column(String(200), default="")
    competence: Mapped[date | None] = mapped_column(Date)  # the month served (first day)
    due_date: Mapped[date] = mapped_column(Date, index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    paid_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=ZERO)
    status: Mapped[ChargeStatus] = mapped_column(
        str_enum(ChargeStatus, "charge_status"), default=ChargeStatus.OPEN
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)

    @property
    def open_amount(self) -> Decimal:
        return ZERO if self.status is ChargeStatus.CANCELLED else self.amount - self.paid_amount


class Receipt(Base):
    """Recibo: money received into a cash box, spread over charges. A reversal keeps the row."""

    __tablename__ = "receipt"

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
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))

    receipt: Mapped[Receipt] = relationship(back_populates="items")
    charge: Mapped[Charge] = relationship()


class RoutineTask(StrEnum):
    SUSPENSION = "suspension"  # habilitação/suspensão: move services to their standing


class Routine(Base):
    """Rotina (seed 000): a task on a cron-like schedule in the ISP's time zone. Fields take cron
    syntax ("*", "1-5", "mon-fri", "0,30"); e.g. weekdays only: day_of_week = "mon-fri"."""

    __tablename__ = "routine"

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
