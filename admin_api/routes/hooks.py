"""Payment notifications in (a gateway's signed webhook; no token) and webhooks out."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from aaa.audit.log import Actor, act_as, actor_of
from aaa.db.base import utcnow
from aaa.errors import Invalid
from admin_api import scoped
from admin_api.deps import CityScope, db, policy_zone, public_session, settings_of
from admin_api.routes.common import Limit, Offset, PathId, listed, paged
from admin_api.schemas.billing import TransitionOut
from admin_api.schemas.common import Page
from admin_api.schemas.hooks import (
    DeliveryOut,
    NotificationOut,
    ResolveIn,
    WebhookIn,
    WebhookOut,
    WebhookPatch,
)
from billing_bridge import notifications, webhooks
from billing_bridge.models import (
    DeliveryStatus,
    NotificationStatus,
    PaymentNotification,
)
from billing_bridge.outbound import AddressPolicy
from billing_bridge.routine import Transition

router = APIRouter(tags=["hooks"])


def _note_out(note: PaymentNotification, moved: list[Transition] | None = None) -> NotificationOut:
    out = NotificationOut.model_validate(note)
    out.status = note.status.value
    out.services_moved = [TransitionOut.model_validate(t, from_attributes=True) for t in moved or []]
    return out


@router.post("/hooks/payments", response_model=NotificationOut, responses={200: {}, 202: {}})
async def payment_notification(
    request: Request, session: Annotated[Session, Depends(public_session, scope="function")]
) -> JSONResponse:
    """A payment gateway's notice, signed with ``billing.notification_secret`` (header
    ``X-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>." + body>``). 201: applied; 202:
    recorded and flagged for an operator; 200: this external_id was already received."""
    settings = settings_of(request).billing
    body = await request.body()
    now = utcnow()
    notifications.verify(
        settings.notification_secret,
        request.headers.get("x-signature"),
        body,
        now,
        settings.notification_max_skew_seconds,
    )
    try:
        payload = json.loads(body)
    except ValueError:
        raise Invalid("the body is not JSON") from None
    if not isinstance(payload, dict):
        raise Invalid("the body must be a JSON object")
    act_as(session, Actor("gateway", request.client.host if request.client else "unknown"))
    note, new, moved = notifications.notify(
        session, payload, now=now, zone=policy_zone(request), cash_box=settings.gateway_cash_box
    )
    code = 200 if not new else 201 if note.receipt_id else 202
    out = _note_out(note, moved)
    session.commit()  # acknowledged only once stored
    return JSONResponse(out.model_dump(mode="json"), status_code=code)


@router.get("/payment-notifications", response_model=Page[NotificationOut])
def list_notifications(
    scope: CityScope,
    status: NotificationStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    session: Session = db("finance.read"),
) -> Page[NotificationOut]:
    """Newest first; a city-limited operator sees those naming invoices of its customers."""
    found = notifications.list_notifications(
        session, status=status, invoices=scoped.visible_invoices(scope), limit=limit, offset=offset
    )
    return paged(found, _note_out, limit, offset)


@router.post("/payment-notifications/{notification_id}/resolve", response_model=NotificationOut)
def resolve_notification(
    notification_id: PathId,
    body: ResolveIn,
    request: Request,
    scope: CityScope,
    session: Session = db("finance.hooks"),
) -> NotificationOut:
    """Decide on a flagged notice: apply its amount to its invoice (less is a partial payment)
    or dismiss it."""
    note = scoped.notification(session, notification_id, scope)
    moved = notifications.resolve(
        session,
        note,
        apply=body.action == "apply",
        by=actor_of(session).name,
        now=utcnow(),
        zone=policy_zone(request),
        cash_box=settings_of(request).billing.gateway_cash_box,
    )
    return _note_out(note, moved)


@router.get("/webhooks", response_model=Page[WebhookOut])
def list_webhooks(
    scope: CityScope, limit: Limit = 100, offset: Offset = 0, session: Session = db("finance.hooks")
) -> Page[WebhookOut]:
    scoped.whole_isp(scope, "webhooks")
    return listed([WebhookOut.model_validate(w) for w in webhooks.list_webhooks(session)], limit, offset)


@router.post("/webhooks", response_model=WebhookOut, status_code=201)
def create_webhook(
    body: WebhookIn, request: Request, scope: CityScope, session: Session = db("finance.hooks")
) -> WebhookOut:
    """Deliveries are signed: X-AAA-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>.
    A webhook receives every city's events: needs an operator of every city."""
    scoped.whole_isp(scope, "a webhook")
    return WebhookOut.model_validate(webhooks.add_webhook(session, _policy(request), **body.model_dump()))


def _policy(request: Request) -> AddressPolicy:
    return AddressPolicy.of(settings_of(request).billing.webhook_allowed_networks)


@router.patch("/webhooks/{webhook_id}", response_model=WebhookOut)
def update_webhook(
    webhook_id: PathId,
    body: WebhookPatch,
    request: Request,
    scope: CityScope,
    session: Session = db("finance.hooks"),
) -> WebhookOut:
    """Deactivating (active false) ends the webhook's pending deliveries."""
    scoped.whole_isp(scope, "a webhook")
    hook = webhooks.get_webhook(session, webhook_id)
    changes = body.model_dump(exclude_unset=True)
    return WebhookOut.model_validate(webhooks.update_webhook(session, hook, _policy(request), **changes))


@router.get("/webhooks/{webhook_id}/deliveries", response_model=Page[DeliveryOut])
def deliveries(
    webhook_id: PathId,
    scope: CityScope,
    status: DeliveryStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    session: Session = db("finance.hooks"),
) -> Page[DeliveryOut]:
    """The delivery log: every event, its attempts and the last answer."""
    scoped.whole_isp(scope, "a webhook's deliveries")
    webhooks.get_webhook(session, webhook_id)
    found = webhooks.deliveries_of(session, webhook_id, status=status, limit=limit, offset=offset)
    return paged(found, DeliveryOut.model_validate, limit, offset)
