"""Bodies of /sessions, /services/{id}/disconnect and /authlog."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from admin_api.schemas.common import In, Out


class ConnectionOut(Out):
    id: int = Field(description="the session's row id (POST /sessions/{id}/disconnect)")
    login: str
    service_id: int | None = Field(description="none: a login no service has")
    nas_id: int
    acct_session_id: str
    online: bool
    framed_ip: str | None
    framed_ipv6_prefix: str | None
    delegated_ipv6_prefix: str | None
    calling_station_id: str | None = Field(description="the CPE's MAC, as the NAS sent it")
    nas_port_id: str | None
    start_time: datetime | None
    start_estimated: bool
    last_update: datetime
    stop_time: datetime | None
    uptime_seconds: int = Field(description="online: since the start until now; closed: its session time")
    input_octets: int = Field(description="from the subscriber (upload)")
    output_octets: int = Field(description="to the subscriber (download)")
    terminate_cause: str | None
    closed_by: str | None


class DisconnectIn(In):
    reason: Annotated[str, Field(max_length=200)] = Field("", description="why; kept in the history")


class DisconnectOut(Out):
    enforcement_id: int = Field(
        description="the outbox row: GET /services/{id}/enforcement shows its attempts"
    )
    service_id: int
    sessions: int = Field(description="open sessions it will end")
    state: str


class AuthLogOut(Out):
    id: int
    time: datetime
    login: str
    service_id: int | None
    nas_id: int | None
    method: str
    result: str
    reason: str = Field(description="the decision trace; a reject ends with 'reject: <reason>'")
    mac: str | None
    nas_port_id: str | None
    mac_differs: bool
    interface_differs: bool
