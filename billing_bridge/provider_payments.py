"""A payment provider's webhook, read by its adapter, into the payment-notification path: the
charge it names finds the invoice (unknown charges are kept, flagged), the external id makes a
repeated or second event for the same payment a no-op, and the amount must settle the invoice
at the moment paid (otherwise flagged for an operator)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from billing_bridge.gateway_sync import by_provider_id
from billing_bridge.gateways.base import Payment
from billing_bridge.models import PaymentNotification
from billing_bridge.notifications import notify
from billing_bridge.routine import Transition


def receive_payments(
    session: Session, provider: str, payments: list[Payment], *, now: datetime, zone: ZoneInfo, cash_box: str
) -> list[tuple[PaymentNotification, bool, list[Transition]]]:
    results = []
    for payment in payments:
        charge = by_provider_id(session, provider, payment.provider_id)
        with session.begin_nested():
            results.append(
                notify(
                    session,
                    {
                        "external_id": payment.external_id,
                        "invoice_id": charge.invoice_id if charge else None,
                        "amount": str(payment.amount),
                        "paid_at": payment.paid_at.isoformat() if payment.paid_at else None,
                        "provider": provider,
                        "provider_id": payment.provider_id,
                        "event": payment.raw,
                    },
                    now=now,
                    zone=zone,
                    cash_box=cash_box,
                    paid_at=payment.paid_at,
                )
            )
    return results
