"""Overlays on a service that change its decision without changing its status: custom speed,
plan trial, trust unlock, bonus, exempt.

Each is a few columns on the service, so the RADIUS snapshot reads them with the service and
the audit log, cache invalidation and enforcement outbox follow from the flush. Each ends by
itself at its date: ``decide`` ignores an expired overlay, and ``expire_overlays`` (scheduled)
clears it so online sessions are changed at that moment.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from aaa.errors import Conflict, Invalid
from aaa.settings import PolicySettings
from aaa.tables.subscribers import Plan, Service, TrustUnlock
from aaa.vocabulary.subscribers import ServiceStatus

DEBT = frozenset({ServiceStatus.SUSPENDED_DEBT, ServiceStatus.REDUCED_DEBT})


def moment_of(value: date | datetime, zone: ZoneInfo) -> datetime:
    """An end given as a date means the end of that local day; a date-time must say its zone."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise Invalid(f"{value.isoformat()} has no time zone; add one (e.g. -03:00 or Z) or give a date")
        return value.astimezone(UTC)
    return datetime.combine(value + timedelta(days=1), time(0), zone).astimezone(UTC)


def _future(until: datetime, now: datetime, what: str) -> datetime:
    if until <= now:
        raise Invalid(f"the {what} end ({until.isoformat()}) must be in the future")
    return until


def _editable(service: Service) -> None:
    if service.status is ServiceStatus.CANCELLED:
        raise Conflict(f"service {service.id} is cancelled; a cancelled service cannot be edited")


def set_custom_speed(
    session: Session,
    service: Service,
    *,
    download_kbps: int,
    upload_kbps: int,
    until: datetime | None,
    now: datetime,
) -> None:
    """Navegação customizada: these rates instead of the plan's, until a date or for good."""
    _editable(service)
    if download_kbps < 1 or upload_kbps < 1:
        raise Invalid("download_kbps and upload_kbps must be at least 1")
    service.custom_download_kbps, service.custom_upload_kbps = download_kbps, upload_kbps
    service.custom_until = None if until is None else _future(until, now, "custom speed")
    session.flush()


def clear_custom_speed(session: Session, service: Service) -> None:
    service.custom_download_kbps = service.custom_upload_kbps = service.custom_until = None
    session.flush()


def start_trial(session: Session, service: Service, *, plan: Plan, until: datetime, now: datetime) -> None:
    """Degustação de plano: a faster plan of the same technology until a date."""
    _editable(service)
    current = service.plan
    if plan.id == current.id:
        raise Invalid(f"plan {plan.name!r} is the service's own plan; a trial is of another plan")
    if plan.download_kbps <= current.download_kbps:
        raise Invalid(
            f"a trial is of a faster plan: {plan.name!r} ({plan.download_kbps} kbps) is not faster "
            f"than {current.name!r} ({current.download_kbps} kbps)"
        )
    if plan.technology and current.technology and plan.technology != current.technology:
        raise Invalid(
            f"a trial plan must be of the service's technology ({current.technology.value}); "
            f"{plan.name!r} is {plan.technology.value}"
        )
    service.trial_plan = plan
    service.trial_until = _future(until, now, "trial")
    session.flush()


def end_trial(session: Session, service: Service) -> None:
    service.trial_plan = None
    service.trial_until = None
    session.flush()


def trust_unlock(
    session: Session,
    service: Service,
    *,
    until: datetime | None,
    reason: str,
    now: datetime,
    settings: PolicySettings,
    granted_by: str,
    self_service: bool = False,
) -> TrustUnlock:
    """Desbloqueio em confiança: only for a service held for debt; a reason always, an end date
    from the operator (at most ``trust_max_days``), a fixed short one when the subscriber asks
    (``trust_self_service_days``, at most ``trust_self_service_per_month`` times a month)."""
    _editable(service)
    if service.status not in DEBT:
        raise Conflict(
            "a trust unlock is only for a service suspended for debt (suspended_debt or reduced_debt); "
            f"service {service.id} is {service.status.value}"
        )
    if not reason or not reason.strip():
        raise Invalid("give a reason for the trust unlock; it is kept in the service's history")
    if self_service:
        until = now + timedelta(days=settings.trust_self_service_days)
        _self_service_allowed(session, service, now, settings)
    elif until is None:
        raise Invalid("give the date the trust unlock ends")
    else:
        _future(until, now, "trust unlock")
        latest = now + timedelta(days=settings.trust_max_days)
        if until > latest:
            raise Invalid(
                f"a trust unlock lasts at most {settings.trust_max_days} days (until {latest.isoformat()})"
            )
    service.trust_until, service.trust_reason = until, reason.strip()
    grant = TrustUnlock(
        service_id=service.id,
        granted_at=now,
        until=until,
        reason=reason.strip(),
        self_service=self_service,
        granted_by=granted_by,
    )
    session.add(grant)
    session.flush()
    return grant


def _self_service_allowed(
    session: Session, service: Service, now: datetime, settings: PolicySettings
) -> None:
    if settings.trust_self_service_per_month == 0:
        raise Conflict("self-service trust unlock is turned off by the provider")
    local = now.astimezone(ZoneInfo(settings.timezone))
    month_start = datetime.combine(local.date().replace(day=1), time(0), local.tzinfo)
    used = session.scalar(
        select(func.count())
        .select_from(TrustUnlock)
        .where(
            TrustUnlock.service_id == service.id,
            TrustUnlock.self_service.is_(True),
            TrustUnlock.granted_at >= month_start,
        )
    )
    if (used or 0) >= settings.trust_self_service_per_month:
        raise Conflict(
            f"the self-service trust unlock was already used {used} time(s) this month "
            f"(limit {settings.trust_self_service_per_month}); ask the provider"
        )


def end_trust_unlock(session: Session, service: Service) -> None:
    service.trust_until = None
    service.trust_reason = None
    session.flush()


def grant_bonus(session: Session, service: Service, *, until: datetime, now: datetime) -> None:
    """Conceder bônus: no debt status applies until the date (the routine does not block)."""
    _editable(service)
    service.bonus_until = _future(until, now, "bonus")
    session.flush()


def end_bonus(session: Session, service: Service) -> None:
    service.bonus_until = None
    session.flush()


def set_exempt(session: Session, service: Service, exempt: bool) -> None:
    """Isentar: exempt from charges, so never held for debt."""
    _editable(service)
    service.exempt = exempt
    session.flush()


def expire_overlays(session: Session, now: datetime) -> list[int]:
    """Clear every overlay whose end has passed; returns the services changed."""
    services = session.scalars(
        select(Service).where(
            or_(
                Service.custom_until <= now,
                Service.trial_until <= now,
                Service.trust_until <= now,
                Service.bonus_until <= now,
            )
        )
    ).all()
    for service in services:
        if service.custom_until is not None and service.custom_until <= now:
            clear_custom_speed(session, service)
        if service.trial_until is not None and service.trial_until <= now:
            end_trial(session, service)
        if service.trust_until is not None and service.trust_until <= now:
            end_trust_unlock(session, service)
        if service.bonus_until is not None and service.bonus_until <= now:
            end_bonus(session, service)
    return [s.id for s in services]


def last_trust_unlock(session: Session, service_id: int) -> TrustUnlock | None:
    """The latest trust unlock granted to the service (the console says when it was last used)."""
    query = select(TrustUnlock).where(TrustUnlock.service_id == service_id)
    return session.scalar(query.order_by(TrustUnlock.granted_at.desc(), TrustUnlock.id.desc()).limit(1))
