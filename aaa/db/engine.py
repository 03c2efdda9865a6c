"""Engines for PostgreSQL (psycopg 3) and the embedded SQLite default. Sessions, and what a
flush sets off, are made by the composition root (aaa.composition)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event


def make_engine(url: str, **kwargs: Any) -> Engine:
    engine = _engine(url, **kwargs)
    _count_connections(engine)
    return engine


def _count_connections(engine: Engine) -> None:
    """Connections in use, for the DB pool usage metric (a pool running dry shows here first)."""
    from aaa import metrics

    event.listen(engine, "checkout", lambda *_: metrics.DB_CONNECTIONS.inc())
    event.listen(engine, "checkin", lambda *_: metrics.DB_CONNECTIONS.dec())


# A database that does not answer fails a connection in seconds (then accounting spools).
_CONNECT_ARGS = {"connect_timeout": 3}


def _engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        # Several worker processes share one SQLite file: WAL lets readers run beside the
        # single writer, and busy_timeout makes writers queue instead of failing at once.
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    kwargs.setdefault("pool_size", 5)
    kwargs.setdefault("max_overflow", 5)
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("connect_args", _CONNECT_ARGS)
    # Statement parameters (password hashes, NAS secrets) never reach a log line or an error text.
    return create_engine(url, hide_parameters=True, **kwargs)


def writer_engine(engine: Engine, pool_size: int) -> Engine:
    """The accounting writer's own engine for its one-statement merges (aaa.accounting.loop_merge
    prepares the statement on each connection and runs it through libpq). On PostgreSQL in
    autocommit (the statement is its own transaction: no BEGIN, no COMMIT round trip), compiled
    with native $n placeholders. Connections are not pinged before each use; the writer retries
    once on a fresh one instead. SQLite: the same engine."""
    if engine.dialect.name != "postgresql":
        return engine
    return make_engine(
        engine.url.render_as_string(hide_password=False),
        pool_size=pool_size,
        max_overflow=0,
        pool_pre_ping=False,
        paramstyle="numeric_dollar",
        isolation_level="AUTOCOMMIT",
        connect_args={
            **_CONNECT_ARGS,
            # The merge's custom plans cost a third of PostgreSQL's CPU: planned once, as
            # prepared, whatever the batch (its one parameter is the batch as JSON).
            "options": "-c plan_cache_mode=force_generic_plan",
        },
    )
