"""The model registry: importing this module maps every table, so foreign keys resolve and
``metadata`` holds the whole schema (Alembic's environment and the tests compare against it).
The composition root imports it before it makes sessions."""

from __future__ import annotations

from aaa.db.base import Base
from aaa.tables import accounting as _accounting  # noqa: F401
from aaa.tables import audit as _audit  # noqa: F401
from aaa.tables import changes as _changes  # noqa: F401
from aaa.tables import enforcement as _enforcement  # noqa: F401
from aaa.tables import imports as _imports  # noqa: F401
from aaa.tables import ipam as _ipam  # noqa: F401
from aaa.tables import nas as _nas  # noqa: F401
from aaa.tables import operators as _operators  # noqa: F401
from aaa.tables import subscribers as _subscribers  # noqa: F401
from billing_bridge import models as _billing  # noqa: F401

metadata = Base.metadata
