"""The operator console: server-rendered pages in Brazilian Portuguese at /app, served by the admin
API's process, calling the same domain services in the request's transaction (never the API over
HTTP), with the same permissions, city scope and audit. htmx and Pico CSS are vendored under
static/vendor (no build step); see docs/console.md."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

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
    plain_page,
    redirect,
)
from admin_api.errors import domain_problem, http_problem, validation_problem


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

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        """A console address with a malformed part (/app/servicos/abc): a Portuguese page."""
        if not is_console(request):
            return validation_problem(exc)
        where = ", ".join(str(e["loc"][-1]) for e in exc.errors())
        return plain_page(request, 422, "Endereço inválido", f"Confira o endereço da página ({where}).")

    @app.exception_handler(HTTPException)
    async def http(request: Request, exc: HTTPException) -> Response:
        if not is_console(request):
            return http_problem(exc)
        if exc.status_code == 404:
            return plain_page(request, 404, "Página não encontrada", "Este endereço não existe no console.")
        return plain_page(request, exc.status_code, "Não foi possível", str(exc.detail))

    @app.exception_handler(DomainError)
    async def domain(request: Request, exc: DomainError) -> Response:
        """On a console page, an error page in Portuguese; elsewhere the API's problem+json."""
        return error_page(request, exc) if is_console(request) else domain_problem(exc)
