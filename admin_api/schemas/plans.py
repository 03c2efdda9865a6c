"""Bodies of /plans, including clone and mass plan change."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import Field

from aaa.vocabulary.subscribers import (
    ServiceStatus,
    Technology,
)
from admin_api.schemas.common import Id, In, Kbps, Money, Out, ReplyAttribute, ReplyAttributes


class PoolFields(In):
    """Where subscribers without a fixed address get one (IPAM pools); a plan's pool wins over the NAS's."""

    ipv4_pool_id: Id | None = Field(None, description="an ipv4 pool: Framed-Pool, or a server lease")
    ipv6_pool_id: Id | None = Field(None, description="an ipv6 pool: Framed-IPv6-Pool / Framed-IPv6-Prefix")
    ipv6_pd_pool_id: Id | None = Field(None, description="an ipv6_pd pool: Delegated-IPv6-Prefix(-Pool)")


class PoolRefsOut(Out):
    ipv4_pool_id: int | None
    ipv6_pool_id: int | None
    ipv6_pd_pool_id: int | None


class PlanFields(PoolFields):
    burst_download_kbps: Kbps | None = None
    burst_upload_kbps: Kbps | None = None
    burst_threshold_download_kbps: Kbps | None = None
    burst_threshold_upload_kbps: Kbps | None = None
    burst_time_s: Annotated[int, Field(ge=1, le=3600)] | None = None
    technology: Technology | None = None


class PlanIn(PlanFields):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    price: Money
    download_kbps: Kbps
    upload_kbps: Kbps
    reply_attributes: ReplyAttributes = []


class PlanPatch(PlanFields):
    name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    price: Money | None = None
    download_kbps: Kbps | None = None
    upload_kbps: Kbps | None = None
    reply_attributes: ReplyAttributes | None = Field(None, description="replaces the whole list")


class PlanOut(PoolRefsOut):
    id: int
    name: str
    price: Decimal
    download_kbps: int
    upload_kbps: int
    burst_download_kbps: int | None
    burst_upload_kbps: int | None
    burst_threshold_download_kbps: int | None
    burst_threshold_upload_kbps: int | None
    burst_time_s: int | None
    technology: Technology | None
    reply_attributes: list[ReplyAttribute]
    created_at: datetime


class PlanCloneIn(In):
    name: Annotated[str, Field(min_length=1, max_length=100)]


class MassChangeIn(In):
    target_plan_id: Id
    change_price: bool = Field(description="give each service the target plan's price; else keep its own")
    statuses: list[ServiceStatus] | None = None
    service_ids: list[Id] | None = Field(None, description="only these services (of the source plan)")


class MassChangeOut(Out):
    changed: list[int]
