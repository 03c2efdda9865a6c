"""Unknown query parameters are refused, not ignored: `GET /services?due_day=10` on a route that
has no such filter would otherwise answer every service with 200, and an operator would act on
the wrong set."""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError


def _names(dependant: Dependant) -> set[str]:
    found = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        found |= _names(sub)
    return found


def refuse_unknown_query(request: Request) -> None:
    """A dependency of every route: 422 naming each query parameter the route does not take."""
    if not request.query_params:
        return
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    allowed = _names(dependant)
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        takes = ", ".join(sorted(allowed)) or "none"
        raise RequestValidationError(
            [
                {
                    "loc": ("query", name),
                    "msg": f"unknown query parameter {name!r}; this route takes: {takes}",
                    "type": "unknown_query_parameter",
                }
                for name in unknown
            ]
        )
