"""Bodies of /audit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from admin_api.schemas.common import Out


class AuditOut(Out):
    id: int
    at: datetime
    actor: str
    operator_id: int | None
    source: str
    entity: str
    entity_id: int | None
    customer_id: int | None
    service_id: int | None
    action: str
    changes: dict[str, Any]
    note: str | None
