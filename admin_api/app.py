"""The FastAPI application: routers under /api/v1, offline docs, health and metrics."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from aaa.composition import Components
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
# Swagger UI and ReDoc assets ship in a wheel, so the docs render with no Internet access.
ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
PUBLIC = frozenset({"/health", "/metrics", f"{PREFIX}/auth/login", f"{PREFIX}/hooks/payments"})


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
        """Liveness and database reachability; needs no token."""
        with components.factory() as session:
            session.execute(text("SELECT 1"))
        return {"status": "ok"}

    @app.get("/metrics", tags=["meta"], response_class=Response)
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


def serve(settings: Settings) -> None:
    """Run the API with uvicorn until SIGTERM/SIGINT (`aaa api`, or a child of `aaa serve`)."""
    import uvicorn

    from aaa.composition import build, setup_logging

    setup_logging(settings)
    components = build(settings)
    app = create_app(settings, components)
    uvicorn.run(app, host=settings.api.bind, port=settings.api.port, log_level=settings.log_level.lower())
    components.close()
