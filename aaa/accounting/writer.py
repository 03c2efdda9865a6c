"""The accounting writer: group commit, with a spool while the database is away.

Accounting is answered only after its transaction commits. Records that arrive while a
commit is running form the next batch, so the batch size follows the load with no timer:
one record per commit when idle, hundreds under a storm.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError, StatementError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from aaa import metrics
from aaa.accounting.loop_merge import LoopMerge
from aaa.accounting.records import AcctRecord
from aaa.accounting.spool import Spool, spool_bytes
from aaa.accounting.store import apply_records, feed_changes, feed_ids, merge_statement, single_statement
from aaa.changes.feed import publish
from aaa.db.base import utcnow
from aaa.db.engine import writer_engine

log = logging.getLogger(__name__)


T = TypeVar("T")
_HALVE_FROM = 32  # records waiting; fewer go in one commit (its fixed cost would dominate)
_CONNECTION_ERRORS = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)
_REFUSALS = ("no such table", "no such column", "syntax error")  # SQLite reports these as operational


def unreachable(exc: BaseException) -> bool:
    """The database could not be reached (as opposed to refusing the data): worth spooling.
    A refused write is not acknowledged instead, so it is never spooled to fail again."""
    if not isinstance(exc, _CONNECTION_ERRORS):
        return False
    text = str(getattr(exc, "orig", exc)).lower()
    return not any(refusal in text for refusal in _REFUSALS)


def refused(exc: BaseException) -> bool:
    """The database was reached and refused the data (a record it cannot take)."""
    return isinstance(exc, StatementError) and not unreachable(exc)


Done = Callable[[list[T], BaseException | None], None]


class AcctWriter(Generic[T]):
    """Group commit. Each record travels with a ticket (what its caller needs to answer it);
    once a batch is durable, or has failed, ``done`` gets the batch's tickets in one call, on
    the event loop: no future, callback and loop handle per record.

    The next batch is on its way to the database before the finished one is answered: the
    answers (a reply signed and sent per record) then overlap the next commit instead of
    delaying it, which is what bounds a worker's accounting rate once a commit's wait, not
    CPU, is the limit."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        batch_max: int,
        concurrency: int,
        spool: Spool | None = None,
        done: Done[T] | None = None,
        announced: Callable[[list[int]], None] | None = None,
    ):
        self._factory = factory
        self._engine = writer_engine(factory.kw["bind"], concurrency)
        self._spool = spool
        self._done: Done[T] = done or (lambda tickets, error: None)
        # Told the ids of the feed rows a merge wrote, once its changes are published here.
        self._announced = announced or (lambda ids: None)
        # Set by a commit that could not reach the database, cleared by one that could (or by the
        # replay loop's probe): what radius.database_down = "reject" consults.
        self.database_down = False
        self._batch_max = batch_max
        self._pending: list[tuple[AcctRecord, T]] = []
        # Commits in flight at once (setting acct_commit_concurrency): worth raising only when
        # round trips to a remote database dominate; on one machine the GIL makes 1 the fastest.
        # The merges are order-independent, so overlapping batches are safe.
        self._concurrency = concurrency
        self._in_flight = 0
        self._refused_seen: set[tuple[int, str]] = set()
        self._kick_due = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._executor = ThreadPoolExecutor(concurrency, thread_name_prefix="acct-commit")
        self._loop_merge = LoopMerge(self._engine) if self._engine.dialect.name == "postgresql" else None

    def submit(self, record: AcctRecord, ticket: T) -> None:
        """``done`` gets ``ticket`` once the record is committed, or with the error if not.
        Called on the event loop; the commit starts once the datagrams read at this wake-up are
        all submitted, so they share it."""
        self._pending.append((record, ticket))
        if not self._kick_due:
            self._kick_due = True
            asyncio.get_running_loop().call_soon(self._kick)

    @property
    def idle(self) -> bool:
        return not self._pending and not self._in_flight

    def _kick(self, answering: int = 0) -> None:
        """Start commits for what is pending, as many as may be in flight. ``answering``: the
        records of the commit that just ended, whose answers go out right after this.

        A NAS keeps a bounded number of requests outstanding. In one batch it has nothing left to
        send until the whole batch is answered, and the database and the worker work in turns.
        So when many records wait and no commit is in flight, the commit takes half of what the
        worker holds: the records waiting and those about to be answered (which come back as new
        requests while it runs), at most all that wait. The rest go out the moment it returns,
        and meanwhile the worker answers and reads. This settles on two equal halves of what the
        NASes keep outstanding, one in the database while the other is answered and sent again;
        halving only the waiting records settled on a third in the database and two thirds
        waiting behind it (docs/benchmarks.md, 2026-12-04 night)."""
        self._kick_due = False
        while self._pending and self._in_flight < self._concurrency:
            waiting = len(self._pending)
            halve = waiting >= _HALVE_FROM and not self._in_flight
            take = min(self._batch_max, waiting, (waiting + answering + 1) // 2 if halve else waiting)
            batch = self._pending[:take]
            del self._pending[:take]
            self._in_flight += 1
            written = self._begin_write([rec for rec, _ in batch])
            task = asyncio.get_running_loop().create_task(self._commit_batch(batch, written))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _commit_batch(self, batch: list[tuple[AcctRecord, T]], written: Awaitable[None]) -> None:
        metrics.ACCT_QUEUE.set(len(self._pending))  # once a batch, not twice a record
        metrics.ACCT_BATCH.observe(len(batch))
        answers: list[tuple[list[T], BaseException | None]] = []
        try:
            await self._settle(batch, written, answers)
        finally:
            self._in_flight -= 1
        self._kick(len(batch))
        for tickets, error in answers:
            self._done(tickets, error)

    async def _settle(
        self,
        batch: list[tuple[AcctRecord, T]],
        written: Awaitable[None],
        answers: list[tuple[list[T], BaseException | None]],
    ) -> None:
        """Store ``batch`` and note how to answer it. A batch the database refuses (reachable,
        but a record it cannot take) is split in halves, and those again, until the refused
        records stand alone: every other record of the batch is committed and answered, and
        only the refused ones are not (the NAS retransmits them, alone)."""
        try:
            await self._store([rec for rec, _ in batch], written)
        except Exception as exc:
            if len(batch) > 1 and refused(exc):
                half = len(batch) // 2
                for part in (batch[:half], batch[half:]):
                    await self._settle(part, self._begin_write([rec for rec, _ in part]), answers)
                return
            metrics.ACCT_FAILURES.inc()
            if len(batch) == 1 and refused(exc):
                self._refused(batch[0][0], exc)
            else:
                log.error("accounting commit of %d records failed, not acknowledged: %s", len(batch), exc)
            answers.append(([ticket for _, ticket in batch], exc))
            return
        answers.append(([ticket for _, ticket in batch], None))

    def _refused(self, record: AcctRecord, exc: BaseException) -> None:
        """A record the database refuses: counted every time, logged once per NAS and session
        (its retransmissions would repeat the line)."""
        metrics.ACCT_REFUSED.inc()
        key = (record.nas_id, record.acct_session_id)
        if key in self._refused_seen:
            return
        if len(self._refused_seen) > 10_000:
            self._refused_seen.clear()
        self._refused_seen.add(key)
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:300]
        log.error(
            "accounting record refused by the database, not acknowledged (NAS %d, Acct-Session-Id %r, "
            "login %r): %s",
            record.nas_id,
            record.acct_session_id,
            record.login,
            reason,
        )

    async def _store(self, records: list[AcctRecord], written: Awaitable[None]) -> None:
        """Committed, or (database unreachable) spooled and fsynced: either way durable, so the
        caller acknowledges. Anything else raises and is not acknowledged."""
        try:
            await written
            self.database_down = False
        except _CONNECTION_ERRORS as exc:
            if not unreachable(exc):
                raise
            self.database_down = True
            if self._spool is None:
                raise
            try:
                await asyncio.get_running_loop().run_in_executor(self._executor, self._spool.append, records)
            except OSError as full:
                log.error("accounting spool refused %d records: %s", len(records), full)
                raise exc from full
            log.warning("database unreachable; %d accounting records spooled: %s", len(records), exc)

    def _begin_write(self, records: list[AcctRecord]) -> Awaitable[None]:
        """Start writing ``records`` now; await the result for the outcome. PostgreSQL, each
        session once: one statement in autocommit, sent from the event loop (see loop_merge).
        Otherwise one transaction, on the commit thread."""
        loop = asyncio.get_running_loop()
        try:
            if self._loop_merge is None or not single_statement(self._engine.dialect.name, records):
                return loop.run_in_executor(self._executor, self._transaction, records)
            sql, params = merge_statement(self._engine.dialect, records, utcnow())
            return self._announce(self._loop_merge.start(sql, params))
        except Exception as exc:  # through the result, like any failed write: the batch is answered
            failed: asyncio.Future[None] = loop.create_future()
            failed.set_exception(exc)
            return failed

    async def _announce(self, merged: Awaitable[str | None]) -> None:
        result = await merged
        publish(self._factory, feed_changes(result))
        self._announced(feed_ids(result))

    def _transaction(self, records: list[AcctRecord]) -> None:
        with self._factory.begin() as session:
            apply_records(session, records)

    async def replay_every(self, interval: float) -> None:
        """Move spooled records into the database once it answers again."""
        if self._spool is None:
            return
        loop = asyncio.get_running_loop()
        while True:
            waiting = spool_bytes(self._spool.directory)
            if waiting or self.database_down:
                try:
                    await loop.run_in_executor(self._executor, self._spool.replay, self._factory)
                    self.database_down = False
                    waiting = spool_bytes(self._spool.directory)
                except Exception as exc:
                    if unreachable(exc):
                        self.database_down = True
                        log.info("spool replay waits for the database: %s", exc)
                    else:
                        log.exception("spool replay failed; the files stay for the next attempt")
            metrics.ACCT_SPOOL_BYTES.set(waiting)
            await asyncio.sleep(interval)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        if self._loop_merge is not None:
            self._loop_merge.close()
        if self._engine is not self._factory.kw["bind"]:
            self._engine.dispose()
