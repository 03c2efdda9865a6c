"""The composition root: builds engine, sessions and the change bus from settings, once per process."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from aaa.changes.feed import install_publisher
from aaa.changes.redis_bus import RedisBus
from aaa.db import schema as _schema  # noqa: F401  (registers every model, so foreign keys resolve)
from aaa.db.engine import make_engine, make_session_factory
from aaa.logs import configure
from aaa.settings import Settings


@dataclass
class Components:
    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    bus: RedisBus | None

    def close(self) -> None:
        if self.bus is not None:
            self.bus.close()
        self.engine.dispose()


def build(settings: Settings) -> Components:
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    bus = None
    if settings.redis_url:
        bus = RedisBus(settings.redis_url)
        # Every committed change, from any process (CLI, API, workers), reaches Redis.
        install_publisher(factory, bus.publish)
    return Components(settings, engine, factory, bus)


def setup_logging(settings: Settings) -> None:
    configure(settings.log_level, settings.log_format)
