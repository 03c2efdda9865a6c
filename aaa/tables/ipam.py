"""IPAM tables (Pasta → Subrede → IP fixo): folders, pools, subnets, assignments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aaa.db.base import Base, UtcDateTime, str_enum, utcnow
from aaa.vocabulary.address_space import Space, parse_network
from aaa.vocabulary.audit import Audited
from aaa.vocabulary.ipam import AssignmentKind, PoolKind, PoolMode, ReleaseReason, SubnetPurpose

_ACTIVE = text("released_at IS NULL")


class IpFolder(Base):
    __tablename__ = "ip_folder"
    __audit__ = Audited("ip_folder")

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Pool(Base):
    """Subnets that hand out addresses of one kind under one name (the NAS's pool name too)."""

    __tablename__ = "ip_pool"
    __audit__ = Audited("ip_pool")

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[PoolKind] = mapped_column(str_enum(PoolKind, "pool_kind"))
    mode: Mapped[PoolMode] = mapped_column(str_enum(PoolMode, "pool_mode"), default=PoolMode.NAS)
    # A server lease no accounting session has claimed after this long goes back to the pool.
    lease_seconds: Mapped[int] = mapped_column(Integer, default=300)
    description: Mapped[str] = mapped_column(String(200), default="")


class Subnet(Base):
    __tablename__ = "ip_subnet"
    __audit__ = Audited("subnet")

    id: Mapped[int] = mapped_column(primary_key=True)
    folder_id: Mapped[int] = mapped_column(ForeignKey("ip_folder.id"), index=True)
    cidr: Mapped[str] = mapped_column(String(49), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    purpose: Mapped[SubnetPurpose] = mapped_column(str_enum(SubnetPurpose, "subnet_purpose"))
    unit_len: Mapped[int] = mapped_column(Integer)  # the prefix length of what one holder gets at most
    use_all: Mapped[bool] = mapped_column(Boolean, default=False)
    pool_id: Mapped[int | None] = mapped_column(ForeignKey("ip_pool.id"), index=True)
    nas_id: Mapped[int | None] = mapped_column(ForeignKey("nas.id"))
    description: Mapped[str] = mapped_column(String(200), default="")
    # Bumped by every allocation: the UPDATE is the per-subnet lock (a row lock on PostgreSQL,
    # the write lock on SQLite) that serialises "find next free, then insert".
    revision: Mapped[int] = mapped_column(Integer, default=0)
    # Every unit below this offset is held: "next free" starts its search here, so a subnet filled
    # from the bottom answers without reading its held blocks. Raised by a lowest-free take,
    # lowered by every release (``allocator.lowered``); both only through Core, under the lock.
    free_from: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    folder: Mapped[IpFolder] = relationship()
    pool: Mapped[Pool | None] = relationship()

    def space(self) -> Space:
        network, prefix, bits = parse_network(self.cidr)
        return Space(network, prefix, bits, self.unit_len, self.use_all)


class IpAssignment(Base):
    """An address or prefix held by a service, a reservation, an exclusion or the gateway.

    Released rows stay as the address's history; among active rows a subnet's offsets are unique
    (partial unique index) and never overlap (checked under the subnet lock).
    """

    __tablename__ = "ip_assignment"
    __table_args__ = (
        Index(
            "uq_ip_assignment_active_first",
            "subnet_id",
            "first",
            unique=True,
            postgresql_where=_ACTIVE,
            sqlite_where=_ACTIVE,
        ),
        Index("ix_ip_assignment_active_address", "address", postgresql_where=_ACTIVE, sqlite_where=_ACTIVE),
        Index("ix_ip_assignment_history", "address", "assigned_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    subnet_id: Mapped[int] = mapped_column(ForeignKey("ip_subnet.id"))
    first: Mapped[int] = mapped_column(BigInteger)  # unit offsets from the subnet's network
    last: Mapped[int] = mapped_column(BigInteger)
    address: Mapped[str] = mapped_column(String(49))  # "10.0.0.5", "203.0.113.8/29", "2001:db8::/56"
    prefix_len: Mapped[int] = mapped_column(Integer)
    kind: Mapped[AssignmentKind] = mapped_column(str_enum(AssignmentKind, "assignment_kind"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"), index=True)
    nas_id: Mapped[int | None] = mapped_column(ForeignKey("nas.id"))  # the NAS a lease was offered through
    note: Mapped[str] = mapped_column(String(200), default="")
    assigned_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)  # a lease: last offered
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # a lease no session claimed
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    release_reason: Mapped[ReleaseReason | None] = mapped_column(str_enum(ReleaseReason, "release_reason"))

    subnet: Mapped[Subnet] = relationship()
