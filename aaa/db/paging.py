"""One page of a query, with the total the whole query has (every list of the admin API)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session


def page(
    session: Session,
    query: Select[Any],
    order_by: ColumnElement[Any] | InstrumentedAttribute[Any] | tuple[ColumnElement[Any], ...],
    *,
    limit: int | None,
    offset: int,
) -> tuple[list[Any], int]:
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    keys = order_by if isinstance(order_by, tuple) else (order_by,)
    return list(session.scalars(query.order_by(*keys).limit(limit).offset(offset))), total
