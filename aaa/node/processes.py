"""Entry points of the node's child processes (spawned: each starts a clean interpreter and
builds its own components from the settings it is handed)."""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
import os
import signal
import time
from typing import Any

from aaa.node.titles import set_title
from aaa.settings import Settings

log = logging.getLogger(__name__)
_PR_SET_PDEATHSIG = 1
_NEVER = 1 << 30  # a generation threshold no count reaches


def _stop_on_signals(loop: asyncio.AbstractEventLoop) -> asyncio.Event:
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


def full_collections_on_a_timer(interval: float) -> None:
    """Python starts a full collection once the objects that survived the young generations
    since the last one reach a quarter of those that had: with the snapshots frozen that is a
    small number, reached about once a second under load, and each walks every unfrozen object
    (sessions opened since start-up, replies kept for retransmissions) while every request
    waits. The young generations stay automatic (they are small); the full one runs on a
    timer (``_collect_every``). ``interval`` 0 leaves Python's heuristic in place."""
    if interval > 0:
        young, middle, _ = gc.get_threshold()
        gc.set_threshold(young, middle, _NEVER)


async def _collect_every(interval: float) -> None:
    """Reference cycles that reached the oldest generation are freed here."""
    if interval <= 0:
        return
    while True:
        await asyncio.sleep(interval)
        started = time.perf_counter()
        found = gc.collect()
        spent = (time.perf_counter() - started) * 1e3
        log.debug("full collection: %d objects freed in %.1f ms", found, spent)


# How often a worker collects its young generations besides when Python's count says so.
YOUNG_COLLECTION_INTERVAL = 0.1


async def collect_young_every(interval: float) -> None:
    """The young generations on a timer too. Python's count of them is allocations net of
    deallocations: a worker that frees an old object for each new one it keeps (the reply cache
    expiring answers as it stores new ones, most of all after an accounting wave filled it)
    holds the count near zero while the youngest generation grows. The collection that finally
    comes then walks tens of thousands of objects while every request waits (docs/benchmarks.md,
    2026-12-06); on a timer each one walks what a tenth of a second left."""
    while True:
        await asyncio.sleep(interval)
        gc.collect(1)


def follow_parent() -> None:
    """End with the supervisor: a supervisor killed outright (SIGKILL, OOM) must not leave its
    workers serving the ports beside those a restarted supervisor starts. Linux's
    PR_SET_PDEATHSIG turns its death into our SIGTERM (a graceful stop)."""
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the supervisor's own stop still applies
        return
    if os.getppid() != parent:  # it died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


def worker_main(settings_data: dict[str, Any], index: int, ready: Any = None) -> None:
    """A RADIUS worker. ``ready`` (an Event) is set once its sockets are bound and it serves."""
    from aaa import metrics
    from aaa.composition import build, setup_logging
    from aaa.radius.server import RadiusWorker
    from aaa.radius.sockets import bind_udp, steer_by_authenticator

    follow_parent()
    set_title(f"radius worker {index}")
    settings = Settings(**settings_data)
    setup_logging(settings)
    components = build(settings)
    worker = RadiusWorker(settings, components.factory, components.bus, name=str(index))
    worker.load()
    # The snapshots just loaded live as long as the process: out of the collector's sight, or
    # each full collection (the reply cache's churn sets one off every second or so under load)
    # walks all of them while every request waits. The loading's own garbage goes first;
    # frozen, it would stay.
    gc.collect()
    gc.freeze()
    r = settings.radius
    full_collections_on_a_timer(r.full_collection_interval)
    auth_sock = bind_udp(r.bind, r.auth_port)
    # The first acct_workers workers serve accounting too (see RadiusSettings.acct_workers).
    acct_sock = bind_udp(r.bind, r.acct_port) if index < r.accounting_workers else None
    for sock, group in ((auth_sock, r.workers), (acct_sock, r.accounting_workers)):
        if sock is not None and not steer_by_authenticator(sock, group):
            log.warning("kernel refused the steering program; datagrams are spread by source address")

    async def main() -> None:
        loop = asyncio.get_running_loop()
        metrics.buffer_in_this_thread()  # this loop's metric updates reach the files once a second
        stop = _stop_on_signals(loop)
        acct = f"acct {r.bind}:{r.acct_port}" if acct_sock else "no accounting"
        log.info("worker %d serving auth %s:%d, %s", index, r.bind, r.auth_port, acct)
        if ready is not None:
            loop.call_soon(ready.set)  # once serve() has its endpoints on the loop
        collectors = [
            loop.create_task(_collect_every(r.full_collection_interval)),
            loop.create_task(collect_young_every(YOUNG_COLLECTION_INTERVAL)),
        ]
        try:
            await worker.serve(auth_sock, acct_sock, stop)
        finally:
            for collector in collectors:
                collector.cancel()

    asyncio.run(main())
    components.close()


def enforcer_main(settings_data: dict[str, Any], supervised: bool = True) -> None:
    """The enforcer: the outbox loop plus the scheduled reconciler (``supervised``: a child of
    the node's supervisor, ending with it; `aaa enforcer` runs it on its own)."""
    from aaa.composition import build, setup_logging
    from aaa.enforcement.enforcer import Enforcer
    from aaa.node.jobs import reconcile_every

    if supervised:
        follow_parent()
    set_title("enforcer")
    settings = Settings(**settings_data)
    setup_logging(settings)
    components = build(settings)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stop = _stop_on_signals(loop)
        enforcer = Enforcer(settings, components.factory)
        reconciler = loop.create_task(reconcile_every(settings, components.factory, stop))
        await enforcer.run(stop)
        reconciler.cancel()

    asyncio.run(main())
    components.close()


def api_main(settings_data: dict[str, Any]) -> None:
    """The admin API (a child of `aaa serve`)."""
    from admin_api.app import serve

    follow_parent()
    set_title("api")
    serve(Settings(**settings_data))
