"""The operator console: server-rendered pages in Brazilian Portuguese at /app, served by the admin
API's process, calling the same domain services in the request's transaction (never the API over
HTTP), with the same permissions, city scope and audit. htmx and Pico CSS are vendored under
static/vendor (no build step); see docs/console.md."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from aaa.errors import DomainError
from admin_api.console import customers, login, network, search, services, signup
from admin_api.console.web import (
    BASE,
    HERE,
    LoginNeeded,
    PasswordChangeNeeded,
    error_page,
    is_console,
    login_redirect,
    redirect,
)
from admin_api.errors import domain_problem


def install(app: FastAPI) -> None:
    for module in (login, search, customers, services, signup, network):
        app.include_router(module.router)
    app.mount(f"{BASE}/static", StaticFiles(directory=HERE / "static"), name="console-static")

    @app.get(BASE, include_in_schema=False)
    def root() -> Response:
        return RedirectResponse(f"{BASE}/", status_code=307)

    @app.exception_handler(LoginNeeded)
    async def login_needed(request: Request, exc: LoginNeeded) -> Response:
        return login_redirect(request, exc)

    @app.exception_handler(PasswordChangeNeeded)
    async def password_first(request: Request, exc: PasswordChangeNeeded) -> Response:
        return redirect(f"{BASE}/senha", request)

    @app.exception_handler(DomainError)
    async def domain(request: Request, exc: DomainError) -> Response:
        """On a console page, an error page in Portuguese; elsewhere the API's problem+json."""
        return error_page(request, exc) if is_console(request) else domain_problem(exc)
