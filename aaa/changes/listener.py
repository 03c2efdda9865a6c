"""A worker's view of the change feed: the database poll, plus Redis when configured."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

from aaa.changes.feed import Change, ChangeCursor, latest_id
from aaa.changes.redis_bus import RedisBus

log = logging.getLogger(__name__)
# The reaper closing a dead NAS's sessions, an accounting wave, or a worker catching up after a
# pause brings tens of thousands of changes at once. They are applied SLICE at a time, and a
# turn of the event loop applies slices for at most TURN_SECONDS: the requests that arrive
# meanwhile wait for one turn, not for the whole backlog. A fixed count a turn held them for as
# long as that count took on the machine at hand (docs/benchmarks.md, 2026-12-06).
SLICE = 32
TURN_SECONDS = 0.001


class ChangeListener:
    def __init__(
        self,
        factory: sessionmaker[Session],
        apply: Callable[[list[Change]], None],
        poll_interval: float,
        bus: RedisBus | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ):
        self._factory = factory
        self._clock = clock
        self._apply = apply
        self._interval = poll_interval
        self._bus = bus
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="change-poll")
        self._stop = threading.Event()
        self._connection: Connection | None = None  # used on the executor's one thread only
        self.cursor: ChangeCursor | None = None
        # Changes read but not yet applied, in the order they came (poll and Redis alike).
        self._pending: deque[Change] = deque()
        self._draining = False
        self._read_low = 0  # the cursor's watermark after the last poll, taken on the loop
        # Every feed row up to this id has been applied here (what a test waits for).
        self.applied_low = 0

    def applied(self, ids: list[int]) -> None:
        """Feed rows whose changes were applied here from the commit that wrote them."""
        if self.cursor is not None:
            self.cursor.skip(ids)

    def start_position(self) -> None:
        """Take the feed's end before loading anything, so no change can fall in between."""
        with self._factory() as session:
            self.cursor = ChangeCursor(latest_id(session))

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        if self.cursor is None:
            await loop.run_in_executor(self._executor, self.start_position)
        cursor = self.cursor
        assert cursor is not None
        if self._bus is not None:

            def deliver(changes: list[Change]) -> None:
                if not self._stop.is_set() and not loop.is_closed():
                    loop.call_soon_threadsafe(self.deliver, changes)

            self._bus.listen(deliver, self._stop)
        while not self._stop.is_set():
            await asyncio.sleep(self._interval)
            try:
                changes = await loop.run_in_executor(self._executor, self._poll)
            except Exception as exc:
                log.warning("change feed poll failed: %s", exc)
                continue
            self._read_low = cursor.low
            if changes:
                self.deliver(changes)
            elif not self._draining:
                self.applied_low = self._read_low

    def deliver(self, changes: list[Change]) -> None:
        """On the event loop: apply ``changes`` after those delivered before them, at most
        ``TURN_SECONDS`` of slices at a turn of the loop."""
        self._pending.extend(changes)
        if not self._draining:
            self._draining = True
            asyncio.get_running_loop().call_soon(self._drain)

    def _drain(self) -> None:
        pending, clock = self._pending, self._clock
        until = clock() + TURN_SECONDS
        try:
            while pending:
                self._apply([pending.popleft() for _ in range(min(SLICE, len(pending)))])
                if clock() >= until:
                    break
        finally:  # a change that failed to apply does not hold back the ones behind it
            if pending:
                asyncio.get_running_loop().call_soon(self._drain)
            else:
                self._draining = False
                self.applied_low = max(self.applied_low, self._read_low)

    def _poll(self) -> list[Change]:
        """On a connection kept open in autocommit: a session a poll (pool checkout, BEGIN,
        ORM rows, ROLLBACK) cost two and a half times the CPU (2.2 against 0.85 ms for 55 rows),
        four times a second in every worker."""
        assert self.cursor is not None
        if self._connection is None:
            bind = self._factory.kw["bind"]
            self._connection = bind.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            return self.cursor.poll(self._connection)
        except Exception:
            self._connection.invalidate()  # perhaps broken: the next poll connects afresh
            self._disconnect()
            raise

    def _disconnect(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def close(self) -> None:
        self._stop.set()
        self._executor.submit(self._disconnect)
        self._executor.shutdown(wait=False)
