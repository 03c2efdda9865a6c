"""The auth log and what else a request leaves behind (MACs learned by MAC binding, NASes seen
sending Message-Authenticator, each NAS's requests and drops), collected off the request path and
written in batches by one background thread.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from aaa import metrics
from aaa.accounting.writer import unreachable
from aaa.nas import service as nas_service
from aaa.nas.activity import Counts, Tally, record_activity
from aaa.radius.trace import write_trace_lines
from aaa.subscribers import service as subscriber_service
from aaa.tables.accounting import AuthLog

log = logging.getLogger(__name__)
_ACTIVITY_SECONDS = 1.0  # the NAS counters are an operator's view: once a second is enough


@dataclass(slots=True)
class AuthLogRow:
    """One Access-Request's outcome, as the auth_log table keeps it (field order = COPY order)."""

    time: datetime
    nas_id: int
    login: str
    service_id: int | None
    method: str
    mac: str | None
    nas_port_id: str | None
    result: str
    reason: str
    mac_differs: bool
    interface_differs: bool
    granted: str | None  # what the Accept granted (speed, addresses), as JSON text


_COLUMNS = tuple(f.name for f in dataclasses.fields(AuthLogRow))


def write_auth_log(session: Session, rows: list[AuthLogRow]) -> None:
    """PostgreSQL: COPY (a few microseconds a row, against ~37 for INSERT executemany);
    SQLite: executemany."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        values = [dataclasses.asdict(row) for row in rows]
        for value in values:  # the JSON column takes the value, not its text
            value["granted"] = None if value["granted"] is None else json.loads(value["granted"])
        connection.execute(insert(AuthLog), values)
        return
    raw = connection.connection.driver_connection
    assert raw is not None  # a live psycopg connection inside the transaction
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY auth_log ({', '.join(_COLUMNS)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(
                [
                    row.time,
                    row.nas_id,
                    row.login,
                    row.service_id,
                    row.method,
                    row.mac,
                    row.nas_port_id,
                    row.result,
                    row.reason,
                    row.mac_differs,
                    row.interface_differs,
                    row.granted,
                ]
            )


class AuthRecorder:
    """Collects what the request path must not write itself and writes it in batches:
    auth log rows, MACs learned by MAC binding, and NASes that switched ``auto`` MA on."""

    def __init__(self, factory: sessionmaker[Session], interval: float, max_rows: int = 100_000):
        self._factory = factory
        self._interval = interval
        self._max_rows = max_rows
        self._rows: list[AuthLogRow] = []
        self._macs: dict[str, str] = {}
        self._ma_seen: set[int] = set()
        self.activity = Tally()  # the worker counts each NAS's requests and drops here
        self._activity_at = 0.0  # when the counters were last written
        self._traced: list[tuple[int, datetime, str]] = []  # debug trace lines (aaa.radius.trace)
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="auth-log")
        self._writing = False
        # Like AcctWriter.database_down, for the workers that serve no accounting.
        self.database_down = False

    def log(self, row: AuthLogRow) -> None:
        if len(self._rows) >= self._max_rows:
            metrics.AUTHLOG_DROPPED.inc()
            return
        self._rows.append(row)

    def learn_mac(self, login: str, mac: str) -> None:
        self._macs.setdefault(login, mac)

    def nas_ma_seen(self, nas_id: int) -> None:
        self._ma_seen.add(nas_id)

    def trace(self, trace_id: int, lines: list[str]) -> None:
        if len(self._traced) < self._max_rows:
            now = datetime.now(UTC)
            self._traced += [(trace_id, now, line) for line in lines]

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.flush()

    async def flush(self, final: bool = False) -> None:
        """Write what was collected; the NAS counters at most once a second (``final``: now)."""
        now = time.time()
        activity_due = bool(self.activity.counts) and (final or now - self._activity_at >= _ACTIVITY_SECONDS)
        if not (self._rows or self._macs or self._ma_seen or activity_due or self._traced):
            return
        rows, macs, seen, traced = self._rows, self._macs, self._ma_seen, self._traced
        self._rows, self._macs, self._ma_seen, self._traced = [], {}, set(), []
        activity: dict[int, Counts] = {}
        if activity_due:
            activity, self._activity_at = self.activity.take(now), now
        self._writing = True
        try:
            await asyncio.get_running_loop().run_in_executor(
                self._executor, self._write, rows, macs, seen, activity, traced
            )
            self.database_down = False
        except Exception as exc:
            self.database_down = unreachable(exc)
            log.warning("auth log write of %d rows failed, will retry: %s", len(rows), exc)
            self._rows[:0] = rows[: self._max_rows - len(self._rows)]
            self._macs = {**macs, **self._macs}
            self._ma_seen |= seen
            self.activity.give_back(activity)
            self._traced[:0] = traced
        finally:
            self._writing = False

    @property
    def idle(self) -> bool:
        """Nothing collected waits to be written, and no write is running."""
        return not (
            self._writing or self._rows or self._macs or self._ma_seen or self.activity.counts or self._traced
        )

    def _write(
        self,
        rows: list[AuthLogRow],
        macs: dict[str, str],
        seen: set[int],
        activity: dict[int, Counts],
        traced: list[tuple[int, datetime, str]],
    ) -> None:
        with self._factory.begin() as session:
            if rows:
                write_auth_log(session, rows)
            for login, mac in macs.items():
                subscriber_service.learn_mac(session, login, mac)
            for nas_id in seen:
                nas_service.mark_ma_seen(session, nas_id)
            if activity:
                record_activity(session, activity)
            if traced:
                write_trace_lines(session, traced)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
