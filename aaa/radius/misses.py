"""Snapshot misses: loading from the database what a worker's snapshots do not hold.

A miss is queued; every miss queued while the event loop handles one round of datagrams goes
to the database together, one statement for up to ``batch_max`` logins (a storm of re-dials
after a flap, a Simultaneous-Use re-check for many logins at once). Concurrent misses for one
login share one load. A change to a login while its load runs makes that load stale: it
answers the requests that waited for it, and is not cached.
"""

from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from aaa import metrics
from aaa.radius.cache import SubscriberCache
from aaa.snapshots import Loaded, Plans, load_logins

_SHARED = metrics.child(metrics.CACHE_LOOKUPS, "shared_load")


@dataclass(slots=True)
class _Load:
    future: asyncio.Future[Loaded]
    stale: bool = False


class SnapshotLoads:
    def __init__(
        self,
        factory: sessionmaker[Session],
        cache: SubscriberCache,
        plans: Plans,
        batch_max: int = 256,
        threads: int = 2,
    ):
        self._factory = factory
        self._cache = cache
        self._plans = plans
        self._batch_max = batch_max
        self._threads = threads
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="snapshot-load")
        self._loading: dict[str, _Load] = {}  # by login: the load a new miss joins
        self._queued: list[tuple[str, _Load]] = []
        self._running = 0  # batches in the threads
        self._dispatching = False

    def load(self, login: str) -> asyncio.Future[Loaded]:
        """The login's snapshot and open sessions from the database (on the event loop)."""
        load = self._loading.get(login)
        if load is not None and not load.stale:
            _SHARED.inc()
            return load.future
        loop = asyncio.get_running_loop()
        load = _Load(loop.create_future())
        self._loading[login] = load
        self._queued.append((login, load))
        if not self._dispatching:  # after this round of datagrams, with every miss it brought
            self._dispatching = True
            loop.call_soon(self._dispatch)
        return load.future

    def stale(self, login: str) -> None:
        """``login`` changed: a load of it in flight began before the change."""
        load = self._loading.get(login)
        if load is not None:
            load.stale = True

    def stale_all(self) -> None:
        for load in self._loading.values():
            load.stale = True

    @property
    def in_flight(self) -> int:
        return len(self._loading)

    def _dispatch(self) -> None:
        self._dispatching = False
        loop = asyncio.get_running_loop()
        while self._queued and self._running < self._threads:
            batch, self._queued = self._queued[: self._batch_max], self._queued[self._batch_max :]
            self._running += 1
            logins = list(dict.fromkeys(login for login, _ in batch))
            metrics.SNAPSHOT_LOAD_BATCH.observe(len(logins))
            done = loop.run_in_executor(self._executor, self._read, logins)
            done.add_done_callback(functools.partial(self._finished, batch))

    def _read(self, logins: list[str]) -> dict[str, Loaded]:
        with self._factory() as session:
            return load_logins(session, logins, self._plans)

    def _finished(self, batch: list[tuple[str, _Load]], done: asyncio.Future[dict[str, Loaded]]) -> None:
        self._running -= 1
        error = asyncio.CancelledError() if done.cancelled() else done.exception()
        for login, load in batch:
            if self._loading.get(login) is load:
                del self._loading[login]
            if load.future.done():
                continue
            if error is not None:
                load.future.set_exception(error)
                continue
            found = done.result()[login]
            if not load.stale:
                self._cache.put(login, *found)
            load.future.set_result(found)
        if self._queued:
            self._dispatch()

    def close(self) -> None:
        self._executor.shutdown(wait=False)
