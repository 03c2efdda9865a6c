"""Provider webhooks, provider charges and bank return files."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from admin_api.schemas.common import Out


class ProviderHookOut(Out):
    received: int = Field(description="payments the call carried")
    applied: int
    flagged: int = Field(description="kept for an operator: unknown charge or amount that does not settle")
    duplicates: int = Field(description="payments received before (a repeated or second event)")
    notification_ids: list[int]


class GatewayChargeOut(Out):
    invoice_id: int
    provider: str
    state: str
    provider_id: str | None
    nosso_numero: str | None
    linha_digitavel: str | None
    barcode: str | None
    pix_payload: str | None
    url: str | None
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    updated_at: datetime


class BankReturnOut(Out):
    id: int
    name: str
    layout: str
    bank: str
    imported_at: datetime
    imported_by: str
    counts: dict[str, int]
    lines: list[dict[str, Any]]
    already_imported: bool = False
