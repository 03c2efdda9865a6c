"""Bodies of the live policies: custom speed, trial, trust unlock, bonus, exempt, enforcement."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from admin_api.schemas.common import Id, In, Out, Reason, Until


class CustomSpeedIn(In):
    download_kbps: Annotated[int, Field(ge=1, le=100_000_000)]
    upload_kbps: Annotated[int, Field(ge=1, le=100_000_000)]
    until: Until | None = Field(None, description="empty: until removed")


class TrialIn(In):
    plan_id: Id
    until: Until


class TrustUnlockIn(In):
    reason: Reason
    until: Until | None = Field(
        None, description="required from an operator; the self-service length is fixed"
    )
    self_service: bool = Field(False, description="asked by the subscriber (Central do Assinante): limited")


class BonusIn(In):
    until: Until


class ExemptIn(In):
    exempt: bool


class AttemptOut(Out):
    id: int
    at: datetime
    nas_id: int | None
    acct_session_id: str | None
    method: str
    result: str
    error_cause: int | None
    detail: str


class EnforcementOut(Out):
    id: int
    cause: str
    created_at: datetime
    state: str
    attempts: int
    next_attempt_at: datetime
    finished_at: datetime | None
    outcome: str
    attempt_log: list[AttemptOut] = []


class ReconcileOut(Out):
    nas_id: int
    nas: str
    source: str
    closed: list[str]
    unknown: list[str]
    reapplied: list[int]
    error: str | None
