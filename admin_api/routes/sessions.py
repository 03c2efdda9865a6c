"""Online sessions, the session history and the auth log across subscribers, and the kick
button (derrubar conexão)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from aaa import connections
from aaa.connections import AuthFilter, SessionFilter
from aaa.db.base import utcnow
from aaa.enforcement.kick import kick_service, kick_session
from aaa.errors import NotFound
from aaa.nas.service import get_nas
from aaa.policies.decision import RejectReason
from aaa.radius.trace import begin_trace, trace_lines
from aaa.subscribers import service as services
from aaa.tables.accounting import AcctSession, AuthResult
from aaa.tables.changes import RadiusTrace
from admin_api import scoped
from admin_api.deps import CityScope, db, policy_zone
from admin_api.routes.common import Limit, Offset, PathId, QueryId
from admin_api.schemas.common import Page
from admin_api.schemas.sessions import (
    AuthLogOut,
    ConnectionOut,
    DisconnectIn,
    DisconnectOut,
    TraceIn,
    TraceLinesOut,
    TraceOut,
)

router = APIRouter(tags=["sessions"])
Text = Annotated[str | None, Query(max_length=253)]


def _aware(value: datetime | None, zone: ZoneInfo) -> datetime | None:
    """A time without a zone is the ISP's local time."""
    return value.replace(tzinfo=zone) if value is not None and value.tzinfo is None else value


def connection_out(row: AcctSession, now: datetime) -> ConnectionOut:
    online = row.stop_time is None
    uptime = row.session_time
    if online and row.start_time is not None:
        uptime = max(uptime, int((now - row.start_time).total_seconds()))
    return ConnectionOut.model_validate(
        {
            **{k: getattr(row, k) for k in ConnectionOut.model_fields if hasattr(row, k)},
            "online": online,
            "uptime_seconds": uptime,
            "closed_by": row.closed_by.value if row.closed_by else None,
        }
    )


@router.get("/sessions", response_model=Page[ConnectionOut])
def list_sessions(
    scope: CityScope,
    online: bool | None = Query(None, description="true: open sessions; false: closed ones; omitted: both"),
    login: Text = None,
    service_id: QueryId | None = None,
    nas_id: QueryId | None = None,
    ip: Annotated[str | None, Query(max_length=45, description="Framed-IP-Address")] = None,
    ipv6_prefix: Annotated[
        str | None, Query(max_length=49, description="Framed-IPv6-Prefix or Delegated-IPv6-Prefix")
    ] = None,
    mac: Annotated[
        str | None, Query(max_length=17, description="any spelling: AA:BB.., aa-bb.., aabb.ccdd..")
    ] = None,
    started_after: datetime | None = Query(None, description="without a zone: the ISP's local time"),
    started_before: datetime | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    zone: ZoneInfo = Depends(policy_zone),
    session: Session = db("sessions.read"),
) -> Page[ConnectionOut]:
    """Who is online (``online=true``) and the connection history across subscribers, newest first."""
    if service_id is not None:
        services.get_service_by_id(session, service_id, scope)  # another city's service: 404
    found = SessionFilter(
        online=online,
        login=login,
        service_id=service_id,
        nas_id=nas_id,
        ip=ip,
        ipv6_prefix=ipv6_prefix,
        mac=mac,
        started_after=_aware(started_after, zone),
        started_before=_aware(started_before, zone),
    )
    rows, total = connections.find_sessions(session, scope, found, limit=limit, offset=offset)
    now = utcnow()
    return Page(items=[connection_out(r, now) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/sessions/{session_id}", response_model=ConnectionOut)
def get_session(
    session_id: PathId, scope: CityScope, session: Session = db("sessions.read")
) -> ConnectionOut:
    row = connections.get_session(session, scope, session_id)
    if row is None:
        raise NotFound(f"session {session_id} does not exist")
    return connection_out(row, utcnow())


@router.post("/sessions/{session_id}/disconnect", response_model=DisconnectOut, status_code=202)
def disconnect_session(
    session_id: PathId,
    scope: CityScope,
    body: DisconnectIn | None = None,
    session: Session = db("sessions.disconnect"),
) -> DisconnectOut:
    """Derrubar conexão: a Disconnect-Request to the session's NAS (RouterOS API kick as the
    fallback), sent by the enforcer; accepted here, its attempts show under the service."""
    row = connections.get_session(session, scope, session_id)
    if row is None:
        raise NotFound(f"session {session_id} does not exist")
    kick = kick_session(session, row, body.reason if body else "")
    return DisconnectOut(
        enforcement_id=kick.id, service_id=kick.service_id, sessions=1, state=kick.state.value
    )


@router.post("/services/{service_id}/disconnect", response_model=DisconnectOut, status_code=202)
def disconnect_service(
    service_id: PathId,
    scope: CityScope,
    body: DisconnectIn | None = None,
    session: Session = db("sessions.disconnect"),
) -> DisconnectOut:
    """Derrubar conexão: every open session of the service."""
    service = services.get_service_by_id(session, service_id, scope)
    kick, count = kick_service(session, service, body.reason if body else "")
    return DisconnectOut(
        enforcement_id=kick.id, service_id=service.id, sessions=count, state=kick.state.value
    )


@router.get("/authlog", response_model=Page[AuthLogOut])
def list_auth_log(
    scope: CityScope,
    login: Text = None,
    nas_id: QueryId | None = None,
    result: AuthResult | None = None,
    reason: RejectReason | None = Query(None, description="rejects for this reason only"),
    mac: Annotated[str | None, Query(max_length=17)] = None,
    mac_differs: bool | None = None,
    interface_differs: bool | None = None,
    since: datetime | None = Query(None, description="without a zone: the ISP's local time"),
    until: datetime | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    zone: ZoneInfo = Depends(policy_zone),
    session: Session = db("sessions.read"),
) -> Page[AuthLogOut]:
    """Access-Requests and what they got, newest first."""
    found = AuthFilter(
        login=login,
        nas_id=nas_id,
        result=result,
        reason=reason,
        mac=mac,
        mac_differs=mac_differs,
        interface_differs=interface_differs,
        since=_aware(since, zone),
        until=_aware(until, zone),
    )
    rows, total = connections.find_auth_log(session, scope, found, limit=limit, offset=offset)
    return Page(items=[AuthLogOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset)


@router.post("/radius/traces", response_model=TraceOut, status_code=201)
def start_trace(body: TraceIn, scope: CityScope, session: Session = db("radius.trace")) -> TraceOut:
    """A debug trace of every running worker, like `radiusd -X` (and `aaa trace`): the matching
    requests, decisions and replies, as lines under GET /radius/traces/{id}, until ``seconds``
    or ``packets``. Requests of every city: needs an operator of every city."""
    scoped.whole_isp(scope, "tracing RADIUS")
    if body.nas_id is not None:
        get_nas(session, body.nas_id)
    row = begin_trace(
        session, nas_id=body.nas_id, login=body.login, seconds=body.seconds, packets=body.packets
    )
    return TraceOut.model_validate(row)


@router.get("/radius/traces/{trace_id}", response_model=TraceLinesOut)
def read_trace(
    trace_id: PathId,
    scope: CityScope,
    after: Annotated[int, Query(ge=0, description="the next_after of the previous call")] = 0,
    session: Session = db("radius.trace"),
) -> TraceLinesOut:
    scoped.whole_isp(scope, "tracing RADIUS")
    trace = session.get(RadiusTrace, trace_id)
    if trace is None:
        raise NotFound(f"trace {trace_id} does not exist (traces are kept for a day)")
    lines = trace_lines(session, trace_id, after)
    return TraceLinesOut(
        trace_id=trace_id,
        lines=[text for _, text in lines],
        next_after=lines[-1][0] if lines else after,
        ended=trace.until < utcnow(),
    )
