"""Loading subscriber snapshots and open sessions: a worker's start-up, and a cache miss."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from aaa.accounting.models import AcctSession
from aaa.policies.model import OpenSession, PlanSpeed, Subscriber
from aaa.subscribers.models import Plan, Service

# Plain columns, not ORM objects: the start-up load of 100k services would double a worker's
# peak memory otherwise. The order is Subscriber's field order (plan_id becomes the PlanSpeed).
_SERVICES = select(
    Service.id,
    Service.login,
    Service.password,
    Service.status,
    Service.plan_id,
    Service.simultaneous_use,
    Service.mac_binding,
    Service.mac,
    Service.nas_port_id,
    Service.fixed_ipv4,
)
_OPEN_SESSIONS = select(
    AcctSession.login,
    AcctSession.nas_id,
    AcctSession.acct_session_id,
    AcctSession.calling_station_id,
    AcctSession.nas_port_id,
).where(AcctSession.stop_time.is_(None))


def _subscribers(session: Session, query: Select[*tuple[Any, ...]]) -> dict[str, Subscriber]:
    speeds = {plan.id: _plan_speed(plan) for plan in session.scalars(select(Plan))}  # one per plan
    return {
        row.login: Subscriber(*row[:4], speeds[row.plan_id], *row[5:])  # type: ignore[call-arg,misc]
        for row in session.execute(query)
    }


def load_subscriber(session: Session, login: str) -> Subscriber | None:
    return _subscribers(session, _SERVICES.where(Service.login == login)).get(login)


def load_open_sessions(session: Session, login: str) -> tuple[OpenSession, ...]:
    rows = session.execute(_OPEN_SESSIONS.where(AcctSession.login == login))
    return tuple(OpenSession(nas, sid, mac, port) for _, nas, sid, mac, port in rows)


def load_all(session: Session) -> tuple[dict[str, Subscriber], dict[str, tuple[OpenSession, ...]]]:
    """Every subscriber and every open session, in three queries."""
    sessions: dict[str, list[OpenSession]] = {}
    for login, nas, sid, mac, port in session.execute(_OPEN_SESSIONS):
        sessions.setdefault(login, []).append(OpenSession(nas, sid, mac, port))
    return _subscribers(session, _SERVICES), {login: tuple(rows) for login, rows in sessions.items()}


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
