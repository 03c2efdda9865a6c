"""Customer, Plan and Service tables (seeds: Cliente, Serviço/Plano, Serviço do cliente)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aaa.db.base import Base, UtcDateTime, str_enum, utcnow
from aaa.subscribers.types import CustomerKind, MacBinding, ServiceStatus


class Customer(Base):
    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[CustomerKind] = mapped_column(str_enum(CustomerKind, "customer_kind"))
    name: Mapped[str] = mapped_column(String(200))
    document: Mapped[str | None] = mapped_column(String(20), unique=True)  # CPF/CNPJ digits
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    services: Mapped[list[Service]] = relationship(back_populates="customer")


class Plan(Base):
    """A speed plan. Rates are kbit/s; bursts follow MikroTik's burst model."""

    __tablename__ = "plan"

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
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Service(Base):
    """A customer's subscription: the PPPoE login and everything RADIUS needs to answer it."""

    __tablename__ = "service"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    login: Mapped[str] = mapped_column(String(253), unique=True)
    # Cleartext on purpose: CHAP and MS-CHAP need the password (or its NT hash) to verify.
    password: Mapped[str] = mapped_column(String(128))
    status: Mapped[ServiceStatus] = mapped_column(
        str_enum(ServiceStatus, "service_status"), default=ServiceStatus.ENABLED
    )
    simultaneous_use: Mapped[int] = mapped_column(Integer, default=1)
    mac_binding: Mapped[MacBinding] = mapped_column(
        str_enum(MacBinding, "mac_binding"), default=MacBinding.OFF
    )
    mac: Mapped[str | None] = mapped_column(String(17))  # AA:BB:CC:DD:EE:FF
    nas_port_id: Mapped[str | None] = mapped_column(String(253))  # registered interface
    fixed_ipv4: Mapped[str | None] = mapped_column(String(15), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="services")
    plan: Mapped[Plan] = relationship()
