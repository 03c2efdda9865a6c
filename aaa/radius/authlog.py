"""The auth log and what else a request leaves behind (MACs learned by MAC binding, NASes seen
sending Message-Authenticator, each NAS's requests and drops), collected off the request path and
written in batches by one background thread.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

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


# The auth_log columns in COPY order.
_COLUMNS = (
    "time",
    "nas_id",
    "login",
    "service_id",
    "method",
    "mac",
    "nas_port_id",
    "result",
    "reason",
    "mac_differs",
    "interface_differs",
    "granted",
)
_NULL = "\\N"
_BOOLEAN = {False: "f", True: "t"}
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: str | None) -> str:
    """A text value in COPY's text format: backslash, tab, newline and carriage return escaped
    (a login is whatever the NAS sent); None is NULL."""
    if value is None:
        return _NULL
    return value.translate(_ESCAPES)


def copy_line(time: str, row: dict[str, Any]) -> str:
    """One line of ``COPY auth_log (_COLUMNS) FROM STDIN`` text, every text value escaped:
    what a line whose values hold COPY's own syntax is made of (see AuthRecorder.log)."""
    service = _NULL if row["service_id"] is None else row["service_id"]
    return (
        f"{time}\t{row['nas_id']}\t{_copy_text(row['login'])}\t{service}\t{row['method']}\t"
        f"{_copy_text(row['mac'])}\t{_copy_text(row['nas_port_id'])}\t{row['result']}\t"
        f"{_copy_text(row['reason'])}\t{_BOOLEAN[row['mac_differs']]}\t{_BOOLEAN[row['interface_differs']]}\t"
        f"{_copy_text(row['granted'])}\n"
    )


class CopyClock:
    """Now as COPY text for a timestamptz, in UTC to the microsecond: the date and time of
    day are formatted once a second, the microseconds each call."""

    __slots__ = ("_second", "_text")

    def __init__(self) -> None:
        self._second = -1
        self._text = ""

    def now(self) -> str:
        second, nanoseconds = divmod(time.time_ns(), 1_000_000_000)
        if second != self._second:
            self._second = second
            self._text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%d %H:%M:%S.")
        return f"{self._text}{nanoseconds // 1000:06d}+00"


# What the recorder keeps of a request: on PostgreSQL its COPY line, made on the request
# path; elsewhere the row's values for an INSERT.
Logged = str | dict[str, Any]


def write_auth_log(session: Session, rows: Sequence[Logged]) -> None:
    """PostgreSQL: one COPY of the rows' lines; SQLite: executemany."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        values = [row for row in rows if isinstance(row, dict)]
        assert len(values) == len(rows), "COPY lines are for PostgreSQL"
        connection.execute(insert(AuthLog), values)
        return
    raw = connection.connection.driver_connection
    assert raw is not None  # a live psycopg connection inside the transaction
    lines = [row for row in rows if isinstance(row, str)]
    assert len(lines) == len(rows), "rows are for SQLite"
    with raw.cursor() as cursor, cursor.copy(f"COPY auth_log ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
        copy.write("".join(lines))


class AuthRecorder:
    """Collects what the request path must not write itself and writes it in batches:
    auth log rows, MACs learned by MAC binding, and NASes that switched ``auto`` MA on.

    On PostgreSQL each row becomes its COPY line when it is logged, on the event loop: the
    writer thread then holds the GIL only to hand one string to the connection. Formatting a
    flush's rows in that thread made the event loop wait for the GIL at every system call for
    as long as the formatting ran: the tail of the request latency came from there."""

    def __init__(self, factory: sessionmaker[Session], interval: float, max_rows: int = 100_000):
        self._factory = factory
        self._interval = interval
        self._max_rows = max_rows
        bind = factory.kw.get("bind")
        self._as_line = bind is not None and bind.dialect.name == "postgresql"
        self._clock = CopyClock()
        self._rows: list[Logged] = []
        self._macs: dict[str, str] = {}
        self._ma_seen: set[int] = set()
        self.activity = Tally()  # the worker counts each NAS's requests and drops here
        self._activity_at = 0.0  # when the counters were last written
        self._traced: list[tuple[int, datetime, str]] = []  # debug trace lines (aaa.radius.trace)
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="auth-log")
        self._writing = False
        # Like AcctWriter.database_down, for the workers that serve no accounting.
        self.database_down = False

    def log(
        self,
        *,
        nas_id: int,
        login: str,
        service_id: int | None,
        method: str,
        mac: str | None,
        nas_port_id: str | None,
        result: str,
        reason: str,
        mac_differs: bool,
        interface_differs: bool,
        granted: str | None,  # what the Accept granted (speed, addresses), as JSON text
    ) -> None:
        """One Access-Request's outcome, stamped now. On PostgreSQL the COPY line is made in
        one step and checked once: only a line with a value holding COPY's own syntax (a
        backslash, a tab, a newline or a carriage return, all rare) is made again with every
        value escaped."""
        if len(self._rows) >= self._max_rows:
            metrics.AUTHLOG_DROPPED.inc()
            return
        if self._as_line:
            stamp = self._clock.now()
            line = (
                f"{stamp}\t{nas_id}\t{login}\t{_NULL if service_id is None else service_id}\t{method}\t"
                f"{_NULL if mac is None else mac}\t{_NULL if nas_port_id is None else nas_port_id}\t"
                f"{result}\t{reason}\t{_BOOLEAN[mac_differs]}\t{_BOOLEAN[interface_differs]}\t"
                f"{_NULL if granted is None else granted}\n"
            )
            nulls = (service_id is None) + (mac is None) + (nas_port_id is None) + (granted is None)
            plain = line.count("\t") == 11 and line.count("\n") == 1 and "\r" not in line
            if plain and line.count("\\") == nulls:
                self._rows.append(line)
                return
        values: dict[str, Any] = {
            "nas_id": nas_id,
            "login": login,
            "service_id": service_id,
            "method": method,
            "mac": mac,
            "nas_port_id": nas_port_id,
            "result": result,
            "reason": reason,
            "mac_differs": mac_differs,
            "interface_differs": interface_differs,
            "granted": granted,
        }
        if self._as_line:
            self._rows.append(copy_line(stamp, values))
        else:  # the JSON column takes the value, not its text
            values.update(time=datetime.now(UTC), granted=None if granted is None else json.loads(granted))
            self._rows.append(values)

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
        rows: list[Logged],
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
