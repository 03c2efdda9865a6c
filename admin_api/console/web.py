"""What every console page shares: the session cookie, the CSRF check, the request's audited
transaction (a ``Desk``), the templates with their pt-BR filters, and the error pages.

A page is authorised exactly like an API route: the operator's permissions are read anew on
every request (``aaa.operators.service.authenticate``), objects are fetched through the same
city-scoped domain functions, and changes are audited as the operator from the client address.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from aaa.audit.log import Actor, act_as
from aaa.db.base import utcnow
from aaa.errors import DomainError, Forbidden, Unauthenticated
from aaa.operators.console_sessions import csrf_matches, csrf_token, resume
from aaa.operators.service import Principal
from aaa.subscribers.customers import Scope
from admin_api.console import formats, words
from admin_api.deps import client_address, settings_of
from admin_api.errors import status_of

BASE = "/app"
COOKIE = "aaa_console"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(
    env=Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True, undefined=StrictUndefined)
)
_env = templates.env
_env.filters.update(
    money=formats.money,
    rate=formats.rate,
    size=formats.size,
    duration=formats.duration,
    document=formats.document,
    status=lambda s: words.STATUS.get(str(s), str(s)),
    tone=lambda s: words.STATUS_TONE.get(str(s), "info"),
    reject=lambda r: words.REJECT.get(str(r), str(r)),
    trace=words.trace_line,
    method=lambda m: words.METHOD.get(str(m), str(m)),
    result=lambda r: words.RESULT.get(str(r), str(r)),
    state=lambda s: words.STATE.get(str(s), str(s)),
    closed_by=lambda c: words.CLOSED_BY.get(str(c), str(c or "")),
)
_env.globals.update(BASE=BASE, words=words)


class LoginNeeded(Exception):
    """No valid console session: the browser goes to the login page, and back afterwards."""

    def __init__(self, back: str, why: str = ""):
        super().__init__(why)
        self.back = back
        self.why = why


class PasswordChangeNeeded(Exception):
    pass


@dataclass
class Desk:
    """One console request: who, in which transaction, and how to answer it."""

    request: Request
    who: Principal
    session: Session
    token: str
    zone: ZoneInfo

    @property
    def scope(self) -> Scope:
        return Scope.of(list(self.who.cities))

    @property
    def csrf(self) -> str:
        return csrf_token(self.token)

    def can(self, permission: str) -> bool:
        return self.who.can(permission)

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        return page(self.request, template, status, desk=self, **context)


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    zone = ZoneInfo(settings_of(request).policy.timezone)
    context.setdefault("desk", None)
    return templates.TemplateResponse(
        request,
        template,
        {
            "day": lambda v: formats.day(v, zone),
            "moment": lambda v: formats.moment(v, zone),
            "htmx": request.headers.get("hx-request") == "true",
            **context,
        },
        status_code=status,
    )


async def form_of(request: Request) -> FormData:
    """The request's form (Starlette keeps it, so the CSRF check and the page read it once)."""
    return await request.form()


Form = Annotated[FormData, Depends(form_of)]


async def _csrf(request: Request) -> None:
    """Every state-changing request carries the session's CSRF token: in the form's hidden
    field, or in the header htmx sends (``hx-headers`` on the page's body)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    token = request.cookies.get(COOKIE, "")
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        field = (await request.form()).get(CSRF_FIELD)
        given = field if isinstance(field, str) else None
    if not token or not csrf_matches(token, given):
        raise Forbidden("formulário sem o token de segurança (CSRF) desta sessão; recarregue a página")


def desk(permission: str | None = None, may_be_flagged: bool = False) -> Callable[..., Iterator[Desk]]:
    """A dependency: a logged-in operator (holding ``permission``), in an audited transaction
    that commits when the page returns."""

    def dependency(request: Request, _: Annotated[None, Depends(_csrf)]) -> Iterator[Desk]:
        token = request.cookies.get(COOKIE, "")
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if not token:
            raise LoginNeeded(back)
        idle = timedelta(minutes=settings_of(request).api.console_idle_minutes)
        with request.app.state.factory() as session:
            try:
                who = resume(session, token, utcnow(), idle)
            except Unauthenticated as exc:
                session.commit()  # an idle session is revoked for good
                raise LoginNeeded(back, words.error_text(exc)) from None
            session.commit()
            if who.must_change_password and not may_be_flagged:
                raise PasswordChangeNeeded()
            if permission:
                who.require(permission)
            act_as(session, Actor(f"operator:{who.login}", client_address(request), who.operator_id))
            zone = ZoneInfo(settings_of(request).policy.timezone)
            yield Desk(request, who, session, token, zone)
            session.commit()

    return dependency


def at(permission: str | None = None, may_be_flagged: bool = False) -> Any:
    return Depends(desk(permission, may_be_flagged), scope="function")


def is_console(request: Request) -> bool:
    return is_console_path(request.url.path)


def is_console_path(path: str) -> bool:
    return path == BASE or path.startswith(BASE + "/")


def redirect(to: str, request: Request) -> Response:
    """A redirect a form post and an htmx request both follow."""
    if request.headers.get("hx-request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": to})
    return RedirectResponse(to, status_code=303)


def login_redirect(request: Request, exc: LoginNeeded) -> Response:
    target = f"{BASE}/entrar?voltar={quote(exc.back, safe='')}"
    if exc.why:
        target += f"&motivo={quote(exc.why, safe='')}"
    return redirect(target, request)


def plain_page(request: Request, status: int, title: str, detail: str) -> HTMLResponse:
    return page(request, "error.html", status, title=title, detail=detail)


def error_page(request: Request, exc: DomainError) -> HTMLResponse:
    """A domain error on a console page: its Portuguese title and text, with the status the
    API gives the same error (404 for another city's customer, 403 without the permission)."""
    return plain_page(request, status_of(exc), words.error_title(exc), words.error_text(exc))
