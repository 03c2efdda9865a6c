"""Folders, pools and subnets, and what in a subnet is never handed out (gateway, reservations,
excluded ranges). Changes flush, never commit; the audit log follows from the flush.

A pool edit also refreshes the RADIUS caches of the services whose plan uses it (FLUSH_HOOKS).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from aaa.audit.log import record
from aaa.db.paging import page
from aaa.errors import Conflict, Invalid, NotFound
from aaa.ipam import allocator
from aaa.tables.ipam import IpAssignment, IpFolder, Pool, Subnet
from aaa.tables.nas import Nas
from aaa.tables.subscribers import Plan
from aaa.vocabulary.address_space import Space, parse_address, parse_network, text_of
from aaa.vocabulary.ipam import AssignmentKind, PoolKind, PoolMode, ReleaseReason, SubnetPurpose

_DEFAULT_IPV6_UNIT = {SubnetPurpose.DELEGATION: 56}  # otherwise a /64 per subscriber
_POOL_KIND = {  # (IP version, purpose) -> the kind of pool such a subnet can belong to
    (4, SubnetPurpose.DYNAMIC): PoolKind.IPV4,
    (4, SubnetPurpose.BLOCKED): PoolKind.IPV4,
    (6, SubnetPurpose.DYNAMIC): PoolKind.IPV6,
    (6, SubnetPurpose.BLOCKED): PoolKind.IPV6,
    (6, SubnetPurpose.DELEGATION): PoolKind.IPV6_PD,
}
SUBNET_EDITABLE = ("name", "description", "pool_id", "nas_id", "folder_id")
POOL_EDITABLE = ("name", "mode", "lease_seconds", "description")


def _one(session: Session, model: type[Any], key: int, what: str) -> Any:
    row = session.get(model, key)
    if row is None:
        raise NotFound(f"{what} {key} does not exist")
    return row


def get_folder(session: Session, folder_id: int) -> IpFolder:
    return _one(session, IpFolder, folder_id, "IP folder")  # type: ignore[no-any-return]


def get_pool(session: Session, pool_id: int) -> Pool:
    return _one(session, Pool, pool_id, "IP pool")  # type: ignore[no-any-return]


def get_subnet(session: Session, subnet_id: int) -> Subnet:
    return _one(session, Subnet, subnet_id, "subnet")  # type: ignore[no-any-return]


def subnet_by_cidr(session: Session, cidr: str) -> Subnet:
    network, prefix, bits = parse_network(cidr)
    text = f"{text_of(network, bits)}/{prefix}"
    subnet = session.scalar(select(Subnet).where(Subnet.cidr == text))
    if subnet is None:
        raise NotFound(f"no subnet {text}")
    return subnet


def by_name(session: Session, model: type[IpFolder] | type[Pool], name: str) -> Any:
    row = session.scalar(select(model).where(model.name == name))
    if row is None:
        raise NotFound(f"no {'folder' if model is IpFolder else 'pool'} named {name!r}")
    return row


# --- folders ---------------------------------------------------------------------------------


def add_folder(session: Session, name: str, description: str = "") -> IpFolder:
    folder = IpFolder(name=_name(session, IpFolder, name, "folder"), description=description)
    session.add(folder)
    session.flush()
    return folder


def update_folder(session: Session, folder: IpFolder, *, name: str | None, description: str | None) -> None:
    if name is not None:
        folder.name = _name(session, IpFolder, name, "folder", folder.id)
    if description is not None:
        folder.description = description
    session.flush()


def delete_folder(session: Session, folder: IpFolder) -> None:
    if session.scalar(select(exists().where(Subnet.folder_id == folder.id))):
        raise Conflict(f"folder {folder.name!r} still has subnets; move or delete them first")
    session.delete(folder)
    session.flush()


def _name(session: Session, model: type[Any], value: str, what: str, own_id: int | None = None) -> str:
    name = value.strip()
    if not name:
        raise Invalid(f"the {what} needs a name")
    holder = session.scalar(select(model.id).where(model.name == name))
    if holder is not None and holder != own_id:
        raise Conflict(f"a {what} named {name!r} already exists ({what} {holder})")
    return name


# --- pools -----------------------------------------------------------------------------------


def add_pool(
    session: Session,
    name: str,
    kind: PoolKind,
    mode: PoolMode = PoolMode.NAS,
    lease_seconds: int = 300,
    description: str = "",
) -> Pool:
    pool = Pool(name=_pool_name(session, name), kind=kind, mode=mode, description=description)
    pool.lease_seconds = _lease_seconds(lease_seconds)
    session.add(pool)
    session.flush()
    return pool


def update_pool(session: Session, pool: Pool, changes: dict[str, Any]) -> None:
    for field, value in changes.items():
        if field not in POOL_EDITABLE:
            raise Invalid(f"pools have no editable field {field!r}")
        if field == "name":
            value = _pool_name(session, value, pool.id)
        elif field == "lease_seconds":
            value = _lease_seconds(value)
        setattr(pool, field, value)
    session.flush()


def delete_pool(session: Session, pool: Pool) -> None:
    users = [
        what
        for what, query in (
            ("subnets", select(exists().where(Subnet.pool_id == pool.id))),
            ("plans", select(exists().where(_uses(Plan, pool.id)))),
            ("NAS", select(exists().where(_uses(Nas, pool.id)))),
        )
        if session.scalar(query)
    ]
    if users:
        raise Conflict(f"pool {pool.name!r} is still used by {' and '.join(users)}")
    session.delete(pool)
    session.flush()


def _uses(model: type[Plan] | type[Nas], pool_id: int) -> Any:
    return (
        (model.ipv4_pool_id == pool_id) | (model.ipv6_pool_id == pool_id) | (model.ipv6_pd_pool_id == pool_id)
    )


def _pool_name(session: Session, value: str, own_id: int | None = None) -> str:
    name = _name(session, Pool, value, "pool", own_id)
    if len(name) > 64 or any(ch.isspace() for ch in name):
        raise Invalid("a pool name has 1 to 64 characters and no spaces (the NAS's pool has the same name)")
    return name


def _lease_seconds(value: int) -> int:
    if not 30 <= value <= 86400:
        raise Invalid("lease_seconds (how long an unclaimed lease is held) must be 30 to 86400")
    return value


POOL_FIELDS = {
    "ipv4_pool_id": PoolKind.IPV4,
    "ipv6_pool_id": PoolKind.IPV6,
    "ipv6_pd_pool_id": PoolKind.IPV6_PD,
}


def check_pools(session: Session, fields: dict[str, Any]) -> None:
    """A plan's or NAS's pool fields each name a pool of their kind."""
    for field, kind in POOL_FIELDS.items():
        check_pool_kind(session, fields.get(field), kind, field)


def check_pool_kind(session: Session, pool_id: int | None, kind: PoolKind, what: str) -> None:
    """A plan's or NAS's pool field must name a pool of that field's kind."""
    if pool_id is None:
        return
    pool = get_pool(session, pool_id)
    if pool.kind is not kind:
        raise Invalid(f"{what} must be a {kind.value} pool; pool {pool.name!r} is {pool.kind.value}")


# --- subnets ---------------------------------------------------------------------------------


def add_subnet(
    session: Session,
    *,
    folder_id: int,
    cidr: str,
    purpose: SubnetPurpose,
    now: datetime,
    unit_len: int | None = None,
    pool_id: int | None = None,
    nas_id: int | None = None,
    gateway: str | None = None,
    use_all: bool = False,
    name: str = "",
    description: str = "",
) -> Subnet:
    get_folder(session, folder_id)
    network, prefix, bits = parse_network(cidr)
    version = 4 if bits == 32 else 6
    if unit_len is None:
        unit_len = 32 if version == 4 else max(prefix, _DEFAULT_IPV6_UNIT.get(purpose, 64))
    if version == 4 and unit_len != 32:
        raise Invalid("IPv4 subnets are divided into single addresses: unit_len is 32")
    space = Space(network, prefix, bits, unit_len, use_all)
    _check_purpose(session, version, purpose, pool_id)
    if nas_id is not None:
        _one(session, Nas, nas_id, "NAS")
    _check_overlap(session, space)
    subnet = Subnet(
        folder_id=folder_id,
        cidr=space.text(),
        purpose=purpose,
        unit_len=unit_len,
        use_all=use_all,
        pool_id=pool_id,
        nas_id=nas_id,
        name=name,
        description=description,
    )
    session.add(subnet)
    session.flush()
    if gateway:
        hold(session, subnet, AssignmentKind.GATEWAY, gateway, note="gateway", now=now)
    return subnet


def _check_purpose(session: Session, version: int, purpose: SubnetPurpose, pool_id: int | None) -> None:
    if purpose is SubnetPurpose.DELEGATION and version == 4:
        raise Invalid("prefix delegation is IPv6 only")
    kind = _POOL_KIND.get((version, purpose))
    if pool_id is not None:
        if kind is None:
            raise Invalid("a fixed subnet belongs to no pool; its addresses are assigned one by one")
        check_pool_kind(session, pool_id, kind, f"an IPv{version} {purpose.value} subnet's pool")


def _check_overlap(session: Session, space: Space) -> None:
    """Subnets never overlap, so an address has one subnet and one holder."""
    end = space.network + (1 << (space.bits - space.prefix)) - 1
    for other in session.scalars(select(Subnet)):
        o_net, o_prefix, o_bits = parse_network(other.cidr)
        if o_bits == space.bits and o_net <= end and space.network <= o_net + (1 << (o_bits - o_prefix)) - 1:
            raise Conflict(
                f"{space.text()} overlaps subnet {other.id} ({other.cidr}) in folder {other.folder.name!r}"
            )


def update_subnet(session: Session, subnet: Subnet, changes: dict[str, Any]) -> None:
    for field in changes:
        if field not in SUBNET_EDITABLE:
            raise Invalid(f"subnets have no editable field {field!r} (the network and purpose are fixed)")
    if "folder_id" in changes:
        get_folder(session, changes["folder_id"])
    if "pool_id" in changes:
        _check_purpose(session, subnet.space().version, subnet.purpose, changes["pool_id"])
    if changes.get("nas_id") is not None:
        _one(session, Nas, changes["nas_id"], "NAS")
    for field, value in changes.items():
        setattr(subnet, field, value)
    session.flush()


def delete_subnet(session: Session, subnet: Subnet) -> None:
    """Only a subnet no service ever held an address of: the rest is the addresses' history."""
    a = IpAssignment
    if session.scalar(select(exists().where(a.subnet_id == subnet.id, a.service_id.is_not(None)))):
        raise Conflict(f"subnet {subnet.cidr} has assignment history; it stays so the history stays readable")
    for row in session.scalars(select(a).where(a.subnet_id == subnet.id)):
        session.delete(row)
    session.delete(subnet)
    session.flush()


def containing(session: Session, address: str) -> tuple[Subnet, int, int, int]:
    """The subnet holding ``address`` (or prefix), and the block's offsets and length in it."""
    value, length, bits = parse_address(address)
    for subnet in session.scalars(select(Subnet)):
        space = subnet.space()
        if space.bits == bits and space.network <= value < space.network + (1 << (bits - space.prefix)):
            use = length or space.unit
            first, last = space.block(value, use)
            return subnet, first, last, use
    raise Invalid(f"no subnet contains {address}; add the subnet to a folder first")


# --- what is never handed out ----------------------------------------------------------------


def hold(
    session: Session,
    subnet: Subnet,
    kind: AssignmentKind,
    address: str,
    *,
    note: str,
    now: datetime,
    length: int | None = None,
) -> IpAssignment:
    """A gateway or a reservation (one address or aligned block)."""
    row = allocator.take(session, subnet, kind, address=address, length=length, note=note, now=now)
    _audit(session, subnet, row, f"{kind.value} {row.address}" + (f": {note}" if note else ""))
    return row


def exclude(
    session: Session, subnet: Subnet, start: str, end: str, *, note: str, now: datetime
) -> IpAssignment:
    """An excluded range from ``start`` to ``end`` inclusive: any run of units, aligned or not."""
    allocator.lock(session, subnet.id)
    space = subnet.space()
    first = space.block(parse_address(start, space.bits)[0], space.unit)[0]
    last = space.block(parse_address(end, space.bits)[0], space.unit)[0]
    if last < first:
        raise Invalid(f"the range ends ({end}) before it starts ({start})")
    text = f"{text_of(space.address_of(first), space.bits)}-{text_of(space.address_of(last), space.bits)}"
    holder = allocator.overlapping(session, subnet.id, first, last)
    if holder is not None:
        raise Conflict(allocator.conflict(session, text, holder))
    row = IpAssignment(
        subnet_id=subnet.id,
        first=first,
        last=last,
        address=text,
        prefix_len=space.unit,
        kind=AssignmentKind.EXCLUDED,
        note=note,
        assigned_at=now,
    )
    session.add(row)
    session.flush()
    _audit(session, subnet, row, f"excluded {text}" + (f": {note}" if note else ""))
    return row


def remove_hold(session: Session, subnet: Subnet, hold_id: int, now: datetime) -> None:
    row = session.get(IpAssignment, hold_id)
    if row is None or row.subnet_id != subnet.id or row.released_at is not None:
        raise NotFound(f"subnet {subnet.cidr} has no active reservation, exclusion or gateway {hold_id}")
    if row.kind in (AssignmentKind.FIXED, AssignmentKind.DYNAMIC):
        raise Conflict(f"{row.address} is held by service {row.service_id}; unassign it from the service")
    allocator.release(session, row, ReleaseReason.UNASSIGNED, now)
    session.flush()
    _audit(session, subnet, row, f"{row.kind.value} {row.address} removed")


def _audit(session: Session, subnet: Subnet, row: IpAssignment, note: str) -> None:
    record(
        session,
        entity="subnet",
        entity_id=subnet.id,
        action="ip_hold",
        changes={"address": [None, row.address]}
        if row.released_at is None
        else {"address": [row.address, None]},
        note=f"{subnet.cidr}: {note}",
    )


def list_folders(session: Session, *, limit: int, offset: int) -> tuple[list[IpFolder], int]:
    return page(session, select(IpFolder), IpFolder.name, limit=limit, offset=offset)


def list_pools(session: Session, *, limit: int, offset: int) -> tuple[list[Pool], int]:
    return page(session, select(Pool), Pool.name, limit=limit, offset=offset)


def list_subnets(
    session: Session, *, folder_id: int | None, pool_id: int | None, limit: int, offset: int
) -> tuple[list[Subnet], int]:
    query = select(Subnet)
    if folder_id is not None:
        query = query.where(Subnet.folder_id == folder_id)
    if pool_id is not None:
        query = query.where(Subnet.pool_id == pool_id)
    return page(session, query, Subnet.id, limit=limit, offset=offset)


def holds_of(
    session: Session, subnet: Subnet, *, kind: AssignmentKind | None, limit: int, offset: int
) -> tuple[list[IpAssignment], int]:
    """What the subnet holds now, by address."""
    query = select(IpAssignment).where(*allocator.active(subnet.id))
    if kind is not None:
        query = query.where(IpAssignment.kind == kind)
    return page(session, query, IpAssignment.first, limit=limit, offset=offset)
