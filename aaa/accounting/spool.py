"""The accounting spool: where acknowledged accounting waits while the database is unreachable.

When a group commit fails because the database cannot be reached, the batch is appended to a
local file, one JSON line per record, and fsynced; only then is it acknowledged. A replayer
moves the file aside (atomic rename, so new spooling starts a fresh file), applies it to the
database in order, in chunks, and deletes it once every chunk has committed. Replaying twice is
harmless: the accounting merges are idempotent (counters keep the greatest value, a start and a
stop keep theirs), so a crash during replay loses nothing and counts nothing twice. A torn last
line (a crash inside ``write``) was never acknowledged and is skipped.

Each worker spools to its own file (``acct-<worker>.jsonl``); a restarted worker, or a worker
of any number, replays whatever files it finds, so nothing waits for its original writer.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from aaa import metrics
from aaa.accounting.records import AcctRecord, StatusType
from aaa.accounting.store import apply_records

log = logging.getLogger(__name__)
CHUNK = 500


def _encode(record: AcctRecord) -> str:
    data: dict[str, Any] = asdict(record)
    data["status"] = int(record.status)
    data["event_time"] = record.event_time.isoformat()
    return json.dumps(data, separators=(",", ":"))


def _decode(line: str) -> AcctRecord:
    data = json.loads(line)
    data["status"] = StatusType(data["status"])
    data["event_time"] = datetime.fromisoformat(data["event_time"])
    return AcctRecord(**data)


class Spool:
    def __init__(self, directory: str | Path, name: str, max_bytes: int):
        self.directory = Path(directory)
        self.path = self.directory / f"acct-{name}.jsonl"
        self.max_bytes = max_bytes
        self._lock = threading.Lock()  # commit threads spool, the replayer renames

    def append(self, records: Iterable[AcctRecord]) -> None:
        """Durable before it returns: every byte written, then fsynced. Anything less (the disk
        full, a file size limit, a short write) raises OSError and nothing is acknowledged; the
        file is cut back to where it was, so it never ends in a torn line."""
        payload = "".join(_encode(r) + "\n" for r in records).encode()
        with self._lock:
            if spool_bytes(self.directory) + len(payload) > self.max_bytes:
                raise OSError(f"the accounting spool is full ({self.max_bytes} bytes)")
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                before = os.fstat(fd).st_size
                try:
                    _write_all(fd, payload)
                    os.fsync(fd)
                except OSError as exc:
                    metrics.ACCT_SPOOL_ERRORS.inc()
                    log.error(
                        "accounting spool %s: writing %d records failed, not acknowledged: %s",
                        self.path,
                        payload.count(b"\n"),
                        exc,
                    )
                    with contextlib.suppress(OSError):
                        os.ftruncate(fd, before)
                        os.fsync(fd)
                    raise
            finally:
                os.close(fd)
        metrics.ACCT_SPOOLED.inc(payload.count(b"\n"))

    def replay(self, factory: sessionmaker[Session]) -> int:
        """Apply every spooled file (this worker's and any other's) to the database. Returns the
        records applied; raises if the database is still unreachable (the files stay)."""
        applied = 0
        with factory() as session:  # unreachable: raise before claiming anything
            session.execute(text("SELECT 1"))
        for path in self._claim():
            lines = path.read_text().splitlines()
            records = []
            for number, line in enumerate(lines, 1):
                try:
                    records.append(_decode(line))
                except (ValueError, TypeError, KeyError):
                    log.warning(
                        "%s line %d is torn or unreadable; skipped (never acknowledged)", path, number
                    )
            for start in range(0, len(records), CHUNK):
                with factory.begin() as session:
                    apply_records(session, records[start : start + CHUNK])
            path.unlink()
            applied += len(records)
            metrics.ACCT_REPLAYED.inc(len(records))
            log.info("replayed %d spooled accounting records from %s", len(records), path.name)
        return applied

    def _claim(self) -> list[Path]:
        """Files to replay, oldest first: earlier claims left by a crash, then the live files
        moved aside (each claimed by exactly one process: rename is atomic)."""
        if not self.directory.exists():
            return []
        with self._lock:
            for live in sorted(self.directory.glob("acct-*.jsonl")):
                try:
                    live.rename(live.with_name(f"{live.name}.{os.getpid()}.{time.time_ns()}.replay"))
                except FileNotFoundError:
                    continue  # another worker claimed it first
        mine = f".{os.getpid()}."
        claimed = [p for p in self.directory.glob("acct-*.replay") if mine in p.name or not _owner_alive(p)]
        return sorted(claimed, key=lambda p: int(p.name.split(".")[-2]))


def _write_all(fd: int, data: bytes) -> None:
    """``os.write`` may write less than asked (a file size limit, a full disk on some file
    systems): write the rest, and fail when no progress is possible."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:
            raise OSError(errno.ENOSPC, "short write: no space for the rest")
        view = view[written:]


def _owner_alive(path: Path) -> bool:
    """A claim whose process is gone is anyone's to finish."""
    try:
        pid = int(path.name.split(".")[-3])
        os.kill(pid, 0)
    except (ValueError, IndexError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def spool_bytes(directory: str | Path) -> int:
    folder = Path(directory)
    if not folder.exists():
        return 0
    total = 0
    for path in folder.glob("acct-*"):
        try:
            total += path.stat().st_size if path.is_file() else 0
        except FileNotFoundError:  # claimed (renamed) or replayed between the listing and the stat
            continue
    return total
