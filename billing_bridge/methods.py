"""Formas de cobrança: the billing methods and their rules (suspension days, minimum, reduced
speed, late fee and interest). The table lives beside the service (aaa.tables.subscribers: the
RADIUS snapshot reads its reduced speed); the bridge writes it. A change of the reduced speed
reaches the online subscribers paying with the method (FLUSH_HOOKS: caches, outbox)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from aaa.errors import Conflict, NotFound
from aaa.tables.subscribers import BillingMethod


def list_methods(session: Session) -> list[BillingMethod]:
    return list(session.scalars(select(BillingMethod).order_by(BillingMethod.id)))


def add_method(session: Session, **fields: Any) -> BillingMethod:
    if session.scalar(select(BillingMethod).where(BillingMethod.name == fields["name"])):
        raise Conflict(f"a billing method named {fields['name']!r} already exists")
    method = BillingMethod(**fields)
    session.add(method)
    session.flush()
    return method


def update_method(session: Session, method_id: int, **changes: Any) -> BillingMethod:
    method = session.get(BillingMethod, method_id)
    if method is None:
        raise NotFound(f"billing method {method_id} does not exist")
    for field, value in changes.items():
        setattr(method, field, value)
    session.flush()
    return method
