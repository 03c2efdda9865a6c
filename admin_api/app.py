"""The FastAPI application: routers under /api/v1, offline docs, health and metrics."""

from __future__ import annotations

import logging
import os
import time
import uuid
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import text

from aaa import metrics
from aaa.composition import Components
from aaa.logs import REQUEST_ID
from aaa.monitoring import DatabaseCollector, readiness
from aaa.settings import Settings
from admin_api import errors
from admin_api.routes import (
    audit,
    auth,
    billing,
    customers,
    hooks,
    invoicing,
    ipam,
    nas,
    operators,
    plans,
    policies,
    services,
)

PREFIX = "/api/v1"
access = logging.getLogger("admin_api.access")
# Swagger UI and ReDoc assets ship in a wheel, so the docs render with no Internet access.
ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
PUBLIC = frozenset(
    {"/health", "/healthz", "/readyz", "/metrics", f"{PREFIX}/auth/login", f"{PREFIX}/hooks/payments"}
)


def create_app(settings: Settings, components: Components) -> FastAPI:
    app = FastAPI(
        title="isp-aaa admin API",
        version="1",
        description="Operators, customers, plans, NAS and services of an ISP. "
        "Get a token with POST /api/v1/auth/login and send it as 'Authorization: Bearer <token>'.",
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.factory = components.factory
    errors.install(app)
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
        ipam,
        audit,
    ):
        app.include_router(module.router, prefix=PREFIX)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=ASSETS), name="static")

    @app.get(f"{PREFIX}/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=f"{PREFIX}/openapi.json",
            title="isp-aaa admin API",
            swagger_js_url=f"{PREFIX}/static/swagger-ui-bundle.js",
            swagger_css_url=f"{PREFIX}/static/swagger-ui.css",
            swagger_favicon_url=f"{PREFIX}/static/favicon.png",
        )

    @app.get(f"{PREFIX}/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=f"{PREFIX}/openapi.json",
            title="isp-aaa admin API",
            redoc_js_url=f"{PREFIX}/static/redoc.standalone.js",
            redoc_favicon_url=f"{PREFIX}/static/favicon.png",
            with_google_fonts=False,
        )

    @app.get("/health", tags=["meta"])
    def health() -> dict[str, str]:
        """Liveness and database reachability; needs no token (kept for older probes: /readyz)."""
        with components.factory() as session:
            session.execute(text("SELECT 1"))
        return {"status": "ok"}

    @app.get("/healthz", tags=["meta"])
    def healthz() -> dict[str, str]:
        """Alive: the process answers. Restart it when this fails."""
        return {"status": "alive"}

    @app.get("/readyz", tags=["meta"])
    def readyz() -> JSONResponse:
        """Ready: database reachable and migrations current (503 and what is wrong, otherwise)."""
        found = readiness(components.engine)
        return JSONResponse(
            {"ready": found.ready, "checks": found.checks}, status_code=200 if found.ready else 503
        )

    registry = metrics_registry(components.factory)

    @app.get("/metrics", tags=["meta"], response_class=Response)
    def metrics_page() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @app.middleware("http")
    async def count_requests(request: Request, call_next: Any) -> Any:
        """Requests and latency by route template (bounded), never by concrete path; every
        request's log lines carry its id (the caller's X-Request-Id, or a new one)."""
        started = time.perf_counter()
        given = request.headers.get("x-request-id", "")
        request_id = given if 0 < len(given) <= 64 and given.isprintable() else uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        try:
            response = await call_next(request)
        finally:
            REQUEST_ID.reset(token)
        response.headers["X-Request-Id"] = request_id
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

    return app


def metrics_registry(factory: Any) -> CollectorRegistry:
    """Every process's metrics (under the supervisor, PROMETHEUS_MULTIPROC_DIR) plus the
    database-derived gauges."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(_Forward(REGISTRY))
    registry.register(DatabaseCollector(factory))
    return registry


class _Forward(Collector):
    """This process's own metrics, when it runs alone (tests, `aaa api`)."""

    def __init__(self, source: CollectorRegistry):
        self.source = source

    def collect(self) -> Any:
        return self.source.collect()


def serve(settings: Settings) -> None:
    """Run the API with uvicorn until SIGTERM/SIGINT (`aaa api`, or a child of `aaa serve`)."""
    import uvicorn

    from aaa.composition import build, setup_logging

    setup_logging(settings)
    components = build(settings)
    app = create_app(settings, components)
    uvicorn.run(app, host=settings.api.bind, port=settings.api.port, log_level=settings.log_level.lower())
    components.close()
