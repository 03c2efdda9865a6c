"""Loading subscriber snapshots and open sessions: a worker's start-up, and a cache miss."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from aaa.accounting.models import AcctSession
from aaa.policies.model import OpenSession, PlanSpeed, Subscriber
from aaa.subscribers.models import Plan, Service

_SUBSCRIBERS = select(Service, Plan).join(Plan, Service.plan_id == Plan.id)
_OPEN_SESSIONS: Select[tuple[str, int, str, str | None, str | None]] = select(
    AcctSession.login,
    AcctSession.nas_id,
    AcctSession.acct_session_id,
    AcctSession.calling_station_id,
    AcctSession.nas_port_id,
).where(AcctSession.stop_time.is_(None))


def load_subscriber(session: Session, login: str) -> Subscriber | None:
    row = session.execute(_SUBSCRIBERS.where(Service.login == login)).first()
    return None if row is None else _snapshot(row[0], _plan_speed(row[1]))


def load_open_sessions(session: Session, login: str) -> tuple[OpenSession, ...]:
    rows = session.execute(_OPEN_SESSIONS.where(AcctSession.login == login))
    return tuple(OpenSession(*row) for _, *row in rows)


def load_all(session: Session) -> tuple[dict[str, Subscriber], dict[str, tuple[OpenSession, ...]]]:
    """Every subscriber and every open session, in two queries."""
    speeds: dict[int, PlanSpeed] = {}  # one PlanSpeed per plan, shared by its subscribers
    subscribers = {}
    for svc, plan in session.execute(_SUBSCRIBERS):
        speed = speeds.get(plan.id) or speeds.setdefault(plan.id, _plan_speed(plan))
        subscribers[svc.login] = _snapshot(svc, speed)
    sessions: dict[str, list[OpenSession]] = {}
    for login, *row in session.execute(_OPEN_SESSIONS):
        sessions.setdefault(login, []).append(OpenSession(*row))
    return subscribers, {login: tuple(rows) for login, rows in sessions.items()}


def _snapshot(svc: Service, speed: PlanSpeed) -> Subscriber:
    return Subscriber(
        service_id=svc.id,
        login=svc.login,
        password=svc.password,
        status=svc.status,
        plan=speed,
        simultaneous_use=svc.simultaneous_use,
        mac_binding=svc.mac_binding,
        mac=svc.mac,
        nas_port_id=svc.nas_port_id,
        fixed_ipv4=svc.fixed_ipv4,
    )


def _plan_speed(plan: Plan) -> PlanSpeed:
    return PlanSpeed(
        name=plan.name,
        download_kbps=plan.download_kbps,
        upload_kbps=plan.upload_kbps,
        burst_download_kbps=plan.burst_download_kbps,
        burst_upload_kbps=plan.burst_upload_kbps,
        burst_threshold_download_kbps=plan.burst_threshold_download_kbps,
        burst_threshold_upload_kbps=plan.burst_threshold_upload_kbps,
        burst_time_s=plan.burst_time_s,
    )
