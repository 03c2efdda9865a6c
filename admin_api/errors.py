"""The one table that maps domain errors to HTTP, and the problem+json body (RFC 9457)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException

from aaa.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, Unauthenticated

STATUS: dict[type[DomainError], tuple[int, str]] = {
    Invalid: (422, "Invalid request"),
    NotFound: (404, "Not found"),
    Conflict: (409, "Conflict"),
    Unauthenticated: (401, "Authentication required"),
    Forbidden: (403, "Permission denied"),
}
MEDIA_TYPE = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain(_: Request, exc: DomainError) -> JSONResponse:
        status, title = next(
            (value for cls, value in STATUS.items() if isinstance(exc, cls)), (400, "Bad request")
        )
        return problem(status, title, str(exc))

    @app.exception_handler(IntegrityError)
    async def integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        # A race the service's own checks lost: the database's constraint is the last word.
        return problem(409, "Conflict", "the change conflicts with another one made at the same time; retry")

    @app.exception_handler(RequestValidationError)
    async def validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"] if p != "body"), "message": e["msg"]}
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field'] or 'body'}: {e['message']}" for e in errors)
        return problem(422, "Invalid request", detail, errors=errors)

    @app.exception_handler(HTTPException)
    async def http(_: Request, exc: HTTPException) -> JSONResponse:
        return problem(exc.status_code, "HTTP error", str(exc.detail))
