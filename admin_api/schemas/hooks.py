"""Bodies of webhooks and payment notifications."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field

from admin_api.schemas.billing import TransitionOut
from admin_api.schemas.common import In, Out, WebhookEvent


class WebhookIn(In):
    url: Annotated[str, Field(pattern=r"^https?://", max_length=500)]
    secret: Annotated[str, Field(min_length=16, max_length=200)]
    events: Annotated[list[WebhookEvent], Field(min_length=1)]
    active: bool = True


class WebhookPatch(In):
    url: Annotated[str, Field(pattern=r"^https?://", max_length=500)] | None = None
    secret: Annotated[str, Field(min_length=16, max_length=200)] | None = None
    events: Annotated[list[WebhookEvent], Field(min_length=1)] | None = None
    active: bool | None = None


class WebhookOut(Out):
    id: int
    url: str
    events: list[str]
    active: bool
    created_at: datetime


class DeliveryOut(Out):
    id: int
    webhook_id: int
    event: str
    payload: dict[str, Any]
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    last_code: int | None
    last_error: str | None
    delivered_at: datetime | None


class NotificationOut(Out):
    id: int
    external_id: str
    received_at: datetime
    payload: dict[str, Any]
    amount: Decimal | None
    invoice_id: int | None
    status: str
    reason: str
    receipt_id: int | None
    resolved_by: str | None
    services_moved: list[TransitionOut] = []


class ResolveIn(In):
    action: Literal["apply", "dismiss"]
