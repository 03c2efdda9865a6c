"""Bodies of /ipam and of a service's addresses."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from aaa.vocabulary.ipam import AssignmentKind, PoolKind, PoolMode, ReleaseReason, SubnetPurpose
from admin_api.schemas.common import Id, In, IpText, Note, Out, PrefixLen


class HeldOut(Out):
    id: int
    address: str
    prefix_len: int
    kind: AssignmentKind
    subnet_id: int
    assigned_at: datetime


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
