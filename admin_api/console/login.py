"""Entrar, sair and trocar senha: the console's session, with the API's login checks."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from aaa.audit.log import Actor, act_as
from aaa.db.base import utcnow
from aaa.errors import DomainError, TooMany
from aaa.operators import service as operators
from aaa.operators.console_sessions import open_console_session
from aaa.tables.operators import Operator
from admin_api.console import words
from admin_api.console.web import BASE, COOKIE, Desk, Form, at, page, redirect
from admin_api.deps import client_address
from admin_api.login_guard import LoginGuard
from admin_api.routes.auth import check_login

router = APIRouter(include_in_schema=False)


def _back(value: str | None) -> str:
    """Only a console path: the login page never sends anybody off-site."""
    if value and value.startswith(BASE + "/") and not value.startswith("//") and "\\" not in value:
        return value
    return f"{BASE}/"


@router.get(f"{BASE}/entrar", response_class=HTMLResponse)
def login_page(request: Request, voltar: str | None = None, motivo: str | None = None) -> HTMLResponse:
    return page(request, "login.html", back=_back(voltar), notice=motivo, error=None, login="")


@router.post(f"{BASE}/entrar", response_class=HTMLResponse)
async def login(request: Request, form: Form) -> Response:
    login_name = str(form.get("login", "")).strip()
    password = str(form.get("senha", ""))
    back = _back(str(form.get("voltar", "")))
    if not login_name or not password:
        return page(
            request,
            "login.html",
            422,
            back=back,
            notice=None,
            error="Informe o login e a senha.",
            login=login_name,
        )
    guard: LoginGuard = request.app.state.login_guard
    source = client_address(request)
    settings = request.app.state.settings.api
    ttl = timedelta(hours=settings.token_ttl_hours)

    def opened(session: Session, operator: Operator) -> tuple[str, bool]:
        return open_console_session(session, operator, ttl, utcnow()), operator.must_change_password

    try:
        guard.admit(source, login_name)
        with guard.hashing():
            token, flagged = await run_in_threadpool(
                check_login, request, login_name, password, source, opened
            )
    except TooMany as exc:
        return page(
            request,
            "login.html",
            429,
            back=back,
            notice=None,
            error=f"Muitas tentativas de login. Tente novamente em {exc.retry_after} segundos.",
            login=login_name,
        )
    except DomainError:
        return page(
            request,
            "login.html",
            401,
            back=back,
            notice=None,
            error="Login ou senha incorretos.",
            login=login_name,
        )
    response = redirect(f"{BASE}/senha" if flagged else back, request)
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path=BASE,
    )
    return response


@router.post(f"{BASE}/sair")
def logout(request: Request, desk: Desk = at(may_be_flagged=True)) -> Response:
    operators.revoke(desk.session, desk.who.token_id)
    response = redirect(f"{BASE}/entrar", request)
    response.delete_cookie(COOKIE, path=BASE)
    return response


@router.get(f"{BASE}/senha", response_class=HTMLResponse)
def password_page(desk: Desk = at(may_be_flagged=True)) -> HTMLResponse:
    return desk.render("password.html", error=None)


@router.post(f"{BASE}/senha", response_class=HTMLResponse)
def change_password(request: Request, form: Form, desk: Desk = at(may_be_flagged=True)) -> Response:
    """The operator's own new password; every other session of it ends, this one goes on under a
    new cookie."""
    current, new = str(form.get("atual", "")), str(form.get("nova", ""))
    if new != str(form.get("confirmacao", "")):
        return desk.render("password.html", 422, error="A confirmação não confere com a nova senha.")
    session = desk.session
    try:
        operator = operators.get_operator(session, desk.who.operator_id)
        operators.change_own_password(session, operator, current=current, new=new)
    except DomainError as exc:
        session.rollback()
        act_as(session, Actor(f"operator:{desk.who.login}", client_address(request), desk.who.operator_id))
        return desk.render("password.html", 422, error=words.error_text(exc))
    ttl = timedelta(hours=request.app.state.settings.api.token_ttl_hours)
    token = open_console_session(session, operator, ttl, utcnow())
    response = redirect(f"{BASE}/", request)
    response.set_cookie(
        COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https", path=BASE
    )
    return response
