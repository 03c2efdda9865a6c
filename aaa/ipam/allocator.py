"""Taking addresses out of subnets without ever handing one out twice, and giving them back.

Every taking runs under the subnet's lock (``lock``), then finds the lowest free block with one
window query over the active assignments (no address is iterated), then inserts; the partial
unique index on (subnet, first offset) is the last line of defence if a caller forgot the lock.
Functions flush, never commit: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import chain
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, and_, bindparam, case, exists, func, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningUpdate, Update

from aaa.db.bulk import among, column_values, insert_rows
from aaa.errors import Conflict, NotFound
from aaa.tables.accounting import AcctSession
from aaa.tables.ipam import IpAssignment, Pool, Subnet
from aaa.tables.subscribers import Service
from aaa.vocabulary.address_space import Space, first_fit, parse_address, text_of
from aaa.vocabulary.ipam import AssignmentKind, ReleaseReason

# A Stop releases a lease only if the lease was offered before its session started (give or take
# the NAS's clock and Acct-Delay-Time); a lease offered again later belongs to a newer session.
STOP_SLACK = timedelta(seconds=60)
_HOLDERS = (AssignmentKind.FIXED, AssignmentKind.DYNAMIC, AssignmentKind.RESERVED, AssignmentKind.GATEWAY)


class PoolExhausted(Conflict):
    reason = "pool_exhausted"


class NoSuchPool(NotFound):
    reason = "no_such_pool"


def active(subnet_id: int) -> tuple[ColumnElement[bool], ...]:
    a = IpAssignment
    return (a.subnet_id == subnet_id, a.released_at.is_(None))


def lock(session: Session, subnet_id: int) -> int:
    """The per-subnet lock (a row lock on PostgreSQL, the database write lock on SQLite); returns
    the subnet's ``free_from`` as of holding it."""
    return int(
        session.execute(
            update(Subnet)
            .where(Subnet.id == subnet_id)
            .values(revision=Subnet.revision + 1)
            .returning(Subnet.free_from)
            .execution_options(synchronize_session=False)
        ).scalar_one()
    )


def overlapping(session: Session, subnet_id: int, first: int, last: int) -> IpAssignment | None:
    """The active assignment holding any unit of [first, last] (there is at most one per unit)."""
    a = IpAssignment
    return session.scalar(select(a).where(*active(subnet_id), a.first <= last, a.last >= first).limit(1))


def lower_free_from(subnet_id: Any, first: Any) -> Update:
    """A subnet's ``free_from`` comes down to a freed offset (never up): one statement whose
    operands are parameters (SQLite, Python) or another statement's columns (PostgreSQL)."""
    return (
        update(Subnet)
        .where(Subnet.id == subnet_id)
        .values(free_from=case((first < Subnet.free_from, first), else_=Subnet.free_from))
        .execution_options(synchronize_session=False)
    )


def lowered(connection: Connection, released: list[tuple[int, int]]) -> None:
    """After releases, each subnet's ``free_from`` comes down to its lowest freed offset."""
    lowest: dict[int, int] = {}
    for subnet_id, first in released:
        lowest[subnet_id] = min(first, lowest.get(subnet_id, first))
    if lowest:
        connection.execute(
            lower_free_from(bindparam("subnet"), bindparam("lowest", type_=BigInteger())),
            [{"subnet": subnet_id, "lowest": first} for subnet_id, first in sorted(lowest.items())],
        )


def free_gaps(session: Session, subnet_id: int, low: int, high: int) -> Iterator[tuple[int, int]]:
    """Free offset intervals of [low, high], lowest first.

    Active assignments are read in index order, a chunk at a time (64 rows, then 4× more up to
    4,096), and a window function pairs each with the next one, so only the gaps come back and
    the scan stops at the first chunk that holds the answer.
    """
    a = IpAssignment

    def lowest_from(start: int) -> Any:
        return select(func.min(a.first)).where(*active(subnet_id), a.first >= start).scalar_subquery()

    below = select(a.last).where(*active(subnet_id), a.first < low).order_by(a.first.desc()).limit(1)
    straddling, lowest = session.execute(select(below.scalar_subquery(), lowest_from(low))).one()
    if straddling is not None and straddling >= low:  # a block that starts below ``low`` covers it
        low = straddling + 1
        lowest = session.scalar(select(lowest_from(low)))
    if lowest is None:
        if low <= high:
            yield low, high
        return
    if lowest > low:
        yield low, min(lowest - 1, high)
    after, size = low - 1, 64
    while True:
        chunk = (
            select(a.first, a.last).where(*active(subnet_id), a.first > after).order_by(a.first).limit(size)
        )
        rows = chunk.subquery()
        paired = select(
            rows.c.first, rows.c.last, func.lead(rows.c.first).over(order_by=rows.c.first).label("following")
        ).subquery()
        found = session.execute(
            select(paired.c.first, paired.c.last, paired.c.following)
            .where(or_(paired.c.following.is_(None), paired.c.following > paired.c.last + 1))
            .order_by(paired.c.first)
        ).all()
        for first, last, following in found:
            if following is None:  # the chunk's last row: what follows lies beyond the chunk
                following = session.scalar(
                    select(func.min(a.first)).where(*active(subnet_id), a.first > last)
                )
                after = first
            start, end = max(last + 1, low), high if following is None else min(following - 1, high)
            if start > high:
                return
            if start <= end:
                yield start, end
            if following is None:
                return
        size = min(size * 4, 4096)


def next_free(session: Session, subnet: Subnet, length: int | None = None) -> str:
    """The lowest free address (or aligned prefix of ``length``): "procurar próximo disponível"."""
    space = subnet.space()
    length = space.unit if length is None else length
    free_from = session.scalar(select(Subnet.free_from).where(Subnet.id == subnet.id)) or 0
    return text_of(
        space.address_of(_lowest(session, subnet, space, length, free_from)[0]), space.bits, length
    )


def _lowest(session: Session, subnet: Subnet, space: Space, length: int, free_from: int) -> tuple[int, int]:
    """The lowest free block of ``length``, and where the first free unit is (a new ``free_from``)."""
    space.block(space.network, length)  # validates the length
    low, high = space.usable()
    gaps = free_gaps(session, subnet.id, max(low, free_from), high)
    first_gap = next(gaps, None)
    offset = None if first_gap is None else first_fit(chain([first_gap], gaps), space.units_in(length))
    if first_gap is None or offset is None:
        raise Conflict(f"subnet {subnet.cidr} has no free /{length} left")
    return offset, first_gap[0]


def take(
    session: Session,
    subnet: Subnet,
    kind: AssignmentKind,
    *,
    address: str | None = None,
    length: int | None = None,
    service_id: int | None = None,
    nas_id: int | None = None,
    note: str = "",
    expires_at: datetime | None = None,
    now: datetime,
) -> IpAssignment:
    """Hold ``address`` (or the lowest free block of ``length``) in ``subnet``, under its lock.

    Raises Conflict naming whoever holds an overlapping block, or why the address cannot be used.
    """
    free_from = lock(session, subnet.id)
    space = subnet.space()
    if address is None:
        length = space.unit if length is None else length
        first, floor = _lowest(session, subnet, space, length, free_from)
        last = first + space.units_in(length) - 1
        floor = last + 1 if first == floor else floor  # every unit below ``floor`` is now held
        if floor != free_from:
            session.execute(
                update(Subnet)
                .where(Subnet.id == subnet.id)
                .values(free_from=floor)
                .execution_options(synchronize_session=False)
            )
    else:
        value, given, _ = parse_address(address, space.bits)
        length = length or given or space.unit
        first, last = space.block(value, length)
        if kind in _HOLDERS:
            _check_usable(space, first, last)
        holder = overlapping(session, subnet.id, first, last)
        if holder is not None:
            raise Conflict(conflict(session, text_of(space.address_of(first), space.bits, length), holder))
    row = IpAssignment(
        subnet_id=subnet.id,
        first=first,
        last=last,
        address=text_of(space.address_of(first), space.bits, length),
        prefix_len=length,
        kind=kind,
        service_id=service_id,
        nas_id=nas_id,
        note=note,
        assigned_at=now,
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    return row


def take_addresses(
    session: Session, subnet: Subnet, wanted: list[tuple[int, str]], *, note: str, now: datetime
) -> list[IpAssignment]:
    """``take`` for many given single addresses of one subnet (service id, address), under one
    lock and one overlap query: what an import of thousands of fixed IPs needs. Raises Conflict
    naming the first address that is not free (the caller then goes one by one). The rows are
    inserted without the ORM's flush, so without its change-feed and outbox hooks: the caller
    records the services' changes (an import of new services has nothing online to enforce)."""
    if not wanted:
        return []
    lock(session, subnet.id)
    space = subnet.space()
    blocks = []
    for service_id, address in wanted:
        value, _, _ = parse_address(address, space.bits)
        first, last = space.block(value, space.unit)
        _check_usable(space, first, last)
        blocks.append((service_id, first, last))
    low, high = min(b[1] for b in blocks), max(b[2] for b in blocks)
    a = IpAssignment
    # A unit is one offset: what overlaps a wanted unit is a holder of that very unit, or a wider
    # block (routed, reserved, excluded) across it. Reading every holder between the lowest and
    # the highest wanted address instead grows with the subnet, chunk after chunk of an import.
    overlapping = or_(
        among(session, a.first, sorted({b[1] for b in blocks})),
        and_(a.last > a.first, a.first <= high, a.last >= low),
    )
    held = {row.first: row for row in session.scalars(select(a).where(*active(subnet.id), overlapping))}
    seen: set[int] = set()
    rows = []
    for service_id, first, last in blocks:
        address = text_of(space.address_of(first), space.bits, space.unit)
        holder = held.get(first) or next((h for h in held.values() if h.first <= first <= h.last), None)
        if holder is not None:
            raise Conflict(conflict(session, address, holder))
        if first in seen:
            raise Conflict(f"{address} is given to two services in the same import")
        seen.add(first)
        rows.append(
            IpAssignment(
                subnet_id=subnet.id, first=first, last=last, address=address, prefix_len=space.unit,
                kind=AssignmentKind.FIXED, service_id=service_id, note=note, assigned_at=now,
            )
        )  # fmt: skip
    insert_rows(session, IpAssignment, [column_values(row) for row in rows])
    return rows


def _check_usable(space: Space, first: int, last: int) -> None:
    low, high = space.usable()
    if first >= low and last <= high:
        return
    if first < low:
        what = "network address" if space.version == 4 else "Subnet-Router anycast address (RFC 4291)"
    else:
        what = "broadcast address"
    raise Conflict(f"the block includes the {what} of {space.text()}; it cannot be handed out")


def conflict(session: Session, wanted: str, holder: IpAssignment) -> str:
    """How a conflict reads: what was asked for, and who holds the block that overlaps it."""
    if holder.kind in (AssignmentKind.FIXED, AssignmentKind.DYNAMIC):
        service = session.get(Service, holder.service_id) if holder.service_id else None
        login = (service.login or service.former_login) if service else None
        lease = "leased" if holder.kind is AssignmentKind.DYNAMIC else "assigned"
        who = f"is already {lease} to service {holder.service_id} (login {login!r})"
    elif holder.kind is AssignmentKind.GATEWAY:
        who = "is the subnet's gateway"
    else:
        who = f"is {holder.kind.value}" + (f": {holder.note}" if holder.note else "")
    return (
        f"{wanted} {who}" if holder.address == wanted else f"{wanted} overlaps {holder.address}, which {who}"
    )


def release(session: Session, row: IpAssignment, reason: ReleaseReason, now: datetime) -> None:
    row.released_at = now
    row.release_reason = reason
    lowered(session.connection(), [(row.subnet_id, row.first)])


# --- dynamic leases ------------------------------------------------------------------------------


def lease(session: Session, *, service_id: int, pool_id: int, nas_id: int, now: datetime) -> IpAssignment:
    """A lease for one session: the service's own unused lease, else its previous address when
    free (sticky), else the lowest free block of the first pool subnet with room."""
    found = session.execute(
        select(Subnet, Pool.lease_seconds, Pool.name)
        .join(Pool, Subnet.pool_id == Pool.id)
        .where(Subnet.pool_id == pool_id, or_(Subnet.nas_id.is_(None), Subnet.nas_id == nas_id))
        .order_by(Subnet.id)
    ).all()
    if not found:
        name = session.scalar(select(Pool.name).where(Pool.id == pool_id)) or pool_id
        raise NoSuchPool(f"pool {name} has no subnet for NAS {nas_id}")
    subnets = [subnet for subnet, _, _ in found]
    _, lease_seconds, pool_name = found[0]
    expires = now + timedelta(seconds=lease_seconds)
    by_id = {s.id: s for s in subnets}
    a = IpAssignment
    previous = session.scalars(
        select(a)
        .where(a.service_id == service_id, a.kind == AssignmentKind.DYNAMIC, a.subnet_id.in_(by_id))
        .order_by(a.id.desc())
        .limit(4)
    ).all()
    for row in previous:
        if row.released_at is None and not _in_use(session, service_id, row.address):
            row.assigned_at, row.expires_at, row.nas_id = now, expires, nas_id
            session.flush()
            return row
    sticky = next((row for row in previous if row.released_at is not None), None)
    if sticky is not None:
        try:
            return take(
                session,
                by_id[sticky.subnet_id],
                AssignmentKind.DYNAMIC,
                address=sticky.address,
                length=sticky.prefix_len,
                service_id=service_id,
                nas_id=nas_id,
                expires_at=expires,
                now=now,
            )
        except Conflict:
            pass
    for subnet in subnets:
        try:
            return take(
                session,
                subnet,
                AssignmentKind.DYNAMIC,
                service_id=service_id,
                nas_id=nas_id,
                expires_at=expires,
                now=now,
            )
        except Conflict:
            continue
    raise PoolExhausted(f"pool {pool_name} is exhausted")


def _holds(s: type[AcctSession], address: object) -> ColumnElement[bool]:
    return or_(s.framed_ip == address, s.framed_ipv6_prefix == address, s.delegated_ipv6_prefix == address)


def _in_use(session: Session, service_id: int, address: str) -> bool:
    """Whether one of the service's open sessions still has the address (through its login index)."""
    s = AcctSession
    login = select(Service.login).where(Service.id == service_id).scalar_subquery()
    return bool(
        session.scalar(select(exists().where(s.login == login, s.stop_time.is_(None), _holds(s, address))))
    )


def release_on_stop(login: Any, address: Any, latest: Any, now: Any) -> ReturningUpdate[int, int]:
    """Accounting Stop frees the dynamic lease of that address held by the stopped login and
    offered no later than the session began (``latest`` = its start + STOP_SLACK; an older
    session's late Stop must not free a newer lease). Returns (subnet_id, first) of each freed
    lease for ``lowered``. The operands are parameters (SQLite, one Stop at a time) or the
    columns of the batch (PostgreSQL, every Stop of a group commit in one statement)."""
    a = IpAssignment
    return (
        update(a)
        .where(
            a.service_id == Service.id,
            Service.login == login,
            a.address == address,
            a.kind == AssignmentKind.DYNAMIC,
            a.released_at.is_(None),
            a.assigned_at <= latest,
        )
        .values(released_at=now, release_reason=ReleaseReason.STOP)
        .returning(a.subnet_id, a.first)
        .execution_options(synchronize_session=False)
    )


def release_stopped(connection: Connection, stops: list[dict[str, Any]], now: datetime) -> None:
    """Accounting Stop, one by one (SQLite; PostgreSQL runs ``release_on_stop`` over the whole
    batch inside its merge). Each dict has login, start and addresses."""
    # Parameter names unlike any column: an UPDATE would take a same-named one as a SET value.
    statement = release_on_stop(bindparam("stop_login"), bindparam("stop_address"), bindparam("latest"), now)
    freed = [
        tuple(row)
        for stop in stops
        for address in stop["addresses"]
        for row in connection.execute(
            statement,
            {"stop_login": stop["login"], "stop_address": address, "latest": stop["start"] + STOP_SLACK},
        )
    ]
    lowered(connection, freed)  # type: ignore[arg-type]


def release_nas(connection: Connection, nas_id: int, event_time: datetime) -> None:
    """Accounting-On/Off: the NAS dropped every session, so every lease it was offered is free."""
    a = IpAssignment
    freed = connection.execute(
        update(a)
        .where(
            a.kind == AssignmentKind.DYNAMIC,
            a.released_at.is_(None),
            a.nas_id == nas_id,
            a.assigned_at <= event_time,
        )
        .values(released_at=event_time, release_reason=ReleaseReason.NAS_REBOOT)
        .returning(a.subnet_id, a.first)
    ).all()
    lowered(connection, [(subnet_id, first) for subnet_id, first in freed])


def reap_leases(session: Session, now: datetime) -> int:
    """Free leases whose offer expired and that no open session of their service holds."""
    a, s = IpAssignment, AcctSession
    held = (
        select(s.id)
        .join(Service, Service.login == s.login)
        .where(
            Service.id == a.service_id,
            s.stop_time.is_(None),
            _holds(s, a.address),
        )
    )
    freed = session.execute(
        update(a)
        .where(
            a.kind == AssignmentKind.DYNAMIC,
            a.released_at.is_(None),
            and_(a.expires_at.is_not(None), a.expires_at < now),
            ~exists(held),
        )
        .values(released_at=now, release_reason=ReleaseReason.EXPIRED)
        .returning(a.subnet_id, a.first)
        .execution_options(synchronize_session=False)
    ).all()
    lowered(session.connection(), [(subnet_id, first) for subnet_id, first in freed])
    return len(freed)
