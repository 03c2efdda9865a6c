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


class TraceIn(In):
    nas_id: Annotated[int, Field(ge=1, le=2_147_483_647)] | None = Field(None, description="one NAS only")
    login: Annotated[str, Field(min_length=1, max_length=253)] | None = Field(
        None, description="one login only"
    )
    seconds: Annotated[int, Field(ge=1, le=3600)] = 60
    packets: Annotated[int, Field(ge=1, le=10_000)] = 100


class TraceOut(Out):
    id: int
    nas_id: int | None
    login: str | None
    until: datetime
    max_packets: int


class TraceLinesOut(Out):
    trace_id: int
    lines: list[str]
    next_after: int = Field(description="pass as ?after= to get only newer lines")
    ended: bool = Field(description="its time has passed: no more lines will come")
