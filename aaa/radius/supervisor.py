"""`aaa radius`: worker processes on shared sockets, kept alive, plus the node's housekeeping.

The supervisor holds no RADIUS state. It starts N workers (each binds the ports with
SO_REUSEPORT) and the enforcer, restarts one that dies, runs the stale-session reaper and the
end of overlays at their date, and serves /metrics
aggregated over every process. SIGTERM/SIGINT stop the workers gracefully (each drains its
accounting queue before exiting).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import multiprocessing
import os
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aaa.radius.sockets import PortTaken, claim_ports
from aaa.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)


def worker_main(settings_data: dict[str, Any], index: int, ready: Any = None) -> None:
    """Entry point of a worker process (spawned, so it starts with a clean interpreter).
    ``ready`` (an Event) is set once its sockets are bound and it serves."""
    from aaa.composition import build, setup_logging
    from aaa.radius.server import RadiusWorker
    from aaa.radius.sockets import bind_udp, steer_by_authenticator

    settings = Settings(**settings_data)
    setup_logging(settings)
    components = build(settings)
    worker = RadiusWorker(settings, components.factory, components.bus, name=str(index))
    worker.load()
    # The snapshots just loaded live as long as the process: out of the collector's sight, or
    # each full collection (the reply cache's churn sets one off every second or so under load)
    # walks all of them: up to 250 ms with 100,000 subscribers, every request waiting. The
    # loading's own garbage goes first; frozen, it would stay.
    gc.collect()
    gc.freeze()
    r = settings.radius
    auth_sock = bind_udp(r.bind, r.auth_port)
    # The first acct_workers workers serve accounting too (see RadiusSettings.acct_workers).
    acct_sock = bind_udp(r.bind, r.acct_port) if index < r.accounting_workers else None
    for sock, group in ((auth_sock, r.workers), (acct_sock, r.accounting_workers)):
        if sock is not None and not steer_by_authenticator(sock, group):
            log.warning("kernel refused the steering program; datagrams are spread by source address")

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        acct = f"acct {r.bind}:{r.acct_port}" if acct_sock else "no accounting"
        log.info("worker %d serving auth %s:%d, %s", index, r.bind, r.auth_port, acct)
        if ready is not None:
            loop.call_soon(ready.set)  # once serve() has its endpoints on the loop
        await worker.serve(auth_sock, acct_sock, stop)

    asyncio.run(main())
    components.close()


def api_main(settings_data: dict[str, Any]) -> None:
    """Entry point of the admin API process (`aaa serve`)."""
    from admin_api.app import serve

    serve(Settings(**settings_data))


def enforcer_main(settings_data: dict[str, Any]) -> None:
    """Entry point of the enforcer process: the outbox loop plus the scheduled reconciler."""
    from aaa.composition import build, setup_logging
    from aaa.enforcement.enforcer import Enforcer

    settings = Settings(**settings_data)
    setup_logging(settings)
    components = build(settings)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        enforcer = Enforcer(settings, components.factory)
        reconciler = loop.create_task(_reconcile_every(settings, components.factory, stop))
        await enforcer.run(stop)
        reconciler.cancel()

    asyncio.run(main())
    components.close()


async def _reconcile_every(settings: Settings, factory: Any, stop: asyncio.Event) -> None:
    from aaa.db.base import utcnow
    from aaa.enforcement.reconcile import reconcile

    loop = asyncio.get_running_loop()
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.enforcer.reconcile_interval)
        if stop.is_set():
            return
        try:
            reports = await loop.run_in_executor(None, reconcile, factory, settings, utcnow())
        except Exception as exc:
            log.warning("reconcile failed, will retry: %s", exc)
            continue
        for r in reports:
            if r.closed or r.unknown or r.reapplied or r.error:
                log.info(
                    "reconcile %s: closed %d, unknown %d, re-applied %d%s",
                    r.nas,
                    len(r.closed),
                    len(r.unknown),
                    len(r.reapplied),
                    f", error: {r.error}" if r.error else "",
                )


def expire_overlays_every(settings: Settings, factory: sessionmaker[Session], stop: threading.Event) -> None:
    """End custom speeds, trials, trust unlocks and bonuses at their date (the outbox then
    changes the online sessions)."""
    from aaa.audit.recorder import Actor, act_as
    from aaa.db.base import utcnow
    from aaa.subscribers.overlays import expire_overlays

    while not stop.wait(settings.policy.expiry_check_seconds):
        try:
            with factory.begin() as session:
                act_as(session, Actor("scheduler", "local"))
                ended = expire_overlays(session, utcnow())
            if ended:
                log.info("overlays ended for %d services", len(ended))
        except Exception as exc:
            log.warning("overlay expiry failed, will retry: %s", exc)


def deliver_webhooks_every(settings: Settings, factory: sessionmaker[Session], stop: threading.Event) -> None:
    """Send due webhook deliveries (status changes, payments); retries back off per delivery."""
    from aaa.db.base import utcnow
    from billing_bridge.outbound import AddressPolicy
    from billing_bridge.webhooks import deliver_due

    b = settings.billing
    while not stop.wait(b.webhook_interval):
        try:
            sent = deliver_due(
                factory,
                utcnow(),
                timeout=b.webhook_timeout,
                max_attempts=b.webhook_max_attempts,
                backoff=b.webhook_backoff_seconds,
                policy=AddressPolicy.of(b.webhook_allowed_networks),
            )
            failed = [o for o in sent if not o.ok]
            if failed:
                log.warning("%d of %d webhook deliveries failed (will retry)", len(failed), len(sent))
        except Exception as exc:
            log.warning("webhook delivery failed, will retry: %s", exc)


def start_routines(settings: Settings, factory: sessionmaker[Session]) -> Any:
    """The billing routines on their schedules (every node; each moment runs once)."""
    from zoneinfo import ZoneInfo

    from billing_bridge.scheduler import RoutineScheduler
    from billing_bridge.sources import charge_source

    scheduler = RoutineScheduler(
        factory, ZoneInfo(settings.policy.timezone), source=charge_source(settings.billing)
    )
    scheduler.start()
    return scheduler


def housekeeping(settings: Settings, factory: sessionmaker[Session], stop: threading.Event) -> None:
    """Reap stale sessions and then the leases no session holds, prune the change feed and
    re-enable services whose customer-requested suspension has ended, every reaper_interval seconds."""
    from aaa import metrics
    from aaa.accounting.store import reap
    from aaa.audit.recorder import Actor, act_as
    from aaa.changes.feed import prune
    from aaa.db.base import utcnow
    from aaa.ipam.allocator import reap_leases
    from aaa.subscribers.service import reenable_due

    a = settings.accounting
    while not stop.wait(a.reaper_interval):
        try:
            with factory.begin() as session:
                closed = reap(session, utcnow(), a.reaper_multiplier, settings.radius.acct_interim_interval)
                freed = reap_leases(session, utcnow())
                prune(session, a.change_retention_hours)
                act_as(session, Actor("scheduler", "local"))
                reenabled = reenable_due(session, utcnow().date())
            if reenabled:
                log.info(
                    "re-enabled %d services at the end of a customer-requested suspension", len(reenabled)
                )
            if freed:
                metrics.IPAM_LEASES_RELEASED.inc(freed)
                log.info("lease reaper freed %d unclaimed leases", freed)
            if closed:
                metrics.SESSIONS_REAPED.inc(len(closed))
                log.info("reaper closed %d stale sessions", len(closed))
        except Exception as exc:
            log.warning("housekeeping failed, will retry: %s", exc)


def start_metrics_server(settings: Settings, multiproc_dir: str, components: Any) -> None:
    """/metrics (every process's metrics and the database-derived gauges), /healthz, /readyz."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    from aaa.monitoring import DatabaseCollector, readiness

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=multiproc_dir)
    registry.register(DatabaseCollector(components.factory))
    # /readyz: not ready once the accounting spool holds half its room (the database is gone
    # for long, or replay cannot keep up).

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/healthz":
                code, body, kind = 200, b'{"status":"alive"}', "application/json"
            elif path == "/readyz":
                a = settings.accounting
                found = readiness(components.engine, a.spool_dir, a.spool_max_bytes // 2)
                code = 200 if found.ready else 503
                body = json.dumps({"ready": found.ready, "checks": found.checks}).encode()
                kind = "application/json"
            elif path == "/metrics":
                code, body, kind = 200, generate_latest(registry), CONTENT_TYPE_LATEST
            else:
                code, body, kind = 404, b"not found: /metrics, /healthz, /readyz\n", "text/plain"
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    try:
        server = ThreadingHTTPServer((settings.metrics.bind, settings.metrics.port), Handler)
    except OSError as exc:  # RADIUS matters more than its metrics: serve on, loudly
        log.error("metrics endpoint %s:%d not started: %s", settings.metrics.bind, settings.metrics.port, exc)
        return
    threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True).start()


def run(settings: Settings, *, with_api: bool = False, reload: Callable[[], Settings] | None = None) -> int:
    """Run until SIGTERM/SIGINT (with the admin API as one more child when asked). SIGHUP reads
    the configuration again (``reload``) and replaces the children one at a time: each new RADIUS
    worker binds beside the old one (SO_REUSEPORT) and serves before the old one is told to drain
    and stop, so the ports never go unserved. Returns the exit code."""
    # Metrics files for every process; must be set before any process imports aaa.metrics.
    multiproc_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="aaa-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = multiproc_dir
    for stale in Path(multiproc_dir).glob("*.db"):
        stale.unlink()

    r = settings.radius
    wanted = [(r.bind, r.auth_port, socket.SOCK_DGRAM), (r.bind, r.acct_port, socket.SOCK_DGRAM)]
    if with_api and settings.api.enabled:
        wanted.append((settings.api.bind, settings.api.port, socket.SOCK_STREAM))
    if settings.metrics.enabled:
        wanted.append((settings.metrics.bind, settings.metrics.port, socket.SOCK_STREAM))
    try:
        port_locks = claim_ports(wanted)
    except PortTaken as exc:
        log.critical("cannot start: %s", exc)
        return 2
    ctx = multiprocessing.get_context("spawn")
    data = settings.model_dump()
    exit_code = 0
    workers: dict[int | str, multiprocessing.process.BaseProcess] = {}

    def start(index: int | str, ready: Any = None) -> None:
        if index == "api":
            proc = ctx.Process(target=api_main, args=(data,), name="aaa-api", daemon=False)
        elif index == "enforcer":
            proc = ctx.Process(target=enforcer_main, args=(data,), name="aaa-enforcer", daemon=False)
        else:
            proc = ctx.Process(
                target=worker_main, args=(data, index, ready), name=f"aaa-radius-{index}", daemon=False
            )
        proc.start()
        workers[index] = proc

    stopping = threading.Event()

    def request_stop(signum: int, _frame: Any) -> None:
        stopping.set()

    from prometheus_client import multiprocess

    reloading = threading.Event()
    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGHUP, lambda _signum, _frame: reloading.set())

    def roll(fresh: Settings) -> None:
        """Replace every child with one on the fresh settings, never leaving a port unserved."""
        nonlocal data
        data = fresh.model_dump()
        for key in list(workers):
            old = workers[key]
            if isinstance(key, int):
                ready = ctx.Event()
                start(key, ready)
                if not ready.wait(120):
                    log.error("the new worker %d did not come up; keeping the old one", key)
                    workers[key].kill()
                    workers[key] = old
                    continue
            if old.is_alive() and old.pid:
                os.kill(old.pid, signal.SIGTERM)  # drains its accounting, then exits
            old.join(timeout=30)
            if old.pid:
                multiprocess.mark_process_dead(old.pid)
            if not isinstance(key, int):
                start(key)  # the API and the enforcer cannot overlap (one port, one outbox reader)

    try:
        for index in range(settings.radius.workers):
            start(index)
        if with_api and settings.api.enabled:
            start("api")
        if settings.enforcer.enabled:
            start("enforcer")
        # The supervisor's own jobs share one engine (a few connections, not one pool per job).
        from aaa.composition import build

        components = build(settings)
        warn_at_start(components.factory)
        if settings.metrics.enabled:
            start_metrics_server(settings, multiproc_dir, components)
        jobs = (
            (housekeeping, "housekeeping"),
            (expire_overlays_every, "overlay-expiry"),
            (deliver_webhooks_every, "webhooks"),
        )
        for job, name in jobs:
            threading.Thread(
                target=job, args=(settings, components.factory, stopping), name=name, daemon=True
            ).start()
        routines = start_routines(settings, components.factory)

        restarts: list[float] = []
        while not stopping.wait(0.5):
            if reloading.is_set():
                reloading.clear()
                try:
                    fresh = reload() if reload else None
                except Exception as exc:  # an invalid file: say so, keep running as we are
                    log.error("configuration reload refused, nothing changed: %s", exc)
                    fresh = None
                if fresh is not None:
                    log.info("configuration reloaded; replacing the workers one at a time")
                    roll(fresh)
                    log.info(
                        "reload done (listen addresses, worker count and supervisor jobs need a restart)"
                    )
            for key, proc in list(workers.items()):
                if proc.is_alive():
                    continue
                multiprocess.mark_process_dead(proc.pid)
                now = time.monotonic()
                restarts = [t for t in restarts if now - t < 60] + [now]
                log.error("process %s (pid %s) exited with %s; restarting", key, proc.pid, proc.exitcode)
                if len(restarts) > 20:
                    log.critical("workers keep dying (20 restarts in a minute); giving up")
                    exit_code = 1
                    stopping.set()
                    break
                start(key)

        routines.stop()
        components.close()
    finally:  # also when start-up fails: children left running would keep this process alive
        for proc in workers.values():
            if proc.is_alive() and proc.pid:
                os.kill(proc.pid, signal.SIGTERM)
        for proc in workers.values():
            proc.join(timeout=15)
            if proc.is_alive():
                proc.kill()
        for lock in port_locks:
            lock.close()
    return exit_code


def warn_at_start(factory: Any) -> None:
    """What an operator must not leave as it is, said at every start."""
    from sqlalchemy import select

    from aaa.nas.models import Nas
    from aaa.operators.models import Operator

    with factory() as session:
        flagged = session.scalars(
            select(Operator.login).where(Operator.must_change_password.is_(True), Operator.active.is_(True))
        ).all()
        short = session.scalars(select(Nas.name).where(Nas.allow_short_secret.is_(True))).all()
    for login in flagged:
        log.warning(
            "operator %r still has a password it must change (the demo's or a reset one): "
            "log in and change it (POST /api/v1/auth/password) before exposing the API",
            login,
        )
    for name in short:
        log.warning("NAS %r has a secret shorter than 16 characters; rotate it (aaa nas rotate-secret)", name)
