"""Login, logout, who am I, the permission catalogue, operators' API keys."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from aaa.audit.log import Actor, act_as, record
from aaa.errors import Forbidden, NotFound, TooMany, Unauthenticated
from aaa.operators import service as operators
from aaa.operators.permissions import PERMISSIONS
from aaa.tables.operators import ApiToken, Operator, TokenKind
from admin_api.deps import Who, client_address, db
from admin_api.login_guard import LoginGuard
from admin_api.presenters import operator_out
from admin_api.routes.common import Limit, Offset, PathId, listed, paged
from admin_api.schemas.auth import ApiKeyIn, ApiKeyOut, LoginIn, PasswordChangeIn, PermissionOut, TokenOut
from admin_api.schemas.common import Page
from admin_api.schemas.operators import OperatorOut

router = APIRouter(tags=["auth"])
T = TypeVar("T")


@router.post("/auth/login", response_model=TokenOut, responses={429: {"description": "rate limited"}})
async def login(body: LoginIn, request: Request) -> TokenOut:
    """A session token. Attempts are rate limited per address and per login; wrong passwords
    lock the login (``api.lockout_failures``) and, from one address, the address; 429 says
    when to retry. A token of an operator that must change its password only reaches
    ``POST /auth/password``, ``GET /auth/me`` and ``POST /auth/logout``."""
    guard: LoginGuard = request.app.state.login_guard
    source = client_address(request)
    guard.admit(source, body.login)
    with guard.hashing():
        return await run_in_threadpool(_login, request, body, source)


def _login(request: Request, body: LoginIn, source: str) -> TokenOut:
    settings = request.app.state.settings.api

    def token_out(session: Session, operator: Operator) -> TokenOut:
        token, row = operators.open_session(session, operator, timedelta(hours=settings.token_ttl_hours))
        return TokenOut(
            token=token, expires_at=row.expires_at, must_change_password=operator.must_change_password
        )

    return check_login(request, body.login, body.password, source, token_out)


def check_login(
    request: Request, login: str, password: str, source: str, opened: Callable[[Session, Operator], T]
) -> T:
    """The password check of every login, the API's and the console's: the lockouts, the audit
    of an address locked out, then ``opened`` makes the session (in the same transaction). The
    caller has passed ``LoginGuard.admit`` and holds ``LoginGuard.hashing``."""
    settings = request.app.state.settings.api
    lockout = operators.Lockout(settings.lockout_failures, timedelta(minutes=settings.lockout_minutes))
    with request.app.state.factory() as session:
        act_as(session, Actor("anonymous", source))
        try:
            operator = operators.check_password(session, login=login, password=password, lockout=lockout)
        except Unauthenticated:
            if request.app.state.login_guard.failed(source):
                record(
                    session,
                    entity="login_source",
                    entity_id=None,
                    action="locked",
                    note=f"address {source} locked out of logins for {settings.lockout_minutes:g} minute(s) "
                    f"after {settings.source_lockout_failures} wrong passwords",
                )
            session.commit()  # the failure counts even though the request fails
            raise
        except TooMany:
            session.commit()
            raise
        act_as(session, Actor(f"operator:{operator.login}", source, operator.id))
        out = opened(session, operator)
        session.commit()
        return out


@router.post("/auth/password", response_model=TokenOut)
async def change_password(body: PasswordChangeIn, who: Who, request: Request) -> TokenOut:
    """The operator changes its own password (the current one proves it). Every session it had
    ends, this one included; the answer carries a new token."""
    if who.key_name is not None:
        raise Forbidden("an API key cannot change its operator's password; log in as the operator")
    with request.app.state.login_guard.hashing():
        return await run_in_threadpool(_change_password, request, body, who)


def _change_password(request: Request, body: PasswordChangeIn, who: operators.Principal) -> TokenOut:
    ttl = timedelta(hours=request.app.state.settings.api.token_ttl_hours)
    with request.app.state.factory() as session:
        act_as(session, Actor(f"operator:{who.login}", client_address(request), who.operator_id))
        operator = operators.get_operator(session, who.operator_id)
        operators.change_own_password(session, operator, current=body.current_password, new=body.new_password)
        token, row = operators.open_session(session, operator, ttl)
        session.commit()
        return TokenOut(token=token, expires_at=row.expires_at, must_change_password=False)


@router.post("/auth/logout", status_code=204)
def logout(who: Who, session: Session = db(may_be_flagged=True)) -> None:
    operators.revoke(session, who.token_id)


@router.get("/auth/me", response_model=OperatorOut)
def me(who: Who, session: Session = db(may_be_flagged=True)) -> OperatorOut:
    return operator_out(operators.get_operator(session, who.operator_id))


@router.get("/permissions", response_model=Page[PermissionOut])
def permissions(_: Who, limit: Limit = 500, offset: Offset = 0) -> Page[PermissionOut]:
    return listed(
        [PermissionOut(name=name, description=text) for name, text in PERMISSIONS.items()], limit, offset
    )


@router.get("/api-keys", response_model=Page[ApiKeyOut])
def list_keys(
    limit: Limit = 50, offset: Offset = 0, session: Session = db("operators.admin")
) -> Page[ApiKeyOut]:
    found = operators.list_api_keys(session, limit=limit, offset=offset)
    return paged(found, ApiKeyOut.model_validate, limit, offset)


@router.post("/api-keys", response_model=ApiKeyOut, status_code=201)
def create_key(body: ApiKeyIn, who: Who, session: Session = db("operators.admin")) -> ApiKeyOut:
    token, row = operators.create_api_key(
        session, who, name=body.name, scopes=body.scopes, expires_at=body.expires_at
    )
    return ApiKeyOut.model_validate(row).model_copy(update={"token": token})


@router.delete("/api-keys/{key_id}", status_code=204)
def revoke_key(key_id: PathId, who: Who, session: Session = db("operators.admin")) -> None:
    row = operators.get_one(session, ApiToken, key_id, "API key")
    if row.kind is not TokenKind.API_KEY:
        raise NotFound(f"API key {key_id} does not exist")
    operators.revoke(session, key_id, by=who)
