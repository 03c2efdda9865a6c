"""Utilization per subnet and per folder: usable, excluded, used, free, percent used."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aaa.tables.ipam import IpAssignment, Subnet
from aaa.vocabulary.ipam import AssignmentKind


@dataclass(frozen=True, slots=True)
class Usage:
    """Counts are in the subnet's units (addresses, or prefixes for a delegation subnet)."""

    usable: int  # usable units less excluded ones
    used: int  # fixed + leased + reserved + gateway
    fixed: int
    leased: int

    @property
    def free(self) -> int:
        return self.usable - self.used

    @property
    def percent(self) -> Decimal:
        if not self.usable:
            return Decimal("100.0")
        return (Decimal(self.used * 100) / self.usable).quantize(Decimal("0.1"), ROUND_HALF_UP)

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.usable + other.usable,
            self.used + other.used,
            self.fixed + other.fixed,
            self.leased + other.leased,
        )


EMPTY = Usage(0, 0, 0, 0)


def subnet_usage(session: Session, subnets: Iterable[Subnet]) -> dict[int, Usage]:
    """One grouped query for the holders; excluded ranges are clipped to the usable bounds."""
    subnets = list(subnets)
    ids = [s.id for s in subnets]
    a = IpAssignment
    counts: dict[tuple[int, AssignmentKind], int] = {}
    for subnet_id, kind, units in session.execute(
        select(a.subnet_id, a.kind, func.sum(a.last - a.first + 1))
        .where(a.subnet_id.in_(ids), a.released_at.is_(None), a.kind != AssignmentKind.EXCLUDED)
        .group_by(a.subnet_id, a.kind)
    ):
        counts[(subnet_id, kind)] = int(units)
    excluded: dict[int, list[tuple[int, int]]] = {}
    for subnet_id, first, last in session.execute(
        select(a.subnet_id, a.first, a.last).where(
            a.subnet_id.in_(ids), a.released_at.is_(None), a.kind == AssignmentKind.EXCLUDED
        )
    ):
        excluded.setdefault(subnet_id, []).append((first, last))
    usage = {}
    for subnet in subnets:
        low, high = subnet.space().usable()
        lost = sum(
            max(0, min(last, high) - max(first, low) + 1) for first, last in excluded.get(subnet.id, ())
        )
        held = {kind: counts.get((subnet.id, kind), 0) for kind in AssignmentKind}
        used = held[AssignmentKind.FIXED] + held[AssignmentKind.DYNAMIC]
        used += held[AssignmentKind.RESERVED] + held[AssignmentKind.GATEWAY]
        usage[subnet.id] = Usage(
            high - low + 1 - lost, used, held[AssignmentKind.FIXED], held[AssignmentKind.DYNAMIC]
        )
    return usage


def folder_usage(session: Session, folder_id: int) -> dict[int, Usage]:
    """Per IP version (4 and 6 counts do not add up meaningfully)."""
    subnets = list(session.scalars(select(Subnet).where(Subnet.folder_id == folder_id)))
    per_subnet = subnet_usage(session, subnets)
    totals: dict[int, Usage] = {}
    for subnet in subnets:
        version = subnet.space().version
        totals[version] = totals.get(version, EMPTY) + per_subnet[subnet.id]
    return totals
