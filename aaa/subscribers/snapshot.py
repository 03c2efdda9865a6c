"""Loading subscriber snapshots and open sessions: the only SQL of an uncached Access-Request."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from aaa.accounting.models import AcctSession
from aaa.policies.model import OpenSession, PlanSpeed, Subscriber
from aaa.subscribers.models import Plan, Service


def load_subscriber(session: Session, login: str) -> Subscriber | None:
    row = session.execute(
        select(Service, Plan).join(Plan, Service.plan_id == Plan.id).where(Service.login == login)
    ).first()
    if row is None:
        return None
    svc, plan = row
    return Subscriber(
        service_id=svc.id,
        login=svc.login,
        password=svc.password,
        status=svc.status,
        plan=PlanSpeed(
            name=plan.name,
            download_kbps=plan.download_kbps,
            upload_kbps=plan.upload_kbps,
            burst_download_kbps=plan.burst_download_kbps,
            burst_upload_kbps=plan.burst_upload_kbps,
            burst_threshold_download_kbps=plan.burst_threshold_download_kbps,
            burst_threshold_upload_kbps=plan.burst_threshold_upload_kbps,
            burst_time_s=plan.burst_time_s,
        ),
        simultaneous_use=svc.simultaneous_use,
        mac_binding=svc.mac_binding,
        mac=svc.mac,
        nas_port_id=svc.nas_port_id,
        fixed_ipv4=svc.fixed_ipv4,
    )


def load_open_sessions(session: Session, login: str) -> tuple[OpenSession, ...]:
    rows = session.execute(
        select(
            AcctSession.nas_id,
            AcctSession.acct_session_id,
            AcctSession.calling_station_id,
            AcctSession.nas_port_id,
        ).where(AcctSession.login == login, AcctSession.stop_time.is_(None))
    ).all()
    return tuple(OpenSession(*row) for row in rows)
