"""Speed and unlock overlays of a service, its enforcement history, and the reconciler.

Every change here is enforced on the NAS by itself: the flush writes the outbox row and the
enforcer applies it to the subscriber's online sessions (CoA, RouterOS API, Disconnect).
"""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from aaa.audit.log import actor_of
from aaa.db.base import utcnow
from aaa.enforcement import history
from aaa.enforcement.reconcile import reconcile
from aaa.subscribers import overlays, plans
from aaa.subscribers import service as services
from admin_api import scoped
from admin_api.deps import CityScope, db, policy_zone, settings_of
from admin_api.presenters import service_out
from admin_api.routes.common import Limit, Offset, PathId, QueryId
from admin_api.schemas.common import Page
from admin_api.schemas.policies import (
    AttemptOut,
    BonusIn,
    CustomSpeedIn,
    EnforcementOut,
    ExemptIn,
    ReconcileOut,
    TrialIn,
    TrustUnlockIn,
)
from admin_api.schemas.services import ServiceOut

router = APIRouter(tags=["policies"])


def _moment(request: Request, value: date | datetime) -> datetime:
    return overlays.moment_of(value, policy_zone(request))


@router.put("/services/{service_id}/custom-speed", response_model=ServiceOut)
def set_custom_speed(
    service_id: PathId,
    body: CustomSpeedIn,
    request: Request,
    scope: CityScope,
    session: Session = db("services.speed"),
) -> ServiceOut:
    """Navegação customizada: these rates instead of the plan's, until a date (optional)."""
    service = services.get_service_by_id(session, service_id, scope)
    overlays.set_custom_speed(
        session,
        service,
        download_kbps=body.download_kbps,
        upload_kbps=body.upload_kbps,
        until=None if body.until is None else _moment(request, body.until),
        now=utcnow(),
    )
    return service_out(session, service)


@router.delete("/services/{service_id}/custom-speed", response_model=ServiceOut)
def clear_custom_speed(
    service_id: PathId, scope: CityScope, session: Session = db("services.speed")
) -> ServiceOut:
    service = services.get_service_by_id(session, service_id, scope)
    overlays.clear_custom_speed(session, service)
    return service_out(session, service)


@router.put("/services/{service_id}/trial", response_model=ServiceOut)
def start_trial(
    service_id: PathId,
    body: TrialIn,
    request: Request,
    scope: CityScope,
    session: Session = db("services.speed"),
) -> ServiceOut:
    """Degustação de plano: a faster plan of the same technology until a date."""
    service = services.get_service_by_id(session, service_id, scope)
    plan = plans.get_plan(session, body.plan_id)
    overlays.start_trial(session, service, plan=plan, until=_moment(request, body.until), now=utcnow())
    return service_out(session, service)


@router.delete("/services/{service_id}/trial", response_model=ServiceOut)
def end_trial(service_id: PathId, scope: CityScope, session: Session = db("services.speed")) -> ServiceOut:
    service = services.get_service_by_id(session, service_id, scope)
    overlays.end_trial(session, service)
    return service_out(session, service)


@router.post("/services/{service_id}/trust-unlock", response_model=ServiceOut)
def trust_unlock(
    service_id: PathId,
    body: TrustUnlockIn,
    request: Request,
    scope: CityScope,
    session: Session = db("services.unlock"),
) -> ServiceOut:
    """Desbloqueio em confiança of a service suspended for debt: a reason, and an end date."""
    service = services.get_service_by_id(session, service_id, scope)
    overlays.trust_unlock(
        session,
        service,
        until=None if body.until is None else _moment(request, body.until),
        reason=body.reason,
        now=utcnow(),
        settings=settings_of(request).policy,
        granted_by=actor_of(session).name,
        self_service=body.self_service,
    )
    return service_out(session, service)


@router.delete("/services/{service_id}/trust-unlock", response_model=ServiceOut)
def end_trust_unlock(
    service_id: PathId, scope: CityScope, session: Session = db("services.unlock")
) -> ServiceOut:
    service = services.get_service_by_id(session, service_id, scope)
    overlays.end_trust_unlock(session, service)
    return service_out(session, service)


@router.put("/services/{service_id}/bonus", response_model=ServiceOut)
def grant_bonus(
    service_id: PathId,
    body: BonusIn,
    request: Request,
    scope: CityScope,
    session: Session = db("services.unlock"),
) -> ServiceOut:
    """Conceder bônus: no suspension for debt until the date."""
    service = services.get_service_by_id(session, service_id, scope)
    overlays.grant_bonus(session, service, until=_moment(request, body.until), now=utcnow())
    return service_out(session, service)


@router.delete("/services/{service_id}/bonus", response_model=ServiceOut)
def end_bonus(service_id: PathId, scope: CityScope, session: Session = db("services.unlock")) -> ServiceOut:
    service = services.get_service_by_id(session, service_id, scope)
    overlays.end_bonus(session, service)
    return service_out(session, service)


@router.put("/services/{service_id}/exempt", response_model=ServiceOut)
def set_exempt(
    service_id: PathId, body: ExemptIn, scope: CityScope, session: Session = db("services.unlock")
) -> ServiceOut:
    """Isentar: exempt from charges, so never held for debt."""
    service = services.get_service_by_id(session, service_id, scope)
    overlays.set_exempt(session, service, body.exempt)
    return service_out(session, service)


@router.get("/services/{service_id}/enforcement", response_model=Page[EnforcementOut])
def enforcement_history(
    service_id: PathId,
    scope: CityScope,
    limit: Limit = 50,
    offset: Offset = 0,
    session: Session = db("enforcement.read"),
) -> Page[EnforcementOut]:
    """Each change to enforce on the NAS, newest first, with every attempt (method, NAS, result)."""
    services.get_service_by_id(session, service_id, scope)
    out = []
    found, total = history.enforcement_history(session, service_id, limit, offset)
    for row, attempts in found:
        item = EnforcementOut.model_validate(row)
        item.attempt_log = [AttemptOut.model_validate(a) for a in attempts]
        out.append(item)
    return Page(items=out, total=total, limit=limit, offset=offset)


@router.post("/enforcement/reconcile", response_model=list[ReconcileOut])
def run_reconcile(
    request: Request,
    scope: CityScope,
    nas_id: QueryId | None = None,
    session: Session = db("enforcement.run"),
) -> list[ReconcileOut]:
    """Compare each NAS's sessions (RouterOS /ppp/active where the API is configured) with the
    database now: close what the NAS no longer has, list what the database does not know, and
    put drifted sessions back in the outbox. Needs an operator of every city."""
    scoped.whole_isp(scope, "reconciling the NAS")
    reports = reconcile(request.app.state.factory, settings_of(request), utcnow(), nas_id)
    return [ReconcileOut.model_validate(r, from_attributes=True) for r in reports]
