"""Pagination parameters shared by every list."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

Limit = Annotated[int, Query(ge=1, le=500, description="page size")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="items to skip")]
# Ids beyond a 32-bit integer cannot exist; bounding them turns a huge id into a 422, not a
# database overflow.
PathId = Annotated[int, Path(ge=1, le=2_147_483_647)]
QueryId = Annotated[int, Query(ge=1, le=2_147_483_647)]
