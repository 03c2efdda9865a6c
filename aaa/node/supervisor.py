"""`aaa radius` / `aaa serve`: the node's processes on shared sockets, kept alive.

The supervisor holds no RADIUS state. It starts N RADIUS workers (each binds the ports with
SO_REUSEPORT), the enforcer and, for `aaa serve`, the admin API; restarts a child that dies;
on SIGHUP reads the configuration again and replaces the children one at a time; runs the
node's jobs (aaa.node.jobs) and its health endpoint (aaa.node.http). SIGTERM/SIGINT stop the
children gracefully (each RADIUS worker drains its accounting queue before exiting).
"""

from __future__ import annotations

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
from typing import Any

from aaa.node import jobs
from aaa.node.processes import api_main, enforcer_main, worker_main
from aaa.radius.sockets import PortTaken, claim_ports
from aaa.settings import Settings

log = logging.getLogger(__name__)

Key = int | str  # a RADIUS worker's index, or "api" / "enforcer"
RESTARTS_PER_MINUTE = 20


class Children:
    """The node's child processes by key, started from the current settings."""

    def __init__(self, settings: Settings):
        self.ctx = multiprocessing.get_context("spawn")
        self.data = settings.model_dump()
        self.procs: dict[Key, multiprocessing.process.BaseProcess] = {}

    def spawn(self, key: Key, ready: Any = None) -> None:
        if key == "api":
            proc = self.ctx.Process(target=api_main, args=(self.data,), name="aaa-api")
        elif key == "enforcer":
            proc = self.ctx.Process(target=enforcer_main, args=(self.data,), name="aaa-enforcer")
        else:
            proc = self.ctx.Process(
                target=worker_main, args=(self.data, key, ready), name=f"aaa-radius-{key}"
            )
        proc.start()
        self.procs[key] = proc

    def roll(self, fresh: Settings) -> None:
        """Replace every child with one on the fresh settings, never leaving a port unserved:
        each new RADIUS worker binds beside the old one and serves before the old one is told to
        drain and stop. The API and the enforcer cannot overlap (one port, one outbox reader)."""
        from prometheus_client import multiprocess

        self.data = fresh.model_dump()
        for key in list(self.procs):
            old = self.procs[key]
            if isinstance(key, int):
                ready = self.ctx.Event()
                self.spawn(key, ready)
                if not ready.wait(120):
                    log.error("the new worker %d did not come up; keeping the old one", key)
                    self.procs[key].kill()
                    self.procs[key] = old
                    continue
            if old.is_alive() and old.pid:
                os.kill(old.pid, signal.SIGTERM)  # drains its accounting, then exits
            old.join(timeout=30)
            if old.pid:
                multiprocess.mark_process_dead(old.pid)
            if not isinstance(key, int):
                self.spawn(key)

    def restart_dead(self, restarts: list[float]) -> bool:
        """Start again every child that exited; False once they keep dying (more than
        RESTARTS_PER_MINUTE restarts in a minute)."""
        from prometheus_client import multiprocess

        for key, proc in list(self.procs.items()):
            if proc.is_alive():
                continue
            multiprocess.mark_process_dead(proc.pid)
            now = time.monotonic()
            restarts[:] = [t for t in restarts if now - t < 60] + [now]
            log.error("process %s (pid %s) exited with %s; restarting", key, proc.pid, proc.exitcode)
            if len(restarts) > RESTARTS_PER_MINUTE:
                log.critical("workers keep dying (%d restarts in a minute); giving up", len(restarts))
                return False
            self.spawn(key)
        return True

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.is_alive() and proc.pid:
                os.kill(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            proc.join(timeout=15)
            if proc.is_alive():
                proc.kill()


def _metrics_dir() -> str:
    """Metrics files for every process; set before any child imports aaa.metrics."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="aaa-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    for stale in Path(path).glob("*.db"):
        stale.unlink()
    return path


def _ports(settings: Settings, with_api: bool) -> list[tuple[str, int, socket.SocketKind]]:
    r = settings.radius
    wanted = [(r.bind, r.auth_port, socket.SOCK_DGRAM), (r.bind, r.acct_port, socket.SOCK_DGRAM)]
    if with_api and settings.api.enabled:
        wanted.append((settings.api.bind, settings.api.port, socket.SOCK_STREAM))
    if settings.metrics.enabled:
        wanted.append((settings.metrics.bind, settings.metrics.port, socket.SOCK_STREAM))
    return wanted


def _reload(reload: Callable[[], Settings] | None, children: Children) -> None:
    try:
        fresh = reload() if reload else None
    except Exception as exc:  # an invalid file: say so, keep running as we are
        log.error("configuration reload refused, nothing changed: %s", exc)
        return
    if fresh is None:
        return
    log.info("configuration reloaded; replacing the workers one at a time")
    children.roll(fresh)
    log.info("reload done (listen addresses, worker count and supervisor jobs need a restart)")


def watch(children: Children, stopping: threading.Event, reloading: threading.Event, reload: Any) -> int:
    """Until asked to stop: reload on SIGHUP, restart children that die. The exit code."""
    restarts: list[float] = []
    while not stopping.wait(0.5):
        if reloading.is_set():
            reloading.clear()
            _reload(reload, children)
        if not children.restart_dead(restarts):
            return 1
    return 0


def run(settings: Settings, *, with_api: bool = False, reload: Callable[[], Settings] | None = None) -> int:
    """Run until SIGTERM/SIGINT (with the admin API as one more child when asked). SIGHUP reads
    the configuration again (``reload``) and rolls the children. Returns the exit code."""
    from aaa.composition import build
    from aaa.node.http import serve_health

    _metrics_dir()
    try:
        port_locks = claim_ports(_ports(settings, with_api))
    except PortTaken as exc:
        log.critical("cannot start: %s", exc)
        return 2
    stopping, reloading = threading.Event(), threading.Event()
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stopping.set())
    signal.signal(signal.SIGINT, lambda _signum, _frame: stopping.set())
    signal.signal(signal.SIGHUP, lambda _signum, _frame: reloading.set())
    children = Children(settings)
    try:
        for index in range(settings.radius.workers):
            children.spawn(index)
        if with_api and settings.api.enabled:
            children.spawn("api")
        if settings.enforcer.enabled:
            children.spawn("enforcer")
        # The supervisor's own jobs share one engine (a few connections, not one pool per job).
        components = build(settings)
        warn_at_start(components.factory)
        if settings.metrics.enabled:
            serve_health(settings, components)
        jobs.start_threads(settings, components.factory, stopping)
        routines = jobs.start_routines(settings, components.factory)
        exit_code = watch(children, stopping, reloading, reload)
        routines.stop()
        components.close()
    finally:  # also when start-up fails: children left running would keep this process alive
        children.stop()
        for lock in port_locks:
            lock.close()
    return exit_code


def warn_at_start(factory: Any) -> None:
    """What an operator must not leave as it is, said at every start."""
    from sqlalchemy import select

    from aaa.tables.nas import Nas
    from aaa.tables.operators import Operator

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
