"""The Nas table (Concentrador)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from aaa.db.base import Base, UtcDateTime, str_enum, utcnow
from aaa.vocabulary.audit import Audited
from aaa.vocabulary.subscribers import SuspendedAction
from aaa.vocabulary.vendors import VendorProfile

__all__ = ["MaMode", "Nas", "NasActivity", "VendorProfile"]


class MaMode(StrEnum):
    """require_message_authenticator per NAS (BlastRADIUS, CVE-2024-3596)."""

    YES = "yes"
    NO = "no"
    AUTO = "auto"  # required from the first Access-Request that carries one


class Nas(Base):
    __tablename__ = "nas"
    __audit__ = Audited("nas")

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    address: Mapped[str] = mapped_column(String(43), unique=True)  # IP or CIDR
    secret: Mapped[str] = mapped_column(String(128))
    vendor: Mapped[VendorProfile] = mapped_column(
        str_enum(VendorProfile, "vendor_profile"), default=VendorProfile.MIKROTIK
    )
    coa_port: Mapped[int] = mapped_column(Integer, default=3799)
    require_message_authenticator: Mapped[MaMode] = mapped_column(
        str_enum(MaMode, "ma_mode"), default=MaMode.YES
    )
    ma_seen: Mapped[bool] = mapped_column(Boolean, default=False)
    swap_octets: Mapped[bool] = mapped_column(Boolean, default=False)
    interim_interval: Mapped[int | None] = mapped_column(Integer)
    # What its subscribers suspended for debt get; empty: their billing method's, else the ISP's.
    suspended_action: Mapped[SuspendedAction | None] = mapped_column(
        str_enum(SuspendedAction, "suspended_action")
    )
    description: Mapped[str] = mapped_column(String(200), default="")
    # Pools for subscribers whose plan names none (IPAM); empty: the NAS's own PPP profile decides.
    ipv4_pool_id: Mapped[int | None] = mapped_column(ForeignKey("ip_pool.id"))
    ipv6_pool_id: Mapped[int | None] = mapped_column(ForeignKey("ip_pool.id"))
    ipv6_pd_pool_id: Mapped[int | None] = mapped_column(ForeignKey("ip_pool.id"))
    # RouterOS API (MikroTik): enforcement fallback and the reconciler's view of /ppp/active.
    api_port: Mapped[int] = mapped_column(Integer, default=8728)
    api_username: Mapped[str | None] = mapped_column(String(64))
    api_password: Mapped[str | None] = mapped_column(String(128))
    # API-SSL (RouterOS 'api-ssl', port 8729): TLS, and whether the NAS's certificate is checked.
    api_tls: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    api_tls_verify: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Registrations an operator confirmed on purpose (see aaa.nas.service).
    allow_wide_prefix: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    allow_short_secret: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class NasActivity(Base):
    """What the RADIUS workers saw of a NAS: its last request, its last dropped request and why,
    and counts since the row was created (written in batches, see aaa.radius.authlog)."""

    __tablename__ = "nas_activity"

    nas_id: Mapped[int] = mapped_column(ForeignKey("nas.id", ondelete="CASCADE"), primary_key=True)
    requests: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    last_request_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    drops: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    last_drop_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_drop_cause: Mapped[str | None] = mapped_column(String(40))
    last_drop_detail: Mapped[str | None] = mapped_column(String(200))
