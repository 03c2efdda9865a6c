"""The one table that maps domain errors to HTTP, and the problem+json body (RFC 9457)."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException

from aaa.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    TooMany,
    Unauthenticated,
)

STATUS: dict[type[DomainError], tuple[int, str]] = {
    Invalid: (422, "Invalid request"),
    NotFound: (404, "Not found"),
    Conflict: (409, "Conflict"),
    Unauthenticated: (401, "Authentication required"),
    Forbidden: (403, "Permission denied"),
    TooMany: (429, "Too many requests"),
}
MEDIA_TYPE = "application/problem+json"
log = logging.getLogger(__name__)


def problem(
    status: int, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


_ENUM_REPR = re.compile(r"<\w+\.\w+: '([^']*)'>")


def _values(message: str) -> str:
    """Values as a client sends them: "'suspended_request' or 'blocked_manual'", never the
    Python repr "<ServiceStatus.SUSPENDED_REQUEST: 'suspended_request'>"."""
    return _ENUM_REPR.sub(r"'\1'", message)


def _status(exc: DomainError) -> tuple[int, str]:
    return next((value for cls, value in STATUS.items() if isinstance(exc, cls)), (400, "Bad request"))


def status_of(exc: DomainError) -> int:
    return _status(exc)[0]


def domain_problem(exc: DomainError) -> JSONResponse:
    status, title = _status(exc)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooMany) else None
    return problem(status, title, str(exc), headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain(_: Request, exc: DomainError) -> JSONResponse:
        return domain_problem(exc)

    @app.exception_handler(IntegrityError)
    async def integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        # A race the service's own checks lost: the database's constraint is the last word.
        return problem(409, "Conflict", "the change conflicts with another one made at the same time; retry")

    @app.exception_handler(OperationalError)
    async def unavailable(_: Request, exc: OperationalError) -> JSONResponse:
        # The database is down, unreachable or refuses writes (read-only, in recovery).
        log.warning("database unavailable: %s", str(exc.orig or exc).splitlines()[0])
        return problem(
            503, "Service unavailable", "the database is unavailable; retry in a moment", {"Retry-After": "5"}
        )

    @app.exception_handler(RequestValidationError)
    async def validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return validation_problem(exc)

    @app.exception_handler(HTTPException)
    async def http(_: Request, exc: HTTPException) -> JSONResponse:
        return http_problem(exc)


def validation_problem(exc: RequestValidationError) -> JSONResponse:
    errors = [
        {"field": ".".join(str(p) for p in e["loc"] if p != "body"), "message": _values(e["msg"])}
        for e in exc.errors()
    ]
    detail = "; ".join(f"{e['field'] or 'body'}: {e['message']}" for e in errors)
    return problem(422, "Invalid request", detail, errors=errors)


def http_problem(exc: HTTPException) -> JSONResponse:
    return problem(exc.status_code, "HTTP error", str(exc.detail))
