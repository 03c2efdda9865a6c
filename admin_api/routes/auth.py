"""Login, logout, who am I, the permission catalogue, operators' API keys."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from aaa.audit.recorder import Actor, act_as, actor_of
from aaa.errors import NotFound
from aaa.operators import service as operators
from aaa.operators.models import ApiToken, TokenKind
from aaa.operators.permissions import PERMISSIONS
from admin_api.deps import Who, db, public_session
from admin_api.routes.common import Limit, Offset, PathId, page_of
from admin_api.schemas import ApiKeyIn, ApiKeyOut, LoginIn, OperatorOut, Page, PermissionOut, TokenOut
from admin_api.views import operator_out

router = APIRouter(tags=["auth"])


@router.post("/auth/login", response_model=TokenOut)
def login(
    body: LoginIn, request: Request, session: Annotated[Session, Depends(public_session, scope="function")]
) -> TokenOut:
    operator = operators.check_password(session, login=body.login, password=body.password)
    act_as(session, Actor(f"operator:{operator.login}", actor_of(session).source, operator.id))
    ttl = timedelta(hours=request.app.state.settings.api.token_ttl_hours)
    token, row = operators.open_session(session, operator, ttl)
    return TokenOut(token=token, expires_at=row.expires_at)


@router.post("/auth/logout", status_code=204)
def logout(who: Who, session: Session = db()) -> None:
    operators.revoke(session, who.token_id)


@router.get("/auth/me", response_model=OperatorOut)
def me(who: Who, session: Session = db()) -> OperatorOut:
    return operator_out(operators.get_operator(session, who.operator_id))


@router.get("/permissions", response_model=list[PermissionOut])
def permissions(_: Who) -> list[PermissionOut]:
    return [PermissionOut(name=name, description=text) for name, text in PERMISSIONS.items()]


@router.get("/api-keys", response_model=Page[ApiKeyOut])
def list_keys(
    limit: Limit = 50, offset: Offset = 0, session: Session = db("operators.admin")
) -> Page[ApiKeyOut]:
    query = select(ApiToken).where(ApiToken.kind == TokenKind.API_KEY)
    return page_of(session, query, ApiToken.id, ApiKeyOut.model_validate, limit, offset)


@router.post("/api-keys", response_model=ApiKeyOut, status_code=201)
def create_key(body: ApiKeyIn, who: Who, session: Session = db("operators.admin")) -> ApiKeyOut:
    token, row = operators.create_api_key(
        session, who, name=body.name, scopes=body.scopes, expires_at=body.expires_at
    )
    return ApiKeyOut.model_validate(row).model_copy(update={"token": token})


@router.delete("/api-keys/{key_id}", status_code=204)
def revoke_key(key_id: PathId, session: Session = db("operators.admin")) -> None:
    row = operators.get_one(session, ApiToken, key_id, "API key")
    if row.kind is not TokenKind.API_KEY:
        raise NotFound(f"API key {key_id} does not exist")
    operators.revoke(session, key_id)
