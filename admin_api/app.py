"""The FastAPI application: routers under /api/v1, offline docs, health and metrics."""

from __future__ import annotations

import logging
import time
import uuid
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import Depends, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aaa import metrics
from aaa.composition import Components, database_collector
from aaa.logs import REQUEST_ID
from aaa.monitoring import ALIVE, metrics_page, metrics_registry, ready_answer
from aaa.settings import Settings
from admin_api import console, errors
from admin_api.console.web import is_console_path
from admin_api.deps import principal
from admin_api.login_guard import LoginGuard
from admin_api.query import refuse_unknown_query
from admin_api.routes import (
    audit,
    auth,
    billing,
    customers,
    finance,
    hooks,
    imports,
    invoicing,
    ipam,
    nas,
    operators,
    payments,
    plans,
    policies,
    search,
    services,
    sessions,
)

PREFIX = "/api/v1"
access = logging.getLogger("admin_api.access")
# Swagger UI and ReDoc assets ship in a wheel, so the docs render with no Internet access.
ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
PUBLIC = frozenset(
    {"/health", "/healthz", "/readyz", "/metrics", f"{PREFIX}/auth/login"}
    | {f"{PREFIX}/hooks/{name}" for name in ("payments", "asaas", "efi", "efi/pix")}
)


def create_app(settings: Settings, components: Components) -> FastAPI:
    app = FastAPI(
        title="isp-aaa admin API",
        version="1",
        description="Operators, customers, plans, NAS and services of an ISP. "
        "Get a token with POST /api/v1/auth/login and send it as 'Authorization: Bearer <token>'.",
        openapi_url=None if settings.api.protect_metrics_and_docs else f"{PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(refuse_unknown_query)],
    )
    app.state.settings = settings
    app.state.factory = components.factory
    app.state.login_guard = LoginGuard(settings.api, settings.redis_url)
    errors.install(app)
    console.install(app)  # after errors.install: its handlers answer console pages in HTML
    protected = settings.api.protect_metrics_and_docs
    for module in (
        auth,
        operators,
        customers,
        plans,
        nas,
        services,
        policies,
        billing,
        invoicing,
        hooks,
        payments,
        imports,
        ipam,
        sessions,
        search,
        finance,
        audit,
    ):
        app.include_router(module.router, prefix=PREFIX)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=ASSETS), name="static")

    meta = [Depends(principal)] if protected else []

    @app.get(f"{PREFIX}/docs", include_in_schema=False, dependencies=meta)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=f"{PREFIX}/openapi.json",
            title="isp-aaa admin API",
            swagger_js_url=f"{PREFIX}/static/swagger-ui-bundle.js",
            swagger_css_url=f"{PREFIX}/static/swagger-ui.css",
            swagger_favicon_url=f"{PREFIX}/static/favicon.png",
        )

    @app.get(f"{PREFIX}/redoc", include_in_schema=False, dependencies=meta)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=f"{PREFIX}/openapi.json",
            title="isp-aaa admin API",
            redoc_js_url=f"{PREFIX}/static/redoc.standalone.js",
            redoc_favicon_url=f"{PREFIX}/static/favicon.png",
            with_google_fonts=False,
        )

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        """A browser opening the server's address lands on the operator console."""
        return RedirectResponse("/app/", status_code=307)

    @app.get("/health", tags=["meta"])
    def health() -> dict[str, str]:
        """Liveness and database reachability; needs no token (kept for older probes: /readyz)."""
        with components.factory() as session:
            session.execute(text("SELECT 1"))
        return {"status": "ok"}

    @app.get("/healthz", tags=["meta"])
    def healthz() -> dict[str, str]:
        """Alive: the process answers. Restart it when this fails."""
        return ALIVE

    @app.get("/readyz", tags=["meta"])
    def readyz() -> JSONResponse:
        """Ready: database reachable and migrations current (503 and what is wrong, otherwise)."""
        code, answer = ready_answer(components.engine)
        return JSONResponse(answer, status_code=code)

    registry = metrics_registry(database_collector(components.factory))

    @app.get("/metrics", tags=["meta"], response_class=Response, dependencies=meta)
    def metrics_endpoint() -> Response:
        body, kind = metrics_page(registry)
        return Response(body, media_type=kind)

    @app.middleware("http")
    async def count_requests(request: Request, call_next: Any) -> Any:
        """Requests and latency by route template (bounded), never by concrete path; every
        request's log lines carry its id (the caller's X-Request-Id, or a new one)."""
        started = time.perf_counter()
        given = request.headers.get("x-request-id", "")
        request_id = given if 0 < len(given) <= 64 and given.isprintable() else uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        try:
            if b"%00" in request.scope.get("query_string", b"") or "\x00" in request.url.path:
                response: Response = errors.problem(
                    422, "Invalid request", "the URL must not contain a NUL character (%00)"
                )
            else:
                response = await call_next(request)
        finally:
            REQUEST_ID.reset(token)
        response.headers["X-Request-Id"] = request_id
        security_headers(request.url.path, response)
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        metrics.child(metrics.API_REQUESTS, request.method, template, str(response.status_code)).inc()
        elapsed = time.perf_counter() - started
        metrics.child(metrics.API_LATENCY, template).observe(elapsed)
        access.info(
            "%s %s %d %.1f ms",
            request.method,
            request.url.path,
            response.status_code,
            elapsed * 1000,
            extra={"correlation": request_id},
        )
        return response

    if protected:

        @app.get(f"{PREFIX}/openapi.json", include_in_schema=False, dependencies=meta)
        def openapi() -> JSONResponse:
            return JSONResponse(app.openapi())

    app.add_middleware(BodyLimit, limit=settings.api.max_body_bytes)
    return app


# HTML pages: the receipt print needs its inline style only; the docs pages run inline scripts
# from fastapi's templates and load their assets from /api/v1/static.
_CSP_PAGE = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'"
# The console: its own scripts and styles only (htmx and Pico CSS, vendored), forms post to itself.
_CSP_CONSOLE = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
_CSP_DOCS = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; frame-ancestors 'none'"
)


def security_headers(path: str, response: Response) -> None:
    """On every response: no sniffing, no framing, no referrer; API answers are never cached."""
    headers = response.headers
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "no-referrer"
    kind = headers.get("content-type", "")
    if kind.startswith("text/html"):
        docs = path in (f"{PREFIX}/docs", f"{PREFIX}/redoc")
        headers["Content-Security-Policy"] = (
            _CSP_DOCS if docs else _CSP_CONSOLE if is_console_path(path) else _CSP_PAGE
        )
    if not path.startswith((f"{PREFIX}/static", "/app/static/")):
        headers["Cache-Control"] = "no-store"


class BodyLimit:
    """413 for a request body over ``limit`` bytes: by Content-Length before reading anything,
    and while reading a chunked body (buffered here, at most the limit), so no route ever
    holds more than the limit."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(scope, receive, send)
            return
        if declared is not None:
            await self.app(scope, receive, send)
            return
        # No Content-Length (chunked): read it here, at most the limit, and hand it on whole.
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                await self._refuse(scope, receive, send)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = errors.problem(
            413, "Request too large", f"the request body exceeds {self.limit} bytes (api.max_body_bytes)"
        )
        response.headers["Connection"] = "close"
        security_headers(scope.get("path", ""), response)
        await response(scope, receive, send)


def uvicorn_config(settings: Settings, app: Any, **extra: Any) -> Any:
    """How the API is served: X-Forwarded-For believed only from ``api.trusted_proxies``
    (uvicorn would trust 127.0.0.1 by default), no ``server`` header, uvicorn's own log lines
    through our logging (JSON too)."""
    import uvicorn

    trusted = settings.api.trusted_proxies
    return uvicorn.Config(
        app,
        host=extra.pop("host", settings.api.bind),
        port=extra.pop("port", settings.api.port),
        log_level=settings.log_level.lower(),
        proxy_headers=bool(trusted),
        forwarded_allow_ips=",".join(trusted) if trusted else "",
        server_header=False,
        log_config=None,
        access_log=False,  # the API's own access line (count_requests) says more
        **extra,
    )


def serve(settings: Settings) -> None:
    """Run the API with uvicorn until SIGTERM/SIGINT (`aaa api`, or a child of `aaa serve`)."""
    import uvicorn

    from aaa.composition import build, setup_logging

    setup_logging(settings)
    components = build(settings)
    app = create_app(settings, components)
    uvicorn.Server(uvicorn_config(settings, app)).run()
    components.close()
