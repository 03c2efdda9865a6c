"""Request-scoped dependencies: the principal behind the bearer token, and the transaction.

The request owns the transaction: routes call services that flush; the commit happens when
the route returns and before the response is sent (``scope="function"``), so a response never
reports a change that did not commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from aaa.audit.log import Actor, act_as
from aaa.db.base import utcnow
from aaa.errors import Forbidden, Unauthenticated
from aaa.operators.service import Principal, authenticate
from aaa.settings import Settings
from aaa.subscribers.customers import Scope

_bearer = HTTPBearer(auto_error=False, description="a token from POST /api/v1/auth/login, or an API key")


def client_address(request: Request) -> str:
    """The socket peer; X-Forwarded-For counts only from ``api.trusted_proxies`` (uvicorn applies
    it before the request gets here, see admin_api.app.uvicorn_config)."""
    return request.client.host if request.client else "unknown"


def principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None:
        raise Unauthenticated(
            "send 'Authorization: Bearer <token>'; get a token from POST /api/v1/auth/login"
        )
    with request.app.state.factory() as session:
        found = authenticate(session, credentials.credentials, utcnow())
    return found


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def policy_zone(request: Request) -> ZoneInfo:
    """The ISP's time zone: what a date in a request means."""
    return ZoneInfo(settings_of(request).policy.timezone)


def public_session(request: Request) -> Iterator[Session]:
    """A transaction for the few routes that need no token (login)."""
    with request.app.state.factory() as session:
        act_as(session, Actor("anonymous", client_address(request)))
        yield session
        session.commit()


def need(permission: str | None = None, may_be_flagged: bool = False) -> Callable[..., Iterator[Session]]:
    """A dependency: authenticated (and holding ``permission``), yields an audited transaction.
    An operator that must change its password reaches only routes ``may_be_flagged``."""

    def dependency(request: Request, who: Annotated[Principal, Depends(principal)]) -> Iterator[Session]:
        if who.must_change_password and not may_be_flagged:
            raise Forbidden(
                f"operator {who.login} must change its password first: POST /api/v1/auth/password"
            )
        if permission:
            who.require(permission)
        with request.app.state.factory() as session:
            name = f"api_key:{who.key_name} ({who.login})" if who.key_name else f"operator:{who.login}"
            act_as(session, Actor(name, client_address(request), who.operator_id))
            yield session
            session.commit()

    return dependency


def db(permission: str | None = None, may_be_flagged: bool = False) -> Any:
    return Depends(need(permission, may_be_flagged), scope="function")


def scope(who: Annotated[Principal, Depends(principal)]) -> Scope:
    return Scope.of(list(who.cities))


Who = Annotated[Principal, Depends(principal)]
CityScope = Annotated[Scope, Depends(scope)]


def reply_attributes(request: Request, items: list[Any] | None) -> list[list[str]] | None:
    """A body's custom reply attributes, checked against the RADIUS dictionary the workers load
    (radius.dictionary); None stays None (not given)."""
    from aaa.radius.reply_attributes import check_reply_attributes

    if items is None:
        return None
    rows = [[i.attribute, i.op, i.value] if hasattr(i, "attribute") else i for i in items]
    return check_reply_attributes(settings_of(request).radius.dictionary, rows)
