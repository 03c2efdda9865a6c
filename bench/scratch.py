"""A throwaway PostgreSQL database for one benchmark run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

PG = os.environ.get("AAA_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")


@contextmanager
def scratch_database(name: str) -> Iterator[str]:
    """Create ``name`` next to $AAA_BENCH_PG, yield its SQLAlchemy URL, drop it afterwards."""
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{name}"
    finally:
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
