"""Writing accounting into sessions, idempotently, and reading connection history.

Every write is a merge that only moves forward: counters and times take the larger value,
the first Stop wins, and a late Start or Interim never reopens a stopped session. So a
retransmission, a duplicate from another worker or an out-of-order packet changes nothing
it should not.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from aaa.accounting.models import AcctSession, ClosedBy
from aaa.accounting.records import AcctRecord, StatusType
from aaa.changes.feed import record_changes
from aaa.changes.models import ChangeKind
from aaa.nas.models import Nas
from aaa.subscribers.models import Service

_KEY = ["nas_id", "acct_session_id", "login"]
_COUNTERS = ("session_time", "input_octets", "output_octets", "input_packets", "output_packets")


def _greatest(dialect: str, a: Any, b: Any) -> Any:
    # SQLite's two-argument max() is its scalar GREATEST.
    return func.greatest(a, b) if dialect == "postgresql" else func.max(a, b)


def _upsert(session: Session, rec: AcctRecord) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stopped = rec.status is StatusType.STOP
    started_at = rec.event_time - timedelta(seconds=rec.session_time)
    values = {
        "nas_id": rec.nas_id,
        "acct_session_id": rec.acct_session_id,
        "login": rec.login,
        "service_id": select(Service.id).where(Service.login == rec.login).scalar_subquery(),
        "nas_port": rec.nas_port,
        "nas_port_id": rec.nas_port_id,
        "calling_station_id": rec.calling_station_id,
        "framed_ip": rec.framed_ip,
        "start_time": rec.event_time if rec.status is StatusType.START else started_at,
        "last_update": rec.event_time,
        "stop_time": rec.event_time if stopped else None,
        "terminate_cause": rec.terminate_cause,
        "closed_by": ClosedBy.STOP if stopped else None,
        **{name: getattr(rec, name) for name in _COUNTERS},
    }
    stmt = insert(AcctSession).values(**values)
    new, t = stmt.excluded, AcctSession.__table__.c
    merge: dict[str, Any] = {
        name: _greatest(dialect, getattr(t, name), getattr(new, name)) for name in (*_COUNTERS, "last_update")
    }
    for name in ("nas_port", "nas_port_id", "calling_station_id", "framed_ip"):
        merge[name] = func.coalesce(getattr(new, name), getattr(t, name))
    merge["service_id"] = func.coalesce(t.service_id, new.service_id)
    # A Start knows the real start time; Interim and Stop only estimate it.
    merge["start_time"] = (
        new.start_time if rec.status is StatusType.START else func.coalesce(t.start_time, new.start_time)
    )
    if stopped:
        merge["stop_time"] = func.coalesce(t.stop_time, new.stop_time)
        merge["terminate_cause"] = func.coalesce(t.terminate_cause, new.terminate_cause)
        merge["closed_by"] = func.coalesce(t.closed_by, new.closed_by)
    session.execute(stmt.on_conflict_do_update(index_elements=_KEY, set_=merge))


def _interim(session: Session, rec: AcctRecord) -> bool:
    """Update in place (the common case, one statement); insert when Interim came first.

    Returns True when the session was not known before.
    """
    dialect = session.get_bind().dialect.name
    t = AcctSession
    result = session.execute(
        update(t)
        .where(t.nas_id == rec.nas_id, t.acct_session_id == rec.acct_session_id, t.login == rec.login)
        .values(
            last_update=_greatest(dialect, t.last_update, rec.event_time),
            framed_ip=func.coalesce(rec.framed_ip, t.framed_ip),
            **{name: _greatest(dialect, getattr(t, name), getattr(rec, name)) for name in _COUNTERS},
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount:  # type: ignore[attr-defined]
        return False
    _upsert(session, rec)
    return True


def _close_nas(session: Session, rec: AcctRecord) -> list[str]:
    """Accounting-On/Off: the NAS has no sessions any more (RFC 2866 §5.1)."""
    t = AcctSession
    rows = session.execute(
        update(t)
        .where(t.nas_id == rec.nas_id, t.stop_time.is_(None), t.last_update <= rec.event_time)
        .values(stop_time=rec.event_time, closed_by=ClosedBy.NAS_REBOOT, terminate_cause="NAS-Reboot")
        .returning(t.login)
        .execution_options(synchronize_session=False)
    ).all()
    return [row[0] for row in rows]


def apply_records(session: Session, records: Iterable[AcctRecord]) -> set[str]:
    """Apply records in arrival order; returns the logins whose open sessions changed."""
    changed: set[str] = set()
    for rec in records:
        if rec.status in (StatusType.ACCOUNTING_ON, StatusType.ACCOUNTING_OFF):
            changed.update(_close_nas(session, rec))
        elif rec.status is StatusType.INTERIM:
            if _interim(session, rec):
                changed.add(rec.login)
        else:
            _upsert(session, rec)
            changed.add(rec.login)
    record_changes(session, [(ChangeKind.SESSION, login) for login in sorted(changed)])
    return changed


def reap(session: Session, now: datetime, multiplier: float, default_interval: int) -> list[str]:
    """Close sessions the NAS forgot: no update for ``multiplier`` interim intervals."""
    closed: list[str] = []
    t = AcctSession
    for nas_id, interval in session.execute(select(Nas.id, Nas.interim_interval)).all():
        limit = timedelta(seconds=multiplier * (interval or default_interval or 300))
        rows = session.execute(
            update(t)
            .where(t.nas_id == nas_id, t.stop_time.is_(None), t.last_update < now - limit)
            .values(stop_time=t.last_update, closed_by=ClosedBy.TIMEOUT, terminate_cause="Stale-Session")
            .returning(t.login)
            .execution_options(synchronize_session=False)
        ).all()
        closed.extend(row[0] for row in rows)
    record_changes(session, [(ChangeKind.SESSION, login) for login in sorted(set(closed))])
    return closed


def history(session: Session, login: str, limit: int = 100) -> list[AcctSession]:
    """Connection history (seed: Extrato de Conexões), newest first."""
    return list(
        session.scalars(
            select(AcctSession)
            .where(AcctSession.login == login)
            .order_by(AcctSession.start_time.desc().nulls_last(), AcctSession.id.desc())
            .limit(limit)
        )
    )
