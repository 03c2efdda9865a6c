"""Open charges from an ERP export, on the imported service (the billing bridge's charges)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from aaa.errors import NotFound
from aaa.importers.source import SourceCharge, fingerprint
from aaa.tables.subscribers import Service
from billing_bridge.charges import add_charge
from billing_bridge.models import ChargeKind


def write_charge(context: Any, record: SourceCharge) -> tuple[str, str]:
    """``context``: aaa.importers.apply.Context."""
    if context.target("charge", record.key) is not None:
        return "unchanged", ""
    service = context.session.scalar(select(Service).where(Service.login == record.login))
    if service is None:
        raise NotFound(f"no service has the login {record.login!r}")
    charge = add_charge(
        context.session,
        service,
        kind=ChargeKind.OTHER,
        due_date=record.due_date,
        amount=record.amount,
        description=record.description[:200] or "importado",
    )
    context.link("charge", record.key, charge.id, fingerprint(record))
    return "created", ""
