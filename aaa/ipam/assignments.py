"""A service's addresses: fixed assignment (pasta → subrede → próximo disponível → salvar),
removal, and who holds or held an address.

A fixed address assigned, moved or removed sets off the FLUSH_HOOKS (aaa.composition): audit,
the holder's RADIUS cache and, when it is online, the enforcement outbox.
"""

from __future__ import annotations

from datetime import datetime

import netaddr
from sqlalchemy import select
from sqlalchemy.orm import Session

from aaa.audit.log import actor_of, entry_row, record
from aaa.db.bulk import insert_rows
from aaa.errors import Conflict, Invalid, NotFound
from aaa.ipam import allocator
from aaa.ipam.subnets import containing, get_subnet
from aaa.tables.audit import AuditEntry
from aaa.tables.ipam import IpAssignment, Subnet
from aaa.tables.subscribers import Service
from aaa.vocabulary.address_space import parse_address
from aaa.vocabulary.attributes import fixed_attribute
from aaa.vocabulary.ipam import AssignmentKind, ReleaseReason, SubnetPurpose
from aaa.vocabulary.subscribers import ServiceStatus

_SINGLE = frozenset({"Framed-IP-Address", "Framed-IPv6-Prefix", "Delegated-IPv6-Prefix"})  # one of each


def assign_fixed(
    session: Session,
    service: Service,
    *,
    now: datetime,
    subnet_id: int | None = None,
    address: str | None = None,
    length: int | None = None,
    note: str = "",
) -> IpAssignment:
    """Give ``service`` an address for good: ``address`` (its subnet found if not given) or the
    lowest free one of ``subnet_id``. A routed block (``length`` < 32) becomes a Framed-Route."""
    if service.status is ServiceStatus.CANCELLED:
        raise Conflict(f"service {service.id} is cancelled; it cannot hold an address")
    if subnet_id is None:
        if address is None:
            raise Invalid("give a subnet (to take its next free address) or an address")
        subnet = containing(session, address)[0]
    else:
        subnet = get_subnet(session, subnet_id)
    if subnet.purpose not in (SubnetPurpose.FIXED, SubnetPurpose.DELEGATION):
        raise Conflict(
            f"subnet {subnet.cidr} is a {subnet.purpose.value} pool; fixed addresses come from fixed "
            "(or IPv6 delegation) subnets"
        )
    attribute = _attribute(subnet, address, length)
    if attribute in _SINGLE:
        for other in fixed_of(session, service.id):
            if fixed_attribute(other.address, other.prefix_len, other.subnet.purpose)[0] == attribute:
                raise Conflict(
                    f"service {service.id} already has {other.address} as its {attribute}; unassign it first"
                )
    row = allocator.take(
        session,
        subnet,
        AssignmentKind.FIXED,
        address=address,
        length=length,
        service_id=service.id,
        note=note,
        now=now,
    )
    _audit(session, service, "ip_assigned", [None, row.address], f"fixed {row.address} from {subnet.cidr}")
    return row


def assign_fixed_many(
    session: Session, wanted: list[tuple[Service, str]], *, note: str, now: datetime
) -> list[IpAssignment]:
    """``assign_fixed`` for many (service, single address) pairs at once: subnets found in one
    read, each subnet locked once, one entry per assignment in the services' history. Raises
    Conflict for the first one that cannot be assigned (the caller then goes one by one). For
    new services: the caller records their changes (``allocator.take_addresses``)."""
    subnets = list(session.scalars(select(Subnet).where(Subnet.purpose == SubnetPurpose.FIXED)))
    spaces = [(subnet, netaddr.IPNetwork(subnet.cidr)) for subnet in subnets]
    by_subnet: dict[int, list[tuple[int, str]]] = {}
    services: dict[int, Service] = {}
    for service, address in wanted:
        if service.status is ServiceStatus.CANCELLED:
            raise Conflict(f"service {service.id} is cancelled; it cannot hold an address")
        ip = netaddr.IPAddress(address)
        subnet = next((sub for sub, net in spaces if ip in net), None)
        if subnet is None:
            raise NotFound(f"no fixed subnet contains {address}")
        by_subnet.setdefault(subnet.id, []).append((service.id, address))
        services[service.id] = service
    rows = []
    entries = []
    actor = actor_of(session)
    for subnet in subnets:
        for row in allocator.take_addresses(
            session, subnet, by_subnet.get(subnet.id, []), note=note, now=now
        ):
            rows.append(row)
            entries.append(
                entry_row(
                    actor,
                    entity="service",
                    entity_id=row.service_id,
                    action="ip_assigned",
                    customer_id=services[row.service_id or 0].customer_id,
                    service_id=row.service_id,
                    changes={"address": [None, row.address]},
                    note=f"fixed {row.address} from {subnet.cidr}",
                )
            )
    insert_rows(session, AuditEntry, entries)
    return rows


def set_fixed_ipv4(session: Session, service: Service, address: str | None, now: datetime) -> None:
    """Make ``address`` (or none) the service's Framed-IP-Address, replacing the current one."""
    current = fixed_ipv4_of(held_by(session, service.id))
    if current is not None and current.address == address:
        return
    if current is not None:
        unassign(session, service, current.id, now)
    if address:
        assign_fixed(session, service, address=address, length=32, now=now)


def fixed_ipv4_of(held: list[IpAssignment]) -> IpAssignment | None:
    """Among a service's addresses, its fixed Framed-IP-Address (one IPv4 address), if any."""
    return next(
        (
            row
            for row in held
            if row.kind is AssignmentKind.FIXED and row.prefix_len == 32 and ":" not in row.address
        ),
        None,
    )


def _attribute(subnet: Subnet, address: str | None, length: int | None) -> str:
    """The attribute the new assignment will travel in, known before anything is written."""
    space = subnet.space()
    given = parse_address(address, space.bits)[1] if address else None
    return fixed_attribute(":" if space.version == 6 else "", length or given or space.unit, subnet.purpose)[
        0
    ]


def unassign(session: Session, service: Service, assignment_id: int, now: datetime) -> IpAssignment:
    row = session.get(IpAssignment, assignment_id)
    if row is None or row.service_id != service.id or row.released_at is not None:
        raise NotFound(f"service {service.id} holds no address with assignment id {assignment_id}")
    allocator.release(session, row, ReleaseReason.UNASSIGNED, now)
    session.flush()
    _audit(session, service, "ip_unassigned", [row.address, None], f"{row.kind.value} {row.address} released")
    return row


def release_all(session: Session, service: Service, reason: ReleaseReason, now: datetime) -> None:
    """Cancellation frees every address the service holds."""
    for row in held_by(session, service.id):
        allocator.release(session, row, reason, now)
        _audit(session, service, "ip_unassigned", [row.address, None], f"{row.address} freed: {reason.value}")
    session.flush()


def move_fixed(session: Session, old: Service, new: Service) -> list[str]:
    """Plan migration: the new service keeps the old one's fixed addresses."""
    moved = []
    for row in fixed_of(session, old.id):
        row.service_id = new.id
        moved.append(row.address)
    session.flush()
    return moved


def held_by(session: Session, service_id: int) -> list[IpAssignment]:
    a = IpAssignment
    return list(
        session.scalars(select(a).where(a.service_id == service_id, a.released_at.is_(None)).order_by(a.id))
    )


def held_by_services(session: Session, service_ids: list[int]) -> dict[int, list[IpAssignment]]:
    """``held_by`` for many services in one query (lists)."""
    a = IpAssignment
    held: dict[int, list[IpAssignment]] = {}
    if not service_ids:
        return held
    query = select(a).where(a.service_id.in_(service_ids), a.released_at.is_(None)).order_by(a.id)
    for row in session.scalars(query):
        held.setdefault(row.service_id, []).append(row)  # type: ignore[arg-type]
    return held


def addresses_by_service(session: Session, service_ids: list[int]) -> dict[int, list[str]]:
    """What each service holds now, fixed and leased, for lists (one query)."""
    a = IpAssignment
    held: dict[int, list[str]] = {}
    for service_id, address in session.execute(
        select(a.service_id, a.address)
        .where(a.service_id.in_(service_ids), a.released_at.is_(None))
        .order_by(a.service_id, a.id)
    ):
        held.setdefault(service_id or 0, []).append(address)  # the filter leaves no None
    return held


def fixed_of(session: Session, service_id: int) -> list[IpAssignment]:
    return [row for row in held_by(session, service_id) if row.kind is AssignmentKind.FIXED]


def holder_of(session: Session, address: str) -> IpAssignment | None:
    """The active assignment whose block contains ``address``, if any."""
    subnet, first, last, _ = containing(session, address)
    return allocator.overlapping(session, subnet.id, first, last)


def history_of(session: Session, address: str, limit: int = 100) -> tuple[Subnet, list[IpAssignment]]:
    """Every assignment, current and past, whose block contained ``address``; newest first."""
    subnet, first, last, _ = containing(session, address)
    a = IpAssignment
    rows = session.scalars(
        select(a)
        .where(a.subnet_id == subnet.id, a.first <= last, a.last >= first)
        .order_by(a.assigned_at.desc(), a.id.desc())
        .limit(limit)
    )
    return subnet, list(rows)


def _audit(session: Session, service: Service, action: str, change: list[str | None], note: str) -> None:
    record(
        session,
        entity="service",
        entity_id=service.id,
        action=action,
        customer_id=service.customer_id,
        service_id=service.id,
        changes={"address": change},
        note=note,
    )


def holder_login(session: Session, service_id: int) -> str | None:
    """The login of a hold's service (its former login once cancelled)."""
    service = session.get(Service, service_id)
    return (service.login or service.former_login) if service else None
