"""The diagnostics panel of a service (Diagnósticos do Serviço), read-only.

What the support desk needs while the customer is on the phone: the status and why, what the
next login would get and why (the policy's own reason trace), whether it is online now, the
connection history, and the last days of authentications with reject reasons and the
MAC/interface mismatch flags.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from aaa.accounting.store import history
from aaa.ipam.pools import load_pools
from aaa.policies.decide import decide
from aaa.policies.decision import Decision
from aaa.policies.inputs import RequestFacts
from aaa.settings import PolicySettings
from aaa.snapshots import isp_policy, load_subscriber
from aaa.tables.accounting import AcctSession, AuthLog
from aaa.tables.subscribers import Service


@dataclass(frozen=True)
class Diagnostics:
    service: Service
    login: str | None
    decision: Decision | None  # None: the service has no login that can authenticate
    online: list[AcctSession]
    history: list[AcctSession]
    authentications: list[AuthLog]


def diagnose(
    session: Session,
    service: Service,
    now: datetime,
    settings: PolicySettings,
    *,
    days: int = 7,
    limit: int = 100,
) -> Diagnostics:
    login = service.login or service.former_login
    decision = None
    if service.login:
        subscriber = load_subscriber(session, service.login)
        if subscriber is not None:
            # As if the registered CPE dialled in on its registered interface, nothing else online.
            facts = RequestFacts(0, subscriber.mac, subscriber.nas_port_id, 0, ())
            decision = decide(subscriber, facts, now, isp_policy(settings, load_pools(session).values()))
    lineage = _lineage(session, service)
    sessions = history(session, login, limit, lineage) if login else []
    auths = (
        list(
            session.scalars(
                select(AuthLog)
                .where(
                    AuthLog.login == login,
                    AuthLog.time >= now - timedelta(days=days),
                    or_(AuthLog.service_id.in_(lineage), AuthLog.service_id.is_(None)),
                )
                .order_by(AuthLog.time.desc(), AuthLog.id.desc())
                .limit(limit)
            )
        )
        if login
        else []
    )
    return Diagnostics(
        service=service,
        login=login,
        decision=decision,
        online=[s for s in sessions if s.stop_time is None],
        history=[s for s in sessions if s.stop_time is not None],
        authentications=auths,
    )


def _lineage(session: Session, service: Service) -> list[int]:
    """The service and those it migrated from: a login's history belongs to them, not to an
    earlier customer whose cancelled service once had the same login."""
    ids = [service.id]
    previous = service.migrated_from_id
    while previous is not None and previous not in ids:
        ids.append(previous)
        previous = session.scalar(select(Service.migrated_from_id).where(Service.id == previous))
    return ids
