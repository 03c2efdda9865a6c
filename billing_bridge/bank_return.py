"""Importing a bank return file (arquivo retorno): each liquidation line pays the invoice its
nosso número names, through the same path as a gateway's notification (idempotent per boleto:
the external id is "boleto:<bank>:<nosso número>"), reckoned at the day the payer paid. A file is
imported once (by its SHA-256); a second import shows the first one's report and applies nothing.

Report per line: paid, already_paid (the invoice was settled before, or the same boleto came in
an earlier line or file), unknown (no invoice of ours has that nosso número: the money is kept
as a flagged notification for an operator), amount_mismatch (flagged too), cancelled_invoice,
not_a_payment (entries, write-offs, fees: nothing to do) and invalid (a line that does not parse).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from aaa.errors import Invalid
from billing_bridge import cnab
from billing_bridge.boleto import BancoDoBrasil
from billing_bridge.invoices import state_of
from billing_bridge.models import BankReturnFile, GatewayCharge, Invoice, NotificationStatus
from billing_bridge.notifications import notify
from billing_bridge.routine import Transition

OUTCOMES = (
    "paid",
    "already_paid",
    "unknown",
    "amount_mismatch",
    "cancelled_invoice",
    "not_a_payment",
    "invalid",
)


def _invoice_of(session: Session, agreement: BancoDoBrasil | None, nosso_numero: str) -> int | None:
    if agreement is not None and (sequence := agreement.sequence_of(nosso_numero)) is not None:
        return sequence
    return session.scalar(select(GatewayCharge.invoice_id).where(GatewayCharge.nosso_numero == nosso_numero))


def import_return(
    session: Session,
    content: bytes,
    name: str,
    *,
    agreement: BancoDoBrasil | None,
    by: str,
    now: datetime,
    zone: ZoneInfo,
    cash_box: str,
) -> tuple[BankReturnFile, bool, list[Transition]]:
    """Returns (the file's record with its report, whether this call imported it, services moved)."""
    digest = hashlib.sha256(content).hexdigest()
    known = session.scalar(select(BankReturnFile).where(BankReturnFile.sha256 == digest))
    if known is not None:
        return known, False, []
    try:
        parsed = cnab.parse(content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid(f"not a return file this server reads: {exc}") from None
    lines: list[dict[str, Any]] = [
        {"line": p.number, "outcome": "invalid", "reason": p.reason} for p in parsed.problems
    ]
    moved: list[Transition] = []
    for line in parsed.lines:
        entry: dict[str, Any] = {
            "line": line.number,
            "nosso_numero": line.nosso_numero,
            "code": line.code,
            "amount_paid": str(line.amount_paid),
            "paid_on": line.paid_on.isoformat() if line.paid_on else None,
        }
        lines.append(entry)
        if not line.paid:
            entry["outcome"] = "not_a_payment"
            continue
        invoice_id = _invoice_of(session, agreement, line.nosso_numero)
        invoice = session.get(Invoice, invoice_id) if invoice_id else None
        settled_before = invoice is not None and state_of(invoice) == "paid"
        paid_at = datetime.combine(line.paid_on, time(12), zone) if line.paid_on else None
        with session.begin_nested():
            note, new, services = notify(
                session,
                {
                    "external_id": f"boleto:{parsed.bank}:{line.nosso_numero}",
                    "invoice_id": invoice.id if invoice else None,
                    "amount": str(line.amount_paid),
                    "paid_at": paid_at.isoformat() if paid_at else None,
                    "source": f"retorno {name}",
                    "nosso_numero": line.nosso_numero,
                },
                now=now,
                zone=zone,
                cash_box=cash_box,
                paid_at=paid_at,
            )
        moved += services
        entry["notification_id"] = note.id
        entry["invoice_id"] = invoice.id if invoice else None
        if not new or settled_before:
            entry["outcome"] = "already_paid"
        elif invoice is None:
            entry["outcome"] = "unknown"
        elif note.status is NotificationStatus.APPLIED:
            entry["outcome"], entry["receipt_id"] = "paid", note.receipt_id
        elif state_of(invoice) == "cancelled":
            entry["outcome"] = "cancelled_invoice"
        else:
            entry["outcome"] = "amount_mismatch"
        if note.reason and entry["outcome"] != "paid":
            entry["reason"] = note.reason
    lines.sort(key=lambda e: e["line"])
    counts = Counter(e["outcome"] for e in lines)
    record = BankReturnFile(
        sha256=digest,
        name=name[:200],
        layout=parsed.layout,
        bank=parsed.bank,
        imported_at=now,
        imported_by=by,
        counts={outcome: counts.get(outcome, 0) for outcome in OUTCOMES},
        lines=lines,
    )
    try:
        with session.begin_nested():
            session.add(record)
    except IntegrityError:  # the same file, imported concurrently: that import wins
        raise Invalid("this file is being imported right now; look at the imports list") from None
    return record, True, moved


def list_returns(session: Session, limit: int, offset: int = 0) -> tuple[list[BankReturnFile], int]:
    from aaa.db.paging import page

    return page(session, select(BankReturnFile), BankReturnFile.id.desc(), limit=limit, offset=offset)
