"""The composition root: builds engine, sessions and the change bus from settings, once per
process, and lists what a flush sets off.

Every session made here runs the ``FLUSH_HOOKS`` after each flush, in this order, inside the
flush's own transaction (so a rolled-back change leaves no trace of any of them):

1. audit: one ``audit_log`` row per created, changed or deleted audited object, with the
   actor the caller named (``act_as``);
2. RADIUS caches: a change-feed event per login whose snapshot the change makes stale, so every
   worker of every node drops or reloads it;
3. enforcement: an outbox row per online subscriber whose speed, address or status changes, so
   the enforcer sends the CoA / Disconnect / RouterOS call;
4. webhooks: a ``service.status_changed`` delivery per status change, for the ISP's systems;
5. money follows the contract: a completed migration moves the old service's open charges,
   carnês and invoices to the new one (billing_bridge.contracts).

A service function that flushes one of these objects therefore sets them off; its docstring says
so. Nothing else installs session hooks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from aaa import models as _models  # noqa: F401  (maps every table, so foreign keys resolve)
from aaa.audit import tracking
from aaa.changes.feed import install_publisher
from aaa.changes.redis_bus import RedisBus
from aaa.db.engine import make_engine
from aaa.enforcement import outbox
from aaa.logs import configure
from aaa.monitoring import DatabaseCollector
from aaa.settings import Settings
from aaa.subscribers import invalidation
from billing_bridge import contracts, webhooks

FlushHook = Callable[[Session, object], None]

FLUSH_HOOKS: tuple[tuple[str, FlushHook], ...] = (
    ("audit", tracking.after_flush),
    ("radius caches", invalidation.after_flush),
    ("enforcement outbox", outbox.after_flush),
    ("webhooks", webhooks.after_flush),
    ("money follows the contract", contracts.after_flush),
)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that run every hook of ``FLUSH_HOOKS`` after each flush."""
    factory = sessionmaker(engine, expire_on_commit=False)
    for _name, hook in FLUSH_HOOKS:
        event.listen(factory, "after_flush", hook)
    return factory


def database_collector(factory: sessionmaker[Session]) -> DatabaseCollector:
    """The gauges /metrics reads from the database: sessions and pools, and the webhook backlog."""
    return DatabaseCollector(factory, more=(webhooks.backlog_gauges,))


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
    factory = session_factory(engine)
    bus = None
    if settings.redis_url:
        bus = RedisBus(settings.redis_url)
        # Every committed change, from any process (CLI, API, workers), reaches Redis.
        install_publisher(factory, bus.publish)
    return Components(settings, engine, factory, bus)


def setup_logging(settings: Settings) -> None:
    configure(settings.log_level, settings.log_format)
