"""Loading subscriber snapshots and open sessions: a worker's start-up, and a cache miss."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from aaa.accounting.models import AcctSession
from aaa.policies.model import OpenSession, PlanSpeed, Subscriber
from aaa.subscribers.models import Plan, Service

# Plain columns, not ORM objects: the start-up load of 100k services would double a worker's
# peak memory otherwise. Columns 0-9 are Subscriber's fields in order (plan_id stands where the
# PlanSpeed goes); columns 10-17 are PlanSpeed's fields in order.
_SUBSCRIBERS = (
    select(
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
        Plan.name,
        Plan.download_kbps,
        Plan.upload_kbps,
        Plan.burst_download_kbps,
        Plan.burst_upload_kbps,
        Plan.burst_threshold_download_kbps,
        Plan.burst_threshold_upload_kbps,
        Plan.burst_time_s,
    )
    .join(Plan, Service.plan_id == Plan.id)
    .where(Service.login.is_not(None))
)
_OPEN_SESSIONS = select(
    AcctSession.login,
    AcctSession.nas_id,
    AcctSession.acct_session_id,
    AcctSession.calling_station_id,
    AcctSession.nas_port_id,
).where(AcctSession.stop_time.is_(None))


def _subscribers(session: Session, query: Select[*tuple[Any, ...]]) -> dict[str, Subscriber]:
    speeds: dict[int, PlanSpeed] = {}  # one PlanSpeed per plan, shared by its subscribers
    subscribers = {}
    for row in session.execute(query):
        speed = speeds.get(row.plan_id) or speeds.setdefault(row.plan_id, PlanSpeed(*row[10:]))
        subscribers[row.login] = Subscriber(*row[:4], speed, *row[5:10])  # type: ignore[call-arg,misc]
    return subscribers


def load_subscriber(session: Session, login: str) -> Subscriber | None:
    return _subscribers(session, _SUBSCRIBERS.where(Service.login == login)).get(login)


def load_open_sessions(session: Session, login: str) -> tuple[OpenSession, ...]:
    rows = session.execute(_OPEN_SESSIONS.where(AcctSession.login == login))
    return tuple(OpenSession(nas, sid, mac, port) for _, nas, sid, mac, port in rows)


def load_all(session: Session) -> tuple[dict[str, Subscriber], dict[str, tuple[OpenSession, ...]]]:
    """Every subscriber and every open session, in two queries."""
    sessions: dict[str, list[OpenSession]] = {}
    for login, nas, sid, mac, port in session.execute(_OPEN_SESSIONS):
        sessions.setdefault(login, []).append(OpenSession(nas, sid, mac, port))
    return _subscribers(session, _SUBSCRIBERS), {login: tuple(rows) for login, rows in sessions.items()}
