"""IPAM pools as the policy sees them (id, name, kind, mode)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from aaa.policies.inputs import PoolRef
from aaa.tables.ipam import Pool


def load_pools(session: Session) -> dict[int, PoolRef]:
    return {p.id: PoolRef(p.id, p.name, p.kind, p.mode) for p in session.scalars(select(Pool))}
