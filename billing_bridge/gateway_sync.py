"""Keeps the payment provider in step with the invoices, from a job (never inside the invoice's
own transaction, so a provider that is down never blocks issuing, cancelling or re-issuing).

Each round: every open invoice without a provider charge gets one to create; a created charge
whose invoice was cancelled, or paid some other way (at the counter, by a bank return), gets
cancelled at the provider so the customer cannot pay twice; then the due ones are sent, side by
side with nothing locked meanwhile. A provider that does not answer (ProviderDown) is retried with
backoff doubling per attempt, and after ``breaker_failures`` in a row is left alone for a while; a
provider that refuses (ProviderRefused, e.g. an invalid CPF) marks the charge failed with its
message, for an operator to fix the data and retry (``retry``).

A re-issued invoice is a new invoice: its old charge is cancelled and a new one created with the
new due date.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from aaa.audit.log import Actor, act_as
from aaa.db.base import utcnow
from aaa.errors import Conflict, NotFound
from aaa.settings import BillingSettings
from aaa.tables.subscribers import BillingMethod, Customer
from billing_bridge.charges import LIVE
from billing_bridge.gateways.asaas import Asaas
from billing_bridge.gateways.base import ChargeRequest, IssuedCharge, Provider, ProviderDown, ProviderRefused
from billing_bridge.gateways.breaker import Breaker
from billing_bridge.gateways.efi import Efi
from billing_bridge.models import (
    ZERO,
    Charge,
    GatewayCharge,
    GatewayChargeState,
    Invoice,
    InvoiceStatus,
    NotificationStatus,
    PaymentNotification,
)

log = logging.getLogger(__name__)
_CLAIM = timedelta(minutes=2)  # a claimed row is tried again after this if its sender died


def provider_of(b: BillingSettings) -> Provider | None:
    if b.gateway == "asaas":
        return Asaas(
            b.asaas_url,
            b.asaas_api_key.get_secret_value(),
            b.asaas_webhook_token.get_secret_value(),
            b.asaas_billing_type,
            b.gateway_timeout,
        )
    if b.gateway == "efi":
        return Efi(
            b.efi_url,
            b.efi_client_id.get_secret_value(),
            b.efi_client_secret.get_secret_value(),
            b.efi_pix_key,
            b.efi_webhook_secret.get_secret_value(),
            certificate=b.efi_certificate,
            ca_file=b.efi_ca_file,
            days_after_due=b.efi_days_after_due,
            timeout=b.gateway_timeout,
        )
    return None


@dataclass(frozen=True)
class Outcome:
    row_id: int
    state: GatewayChargeState
    error: str | None = None


def plan(session: Session, provider: str, now: datetime, limit: int = 500) -> None:
    """Rows for open invoices that have none; cancellations for charges no longer payable."""
    missing = session.execute(
        select(Invoice.id)
        .where(
            Invoice.status == InvoiceStatus.ISSUED,
            ~exists().where(GatewayCharge.invoice_id == Invoice.id),
            exists().where(Charge.invoice_id == Invoice.id, Charge.status.in_(LIVE)),
        )
        .order_by(Invoice.id)
        .limit(limit)
    ).scalars()
    rows = [
        {
            "invoice_id": invoice_id,
            "provider": provider,
            "state": GatewayChargeState.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for invoice_id in missing
    ]
    if rows:
        session.execute(insert(GatewayCharge), rows)
    paid_here = exists().where(
        PaymentNotification.invoice_id == Invoice.id,
        PaymentNotification.status == NotificationStatus.APPLIED,
        PaymentNotification.external_id.like(f"{provider}:%"),
    )
    still_open = exists().where(Charge.invoice_id == Invoice.id, Charge.status.in_(LIVE))
    stale = (
        select(GatewayCharge.id)
        .join(Invoice, Invoice.id == GatewayCharge.invoice_id)
        .where(
            GatewayCharge.state == GatewayChargeState.CREATED,
            (Invoice.status == InvoiceStatus.CANCELLED) | and_(~still_open, ~paid_here),
        )
    )
    session.execute(
        update(GatewayCharge)
        .where(GatewayCharge.id.in_(stale))
        .values(state=GatewayChargeState.CANCEL_PENDING, attempts=0, next_attempt_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    # An invoice cancelled before its charge was ever created needs nothing at the provider.
    session.execute(
        update(GatewayCharge)
        .where(
            GatewayCharge.state.in_((GatewayChargeState.PENDING, GatewayChargeState.FAILED)),
            GatewayCharge.invoice_id.in_(select(Invoice.id).where(Invoice.status == InvoiceStatus.CANCELLED)),
        )
        .values(state=GatewayChargeState.CANCELLED, updated_at=now, last_error="invoice cancelled")
        .execution_options(synchronize_session=False)
    )


def _request(session: Session, invoice: Invoice) -> ChargeRequest:
    customer = session.get(Customer, invoice.customer_id)
    method = session.get(BillingMethod, invoice.billing_method_id)
    assert customer is not None and method is not None
    live = [c for c in invoice.charges if c.status in LIVE]
    discounts = [c for c in live if c.discount_amount]
    until = min((c.due_date - timedelta(days=c.discount_days_before) for c in discounts), default=None)
    return ChargeRequest(
        invoice_id=invoice.id,
        customer_id=customer.id,
        customer_name=customer.name,
        document=customer.document or "",
        email=(customer.emails or [""])[0],
        amount=sum((c.open_amount for c in live), ZERO),
        due_date=invoice.due_date,
        description=f"Fatura {invoice.id}",
        fine_percent=method.fine_percent or ZERO,
        interest_percent_month=method.interest_percent_month or ZERO,
        discount=sum((c.discount_amount or ZERO for c in discounts), ZERO),
        discount_until=until,
    )


def sync_due(
    factory: sessionmaker[Session],
    provider: Provider,
    breaker: Breaker,
    now: datetime,
    *,
    max_attempts: int = 10,
    backoff: float = 30.0,
    limit: int = 100,
) -> list[Outcome]:
    """One round: plan, claim what is due, call the provider, record each answer."""
    with factory.begin() as session:
        act_as(session, Actor("scheduler", "local"))
        plan(session, provider.name, now)
        query = (
            select(GatewayCharge)
            .where(
                GatewayCharge.provider == provider.name,
                GatewayCharge.state.in_((GatewayChargeState.PENDING, GatewayChargeState.CANCEL_PENDING)),
                GatewayCharge.next_attempt_at <= now,
            )
            .order_by(GatewayCharge.id)
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        due = list(session.scalars(query))
        work: list[tuple[int, GatewayChargeState, ChargeRequest | str]] = []
        for row in due:
            row.next_attempt_at = now + _CLAIM
            if row.state is GatewayChargeState.CANCEL_PENDING:
                work.append((row.id, row.state, row.provider_id or ""))
            else:
                invoice = session.get(Invoice, row.invoice_id)
                assert invoice is not None
                work.append((row.id, row.state, _request(session, invoice)))
    results: list[tuple[int, IssuedCharge | None, Exception | None]] = []
    for row_id, state, what in work:
        if not breaker.allows():
            break
        try:
            if state is GatewayChargeState.CANCEL_PENDING:
                if what:
                    provider.cancel(str(what))
                results.append((row_id, None, None))
            else:
                assert isinstance(what, ChargeRequest)
                results.append((row_id, provider.create(what), None))
            breaker.succeeded()
        except ProviderDown as exc:
            breaker.failed(provider.name)
            results.append((row_id, None, exc))
        except ProviderRefused as exc:
            breaker.succeeded()  # it answered
            results.append((row_id, None, exc))
    return _record(factory, results, max_attempts, backoff)


def _record(
    factory: sessionmaker[Session],
    results: list[tuple[int, IssuedCharge | None, Exception | None]],
    max_attempts: int,
    backoff: float,
) -> list[Outcome]:
    outcomes: list[Outcome] = []
    if not results:
        return outcomes
    with factory.begin() as session:
        act_as(session, Actor("scheduler", "local"))
        for row_id, issued, error in results:
            row = session.get(GatewayCharge, row_id)
            assert row is not None
            row.attempts += 1
            row.updated_at = utcnow()
            if error is None:
                if row.state is GatewayChargeState.CANCEL_PENDING:
                    row.state = GatewayChargeState.CANCELLED
                else:
                    assert issued is not None
                    row.state = GatewayChargeState.CREATED
                    row.provider_id, row.nosso_numero = issued.provider_id, issued.nosso_numero
                    row.linha_digitavel, row.barcode = issued.linha_digitavel, issued.barcode
                    row.pix_payload, row.url = issued.pix_payload, issued.url
                row.last_error, row.attempts = None, 0
            elif isinstance(error, ProviderRefused) or row.attempts >= max_attempts:
                row.last_error = str(error)
                if row.state is GatewayChargeState.PENDING:
                    row.state = GatewayChargeState.FAILED
                else:  # a cancellation keeps trying, slowly: the customer must not pay twice
                    row.next_attempt_at = utcnow() + timedelta(seconds=backoff * 2 ** min(row.attempts, 10))
                log.warning("gateway charge %d (invoice %d): %s", row.id, row.invoice_id, error)
            else:
                row.last_error = str(error)
                row.next_attempt_at = utcnow() + timedelta(seconds=backoff * 2 ** (row.attempts - 1))
            outcomes.append(Outcome(row.id, row.state, row.last_error))
    return outcomes


def charge_of(session: Session, invoice_id: int) -> GatewayCharge | None:
    return session.scalar(select(GatewayCharge).where(GatewayCharge.invoice_id == invoice_id))


def by_provider_id(session: Session, provider: str, provider_id: str) -> GatewayCharge | None:
    return session.scalar(
        select(GatewayCharge).where(
            GatewayCharge.provider == provider, GatewayCharge.provider_id == provider_id
        )
    )


def retry(session: Session, invoice_id: int, now: datetime) -> GatewayCharge:
    """An operator fixed what the provider refused: try again now."""
    row = charge_of(session, invoice_id)
    if row is None:
        raise NotFound(f"invoice {invoice_id} has no charge at a payment provider")
    if row.state is not GatewayChargeState.FAILED:
        raise Conflict(f"the provider charge of invoice {invoice_id} is {row.state.value}, not failed")
    row.state, row.attempts, row.next_attempt_at, row.updated_at = GatewayChargeState.PENDING, 0, now, now
    session.flush()
    return row
