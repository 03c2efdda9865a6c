"""Many rows into one table at once, in the session's transaction: PostgreSQL's COPY, an
executemany elsewhere. For imports' chunks, where a pipelined executemany of thousands of
INSERTs costs the server and the driver more than the rest of the chunk's work."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import JSON, ColumnElement, String, Table, any_, bindparam, insert, inspect, type_coerce
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql.sqltypes import NullType


def insert_rows(session: Session, model: type[Any], rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` of the mapped class ``model``'s table (column → value). A column a row
    leaves out gets its Python-side default as an INSERT would; a column no row gives, its server
    default (COPY cannot say DEFAULT for one row only: a column some rows give and others leave
    out, with no Python-side default, is NULL in those)."""
    table: Table = model.__table__
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        session.execute(insert(model), list(rows))  # the ORM's bulk insert groups unlike rows
        return
    present = list(dict.fromkeys(name for row in rows for name in row))
    defaults = {name: make() for name, make in _python_defaults(table).items()}
    columns = present + [name for name in defaults if name not in present]
    processors = [_processor(table, name, connection.dialect) for name in columns]
    names = ", ".join(f'"{name}"' for name in columns)
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            values = [row[name] if name in row else defaults.get(name) for name in columns]
            copy.write_row(
                [v if v is None or p is None else p(v) for v, p in zip(values, processors, strict=True)]
            )


def column_values(obj: Any) -> dict[str, Any]:
    """What a mapped object built but never flushed holds, by column: an ``insert_rows`` row."""
    columns = obj.__table__.columns
    return {key: value for key, value in inspect(obj).dict.items() if key in columns}


def _python_defaults(table: Table) -> dict[str, Callable[[], Any]]:
    """The table's client-side defaults (``default=``), evaluated once per call: a chunk's rows
    share one ``created_at``, as one executemany's would within a millisecond."""
    found: dict[str, Callable[[], Any]] = {}
    for column in table.columns:
        default: Any = column.default
        if default is None:
            continue
        if default.is_scalar:
            found[column.key] = _constant(default.arg)
        elif default.is_callable:  # SQLAlchemy has wrapped it to take the execution context
            found[column.key] = _called(default.arg)
    return found


def _constant(value: Any) -> Callable[[], Any]:
    return lambda: value


def _called(call: Callable[[Any], Any]) -> Callable[[], Any]:
    return lambda: call(None)


def _processor(table: Table, name: str, dialect: Any) -> Callable[[Any], Any] | None:
    """How SQLAlchemy would send the column's value (JSON to text, enums to their value, times
    made aware), so COPY stores what an INSERT would."""
    kind = table.c[name].type
    if isinstance(kind, JSON):  # psycopg's dialect leaves JSON to the driver's own adapter
        return json.dumps
    processor: Callable[[Any], Any] | None = kind.bind_processor(dialect)
    return processor


def among(session: Session, column: Any, values: Collection[Any]) -> ColumnElement[bool]:
    """``column IN values`` for a chunk's thousand keys: on PostgreSQL one array parameter
    (``= ANY(:values)``), which the driver does not parse anew for every chunk as it does a
    thousand placeholders."""
    if session.get_bind().dialect.name != "postgresql":
        return cast(ColumnElement[bool], column.in_(list(values)))
    if isinstance(column.type, NullType):  # lower(...) has no type of its own
        column = type_coerce(column, String())
    array = bindparam(None, list(values), type_=ARRAY(column.type))
    return cast(ColumnElement[bool], column == any_(array))
