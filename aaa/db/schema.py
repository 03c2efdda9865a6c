"""Migrations: the one way the schema is built, on PostgreSQL and on SQLite."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

# Importing the models fills Base.metadata (Alembic's autogenerate compares against it).
from aaa.accounting import models as _accounting  # noqa: F401
from aaa.audit import models as _audit  # noqa: F401
from aaa.changes import models as _changes  # noqa: F401
from aaa.db.base import Base
from aaa.enforcement import models as _enforcement  # noqa: F401
from aaa.ipam import models as _ipam  # noqa: F401
from aaa.nas import models as _nas  # noqa: F401
from aaa.operators import models as _operators  # noqa: F401
from aaa.subscribers import models as _subscribers  # noqa: F401
from billing_bridge import models as _billing  # noqa: F401

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
metadata = Base.metadata


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def is_current(engine: Engine) -> bool:
    """True when the database is at the newest migration (used by start-up and /readyz)."""
    head = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_current_head()
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() == head
