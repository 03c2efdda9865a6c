"""What /metrics reads from the database at scrape time, and what /healthz and /readyz answer
(the node's endpoint and the API serve the same answers).

Gauges of state that lives in the database (open sessions per NAS, pool utilization, webhook
backlog) are read when Prometheus scrapes, not kept in every process: one grouped query each,
at the scrape interval. A database that does not answer is a metric (``aaa_database_up 0``)
and a 503 on /readyz, never an exception in the exporter.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from aaa.accounting.spool import spool_bytes
from aaa.db.migrate import is_current
from aaa.ipam.reports import subnet_usage
from aaa.tables.accounting import AcctSession
from aaa.tables.ipam import Pool, Subnet
from aaa.tables.nas import Nas

log = logging.getLogger(__name__)


class DatabaseCollector(Collector):
    """Open sessions per NAS and pool use; ``more`` adds other packages' gauges (each a
    function of a session) read in the same scrape."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        more: Sequence[Callable[[Session], list[GaugeMetricFamily]]] = (),
    ):
        self.factory = factory
        self.more = tuple(more)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("aaa_database_up", "1 when the database answered this scrape")
        try:
            families = self._read()
        except SQLAlchemyError as exc:
            log.warning("metrics: database unreachable: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _read(self) -> list[GaugeMetricFamily]:
        with self.factory() as session:
            sessions = GaugeMetricFamily("aaa_sessions_open", "Open accounting sessions", labels=["nas"])
            for name, count in session.execute(
                select(Nas.name, func.count(AcctSession.id))
                .join(AcctSession, AcctSession.nas_id == Nas.id)
                .where(AcctSession.stop_time.is_(None))
                .group_by(Nas.name)
            ):
                sessions.add_metric([name], count)
            used = GaugeMetricFamily(
                "aaa_ipam_pool_used", "Addresses (or prefixes) held in a pool", labels=["pool"]
            )
            usable = GaugeMetricFamily(
                "aaa_ipam_pool_usable", "Usable addresses (or prefixes) of a pool", labels=["pool"]
            )
            pools: dict[str, list[int]] = {}
            rows = session.execute(select(Subnet, Pool.name).join(Pool, Pool.id == Subnet.pool_id)).all()
            usage = subnet_usage(session, [subnet for subnet, _ in rows])
            for subnet, pool in rows:
                total = pools.setdefault(pool, [0, 0])
                total[0] += usage[subnet.id].used
                total[1] += usage[subnet.id].usable
            for pool, (held, size) in sorted(pools.items()):
                used.add_metric([pool], held)
                usable.add_metric([pool], size)
            extra = [family for read in self.more for family in read(session)]
        return [sessions, used, usable, *extra]


@dataclass
class Readiness:
    checks: dict[str, str] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return all(v == "ok" for v in self.checks.values())


def writable(conn: Connection) -> str:
    """ "ok" when the database takes writes; otherwise why not (a node that cannot store
    accounting or changes must not be sent traffic). ``conn``: fresh, no transaction begun."""
    try:
        if conn.dialect.name == "postgresql":
            recovery, read_only = conn.execute(
                text("SELECT pg_is_in_recovery(), current_setting('transaction_read_only')")
            ).one()
            if recovery:
                return "read-only: the PostgreSQL server is in recovery (a standby)"
            if read_only == "on":
                return "read-only: transactions default to read only"
        else:  # a write that changes nothing, rolled back: refused on a read-only file
            with conn.begin() as tx:
                conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
                tx.rollback()
    except SQLAlchemyError as exc:
        return f"read-only or failing writes: {str(getattr(exc, 'orig', None) or exc).splitlines()[0]}"
    return "ok"


def readiness(engine: Engine, spool_dir: str | None = None, spool_bound: int = 0) -> Readiness:
    """Database reachable and at the newest migration; the accounting spool (if given) below
    its bound."""
    result = Readiness()
    if spool_dir is not None:
        waiting = spool_bytes(spool_dir)
        result.checks["spool"] = (
            "ok" if waiting <= spool_bound else f"{waiting} bytes waiting (bound {spool_bound})"
        )
    try:
        with engine.connect() as conn:  # unreachable: raises here
            result.checks["database"] = writable(conn)
        result.checks["migrations"] = "ok" if is_current(engine) else "behind: run `aaa db upgrade`"
    except SQLAlchemyError as exc:
        result.checks["database"] = f"unreachable: {type(exc).__name__}"
    return result


ALIVE = {"status": "alive"}


def ready_answer(engine: Engine, spool_dir: str | None = None, spool_bound: int = 0) -> tuple[int, dict]:
    """/readyz: 200 and the checks when ready, 503 and what is wrong otherwise."""
    found = readiness(engine, spool_dir, spool_bound)
    return (200 if found.ready else 503), {"ready": found.ready, "checks": found.checks}


def metrics_registry(collector: Collector) -> CollectorRegistry:
    """Every process's metrics (under the node's supervisor, PROMETHEUS_MULTIPROC_DIR is set)
    or this process's own (tests, `aaa api` alone), plus the database-derived gauges."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(_Forward(REGISTRY))
    registry.register(collector)
    return registry


def metrics_page(registry: CollectorRegistry) -> tuple[bytes, str]:
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _Forward(Collector):
    """This process's own metrics, when it runs alone."""

    def __init__(self, source: CollectorRegistry):
        self.source = source

    def collect(self) -> Iterator[Any]:
        return iter(self.source.collect())
