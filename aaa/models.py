"""The model registry: importing this module maps every table, so foreign keys resolve and
``metadata`` holds the whole schema (Alembic's environment and the tests compare against it).
The composition root imports it before it makes sessions."""

from __future__ import annotations

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

metadata = Base.metadata
