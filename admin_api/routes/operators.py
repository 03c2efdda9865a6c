"""Operators (Usuários), roles and cash boxes: everything here needs ``operators.admin``."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from aaa.operators import service as operators
from aaa.tables.operators import Role
from admin_api.deps import Who, db
from admin_api.presenters import operator_out, operators_page
from admin_api.routes.common import Limit, Offset, PathId, paged
from admin_api.schemas.common import Page
from admin_api.schemas.operators import (
    CashBoxIn,
    CashBoxOut,
    CloneIn,
    OperatorIn,
    OperatorOut,
    OperatorPatch,
    RoleIn,
    RoleOut,
    RolePatch,
)

router = APIRouter(tags=["operators"])
ADMIN = "operators.admin"


@router.get("/operators", response_model=Page[OperatorOut])
def list_operators(
    active: bool | None = None, limit: Limit = 50, offset: Offset = 0, session: Session = db(ADMIN)
) -> Page[OperatorOut]:
    items, total = operators.list_operators(session, active=active, limit=limit, offset=offset)
    return Page(items=operators_page(session, items), total=total, limit=limit, offset=offset)


@router.post("/operators", response_model=OperatorOut, status_code=201)
def create_operator(body: OperatorIn, who: Who, session: Session = db(ADMIN)) -> OperatorOut:
    """The new operator holds at most what its creator holds (permissions, roles, cities);
    only a superuser creates a superuser."""
    return operator_out(operators.add_operator(session, **body.model_dump(), by=who))


@router.get("/operators/{operator_id}", response_model=OperatorOut)
def get_operator(operator_id: PathId, session: Session = db(ADMIN)) -> OperatorOut:
    return operator_out(operators.get_operator(session, operator_id))


@router.patch("/operators/{operator_id}", response_model=OperatorOut)
def update_operator(
    operator_id: PathId, body: OperatorPatch, who: Who, session: Session = db(ADMIN)
) -> OperatorOut:
    """Nobody changes their own rights or grants what they do not hold; only a superuser edits a
    superuser. A new password ends the operator's sessions."""
    operator = operators.get_operator(session, operator_id)
    changes = body.model_dump(exclude_unset=True)
    return operator_out(operators.update_operator(session, operator, **changes, by=who))


@router.post("/operators/{operator_id}/deactivate", response_model=OperatorOut)
def deactivate(operator_id: PathId, who: Who, session: Session = db(ADMIN)) -> OperatorOut:
    """Inativar: the operator can no longer log in and its tokens and API keys stop working.
    The last active superuser cannot be deactivated."""
    operator = operators.get_operator(session, operator_id)
    return operator_out(operators.set_active(session, operator, False, by=who))


@router.post("/operators/{operator_id}/activate", response_model=OperatorOut)
def activate(operator_id: PathId, who: Who, session: Session = db(ADMIN)) -> OperatorOut:
    operator = operators.get_operator(session, operator_id)
    return operator_out(operators.set_active(session, operator, True, by=who))


@router.post("/operators/{operator_id}/unlock", response_model=OperatorOut)
def unlock(operator_id: PathId, who: Who, session: Session = db(ADMIN)) -> OperatorOut:
    """Lift the lock that wrong passwords put on the login (see locked_until)."""
    return operator_out(operators.unlock(session, operators.get_operator(session, operator_id), by=who))


@router.post("/operators/{operator_id}/disconnect", status_code=204)
def disconnect(operator_id: PathId, who: Who, session: Session = db(ADMIN)) -> None:
    """Desconectar: end the operator's login sessions (it logs in again to get new rights)."""
    operators.disconnect(session, operators.get_operator(session, operator_id), by=who)


@router.post("/operators/{operator_id}/clone-permissions", response_model=OperatorOut)
def clone_permissions(
    operator_id: PathId, body: CloneIn, who: Who, session: Session = db(ADMIN)
) -> OperatorOut:
    """Replace the operator's permissions and roles with another operator's, within
    what the caller holds."""
    operator = operators.get_operator(session, operator_id)
    source = operators.get_operator(session, body.from_operator_id)
    return operator_out(operators.clone_permissions(session, operator, source, by=who))


@router.get("/roles", response_model=Page[RoleOut])
def list_roles(limit: Limit = 50, offset: Offset = 0, session: Session = db(ADMIN)) -> Page[RoleOut]:
    return paged(
        operators.list_roles(session, limit=limit, offset=offset), RoleOut.model_validate, limit, offset
    )


@router.post("/roles", response_model=RoleOut, status_code=201)
def create_role(body: RoleIn, who: Who, session: Session = db(ADMIN)) -> RoleOut:
    """A role carries only permissions its creator holds."""
    return RoleOut.model_validate(operators.add_role(session, **body.model_dump(), by=who))


@router.patch("/roles/{role_id}", response_model=RoleOut)
def update_role(role_id: PathId, body: RolePatch, who: Who, session: Session = db(ADMIN)) -> RoleOut:
    role = operators.get_one(session, Role, role_id, "role")
    changes = body.model_dump(exclude_unset=True)
    return RoleOut.model_validate(operators.update_role(session, role, **changes, by=who))


@router.delete("/roles/{role_id}", status_code=204)
def delete_role(role_id: PathId, session: Session = db(ADMIN)) -> None:
    operators.delete_role(session, role_id)


@router.get("/cash-boxes", response_model=Page[CashBoxOut])
def list_cash_boxes(limit: Limit = 50, offset: Offset = 0, session: Session = db(ADMIN)) -> Page[CashBoxOut]:
    found = operators.list_cash_boxes(session, limit=limit, offset=offset)
    return paged(found, CashBoxOut.model_validate, limit, offset)


@router.post("/cash-boxes", response_model=CashBoxOut, status_code=201)
def create_cash_box(body: CashBoxIn, session: Session = db(ADMIN)) -> CashBoxOut:
    return CashBoxOut.model_validate(operators.add_cash_box(session, name=body.name))
