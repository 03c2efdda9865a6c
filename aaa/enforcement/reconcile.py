"""The reconciler: what the NAS reports against what the database believes.

With the RouterOS API, ``/ppp/active`` is the truth about who is online: an open session the NAS
no longer has is closed (``closed_by = reconcile``; its Stop was lost), a session the NAS has and
the database does not know is reported. For every NAS, sessions whose known grant differs from
what the decision gives now (a failed or lost enforcement) are put back in the outbox. Runs on a
schedule and on demand (API, CLI).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from aaa import metrics
from aaa.changes.feed import record_changes
from aaa.changes.sessions import session_closed
from aaa.db.base import utcnow
from aaa.enforcement.routeros import ActiveSession, RouterOsError, connect
from aaa.enforcement.targets import load_targets, nas_target
from aaa.policies.grant import Action
from aaa.settings import Settings
from aaa.tables.accounting import AcctSession, ClosedBy
from aaa.tables.enforcement import Enforcement, EnforcementState
from aaa.tables.nas import Nas

log = logging.getLogger(__name__)


@dataclass
class Report:
    nas_id: int
    nas: str
    source: str  # "routeros" (/ppp/active) or "accounting" (no API: only drift is checked)
    closed: list[str] = field(default_factory=list)  # "login (Acct-Session-Id)"
    unknown: list[str] = field(default_factory=list)  # on the NAS, not open in the database
    reapplied: list[int] = field(default_factory=list)  # services put back in the outbox
    error: str | None = None


def reconcile(
    factory: sessionmaker[Session], settings: Settings, now: datetime, nas_id: int | None = None
) -> list[Report]:
    with factory() as session:
        query = select(Nas).order_by(Nas.id)
        nases = session.scalars(query.where(Nas.id == nas_id) if nas_id is not None else query).all()
    return [_reconcile_nas(factory, settings, nas, now) for nas in nases]


def _reconcile_nas(factory: sessionmaker[Session], settings: Settings, nas: Nas, now: datetime) -> Report:
    target = nas_target(nas)
    report = Report(nas.id, nas.name, "routeros" if target.has_api else "accounting")
    active: list[ActiveSession] | None = None
    asked_at = utcnow()  # a session that started after the NAS was asked is not judged by its answer
    if target.has_api:
        assert target.host is not None and target.api_username is not None
        try:
            with connect(
                target.host,
                target.api_port,
                target.api_username,
                target.api_password or "",
                settings.enforcer.api_timeout,
                tls=target.api_tls,
                verify=target.api_tls_verify,
                ca_file=settings.enforcer.api_ca_file,
            ) as ros:
                active = ros.active()
        except RouterOsError as exc:
            report.error = str(exc)
            log.warning("reconcile %s: %s", nas.name, exc)
    with factory.begin() as session:
        open_sessions = session.scalars(
            select(AcctSession).where(AcctSession.nas_id == nas.id, AcctSession.stop_time.is_(None))
        ).all()
        if active is not None:
            on_nas = {a.name for a in active}
            gone = [
                s
                for s in open_sessions
                if s.login not in on_nas and (s.start_time or s.last_update) < asked_at
            ]
            if gone:
                session.execute(
                    update(AcctSession)
                    .where(AcctSession.id.in_([s.id for s in gone]))
                    .values(stop_time=now, closed_by=ClosedBy.RECONCILE, terminate_cause="NAS-Reconcile")
                    .execution_options(synchronize_session=False)
                )
                record_changes(session, [session_closed(s.login, s.nas_id, s.acct_session_id) for s in gone])
            report.closed = [f"{s.login} ({s.acct_session_id})" for s in gone]
            known = {s.login for s in open_sessions}
            report.unknown = sorted(
                f"{a.name} ({a.address or 'no address'})" for a in active if a.name not in known
            )
            open_sessions = [s for s in open_sessions if s not in gone]
        waiting = set(
            session.scalars(
                select(Enforcement.service_id).where(Enforcement.state == EnforcementState.PENDING)
            )
        )
        candidates = sorted({s.service_id for s in open_sessions if s.service_id is not None} - waiting)
        for service_id, targets in load_targets(session, candidates, settings.policy, now).items():
            drifted = [t for t in targets if t.nas.id == nas.id and t.change.action is not Action.IN_SYNC]
            if drifted:
                session.add(
                    Enforcement(
                        service_id=service_id,
                        cause=f"reconcile: {drifted[0].change.why}"[:300],
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
                report.reapplied.append(service_id)
    for finding, count in (
        ("closed", len(report.closed)),
        ("unknown", len(report.unknown)),
        ("reapplied", len(report.reapplied)),
    ):
        if count:
            metrics.child(metrics.RECONCILE_FINDINGS, finding, nas.name).inc(count)
    return report
