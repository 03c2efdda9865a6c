"""Outbound webhooks: status changes and payments, signed, retried with backoff, logged.

Events are written as ``webhook_delivery`` rows in the transaction of the change (an outbox:
a rolled-back change sends nothing, a committed one is sent even if the process dies now). A
delivery loop claims due rows, POSTs them outside any transaction and records the answer.

Signature: ``X-AAA-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>``, the
scheme Stripe made familiar; the receiver recomputes it and refuses old timestamps.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, insert, inspect, select, update
from sqlalchemy.orm import Session, sessionmaker

from aaa import metrics
from aaa.db.base import utcnow
from aaa.db.paging import page
from aaa.errors import NotFound
from aaa.tables.subscribers import Service
from billing_bridge import outbound
from billing_bridge.models import DeliveryStatus, Webhook, WebhookDelivery
from billing_bridge.outbound import PUBLIC_ONLY, AddressPolicy

log = logging.getLogger(__name__)
EVENTS = ("service.status_changed", "payment.received", "receipt.reversed", "payment.flagged")
_CLAIM = timedelta(minutes=2)  # a claimed delivery is retried after this if its sender died


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def emit(session: Session, event_name: str, payload: dict[str, Any]) -> int:
    return emit_many(session, event_name, [payload])


def emit_many(session: Session, event_name: str, payloads: list[dict[str, Any]]) -> int:
    """One delivery per event and active webhook subscribed to it (``*``: all); the webhooks are
    read once however many events (a routine's thousands of transitions). Core insert, so it may
    run inside a flush."""
    assert event_name in EVENTS, event_name
    now = utcnow()
    hooks = session.execute(select(Webhook.id, Webhook.events).where(Webhook.active.is_(True))).all()
    rows = [
        {
            "webhook_id": hook_id,
            "event": event_name,
            "payload": {"event": event_name, "at": now.isoformat(), "data": payload},
            "status": DeliveryStatus.PENDING,
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
        }
        for hook_id, events in hooks
        if event_name in events or "*" in events
        for payload in payloads
    ]
    if rows:
        session.connection().execute(insert(WebhookDelivery), rows)
    return len(rows)


def deactivate(session: Session, hook: Webhook) -> int:
    """A deactivated webhook's pending deliveries end (failed, "webhook deactivated"): none is
    sent later, even if it is reactivated. Returns how many."""
    result = session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == hook.id, WebhookDelivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.FAILED, last_error="webhook deactivated")
        .execution_options(synchronize_session=False)
    )
    hook.active = False
    session.flush()
    return int(result.rowcount)  # type: ignore[attr-defined]


def after_flush(session: Session, _context: object) -> None:
    """Every status change, whoever made it (operator, routine, payment), is an event."""
    changes = []
    for obj in session.dirty:
        if isinstance(obj, Service):
            history = inspect(obj).attrs.status.history
            if history.has_changes() and history.deleted:
                changes.append(
                    {
                        "service_id": obj.id,
                        "login": obj.login or obj.former_login,
                        "from": history.deleted[0].value,
                        "to": obj.status.value,
                        "reason": obj.status_reason,
                    }
                )
    if changes:
        emit_many(session, "service.status_changed", changes)


@dataclass(frozen=True, slots=True)
class Outcome:
    delivery_id: int
    code: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.code is not None and 200 <= self.code < 300


def send(
    url: str,
    secret: str,
    delivery_id: int,
    event_name: str,
    payload: Any,
    timeout: float,
    policy: AddressPolicy,
) -> Outcome:
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "isp-aaa-webhook",
        "X-AAA-Event": event_name,
        "X-AAA-Delivery": str(delivery_id),
        "X-AAA-Signature": sign(secret, int(utcnow().timestamp()), body),
    }
    answer = outbound.post(url, body, headers, timeout, policy)
    if answer.detail:
        log.warning("webhook delivery %d: %s", delivery_id, answer.detail)
    return Outcome(delivery_id, answer.code, answer.error)


def deliver_due(
    factory: sessionmaker[Session],
    now: datetime,
    *,
    timeout: float = 5.0,
    max_attempts: int = 8,
    backoff: float = 30.0,
    limit: int = 200,
    policy: AddressPolicy = PUBLIC_ONLY,
    senders: int = 16,
) -> list[Outcome]:
    """Claim due deliveries (one sender per row, also across nodes), send them side by side
    (``senders`` at once, each attempt ending within ``timeout``: one slow or broken receiver
    delays no other), record each answer."""
    with factory.begin() as session:
        query = (
            select(
                WebhookDelivery.id,
                WebhookDelivery.event,
                WebhookDelivery.payload,
                Webhook.url,
                Webhook.secret,
            )
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(
                WebhookDelivery.status == DeliveryStatus.PENDING,
                WebhookDelivery.next_attempt_at <= now,
                Webhook.active.is_(True),
            )
            .order_by(WebhookDelivery.id)
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=WebhookDelivery)
        due = session.execute(query).all()
        if due:
            session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id.in_([d.id for d in due]))
                .values(next_attempt_at=now + _CLAIM)
            )
    outcomes: list[Outcome] = []
    if due:
        with ThreadPoolExecutor(min(senders, len(due)), thread_name_prefix="webhook") as pool:
            outcomes = list(
                pool.map(lambda d: send(d.url, d.secret, d.id, d.event, d.payload, timeout, policy), due)
            )
    if outcomes:
        with factory.begin() as session:
            rows = {
                r.id: r
                for r in session.scalars(
                    select(WebhookDelivery).where(WebhookDelivery.id.in_([o.delivery_id for o in outcomes]))
                )
            }
            for outcome in outcomes:
                row = rows[outcome.delivery_id]
                row.attempts += 1
                row.last_code, row.last_error = outcome.code, outcome.error
                if outcome.ok:
                    row.status, row.delivered_at = DeliveryStatus.DELIVERED, utcnow()
                    metrics.child(metrics.WEBHOOK_DELIVERIES, "delivered").inc()
                elif row.attempts >= max_attempts:
                    row.status = DeliveryStatus.FAILED
                    metrics.child(metrics.WEBHOOK_DELIVERIES, "gave_up").inc()
                else:
                    metrics.child(metrics.WEBHOOK_DELIVERIES, "retry").inc()
                    row.next_attempt_at = utcnow() + timedelta(seconds=backoff * 2 ** (row.attempts - 1))
    return outcomes


def backlog_gauges(session: Session) -> list[GaugeMetricFamily]:
    """/metrics: deliveries not yet sent (a receiver that is down shows here first)."""
    pending = GaugeMetricFamily("aaa_webhook_deliveries_pending", "Webhook deliveries not yet sent")
    pending.add_metric(
        [],
        session.scalar(select(func.count()).where(WebhookDelivery.status == DeliveryStatus.PENDING)) or 0,
    )
    return [pending]


def list_webhooks(session: Session) -> list[Webhook]:
    return list(session.scalars(select(Webhook).order_by(Webhook.id)))


def get_webhook(session: Session, webhook_id: int) -> Webhook:
    hook = session.get(Webhook, webhook_id)
    if hook is None:
        raise NotFound(f"webhook {webhook_id} does not exist")
    return hook


def add_webhook(session: Session, policy: AddressPolicy, **fields: Any) -> Webhook:
    """A receiver whose address the policy allows (checked again at every send)."""
    outbound.check_url(fields["url"], policy)
    hook = Webhook(**fields)
    session.add(hook)
    session.flush()
    return hook


def update_webhook(session: Session, hook: Webhook, policy: AddressPolicy, **changes: Any) -> Webhook:
    """Deactivating (active false) ends the webhook's pending deliveries."""
    if changes.get("url"):
        outbound.check_url(changes["url"], policy)
    active = changes.pop("active", None)
    if active is False and hook.active:
        deactivate(session, hook)
    elif active:
        hook.active = True
    for field, value in changes.items():
        setattr(hook, field, value)
    session.flush()
    return hook


def deliveries_of(
    session: Session, webhook_id: int, *, status: DeliveryStatus | None, limit: int, offset: int = 0
) -> tuple[list[WebhookDelivery], int]:
    """The delivery log: every event, its attempts and the last answer, newest first."""
    query = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
    if status:
        query = query.where(WebhookDelivery.status == status)
    return page(session, query, WebhookDelivery.id.desc(), limit=limit, offset=offset)
