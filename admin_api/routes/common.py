"""Pagination parameters shared by every list."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Path, Query
from pydantic import BaseModel

from admin_api.schemas.common import Page

S = TypeVar("S", bound=BaseModel)

Limit = Annotated[int, Query(ge=1, le=500, description="page size")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="items to skip")]
# Ids beyond a 32-bit integer cannot exist; bounding them turns a huge id into a 422, not a
# database overflow.
PathId = Annotated[int, Path(ge=1, le=2_147_483_647)]
QueryId = Annotated[int, Query(ge=1, le=2_147_483_647)]


def paged(found: tuple[list[Any], int], out: Callable[[Any], S], limit: int, offset: int) -> Page[S]:
    """A service's (rows, total) as a page of response schemas."""
    rows, total = found
    return Page(items=[out(row) for row in rows], total=total, limit=limit, offset=offset)


def listed(items: Sequence[S], limit: int, offset: int) -> Page[S]:
    """A short catalogue (billing methods, routines, webhooks) as a page: read whole, sliced."""
    return Page(items=list(items[offset : offset + limit]), total=len(items), limit=limit, offset=offset)
