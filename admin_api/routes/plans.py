"""The plan catalogue: create, edit (reaches online RADIUS workers), clone, mass change."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from aaa.subscribers import plans
from aaa.subscribers import service as services
from admin_api.deps import CityScope, db, reply_attributes
from admin_api.routes.common import Limit, Offset, PathId
from admin_api.schemas.common import Page
from admin_api.schemas.plans import MassChangeIn, MassChangeOut, PlanCloneIn, PlanIn, PlanOut, PlanPatch

router = APIRouter(tags=["plans"])


@router.get("/plans", response_model=Page[PlanOut])
def list_plans(limit: Limit = 50, offset: Offset = 0, session: Session = db("plans.read")) -> Page[PlanOut]:
    items, total = plans.list_plans(session, limit=limit, offset=offset)
    return Page(items=[PlanOut.model_validate(p) for p in items], total=total, limit=limit, offset=offset)


@router.post("/plans", response_model=PlanOut, status_code=201)
def create_plan(body: PlanIn, request: Request, session: Session = db("plans.write")) -> PlanOut:
    fields = body.model_dump()
    fields["reply_attributes"] = reply_attributes(request, body.reply_attributes)
    return PlanOut.model_validate(plans.add_plan(session, **fields))


@router.get("/plans/{plan_id}", response_model=PlanOut)
def get_plan(plan_id: PathId, session: Session = db("plans.read")) -> PlanOut:
    return PlanOut.model_validate(plans.get_plan(session, plan_id))


@router.patch("/plans/{plan_id}", response_model=PlanOut)
def update_plan(
    plan_id: PathId, body: PlanPatch, request: Request, session: Session = db("plans.write")
) -> PlanOut:
    """Edit a plan: online subscribers on it get the change live where the NAS allows (CoA),
    or at their next login."""
    plan = plans.get_plan(session, plan_id)
    changes = body.model_dump(exclude_unset=True)
    if "reply_attributes" in changes:
        changes["reply_attributes"] = reply_attributes(request, body.reply_attributes) or []
    return PlanOut.model_validate(plans.update_plan(session, plan, **changes))


@router.post("/plans/{plan_id}/clone", response_model=PlanOut, status_code=201)
def clone_plan(plan_id: PathId, body: PlanCloneIn, session: Session = db("plans.write")) -> PlanOut:
    return PlanOut.model_validate(plans.clone_plan(session, plans.get_plan(session, plan_id), name=body.name))


@router.post("/plans/{plan_id}/mass-change", response_model=MassChangeOut)
def mass_change(
    plan_id: PathId, body: MassChangeIn, scope: CityScope, session: Session = db("plans.mass_change")
) -> MassChangeOut:
    """Move the selected services of this plan to another (Alteração massiva de planos).
    Every id in ``service_ids`` must be a service the operator can see (else 404)."""
    for service_id in body.service_ids or ():
        services.get_service_by_id(session, service_id, scope)
    changed = plans.mass_change(
        session,
        plans.get_plan(session, plan_id),
        plans.get_plan(session, body.target_plan_id),
        change_price=body.change_price,
        statuses=body.statuses,
        service_ids=body.service_ids,
        scope=scope,
    )
    return MassChangeOut(changed=changed)
