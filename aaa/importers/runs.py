"""Starting and resuming imports, for the command line and the API alike."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from aaa.db.paging import page
from aaa.errors import Conflict, Invalid, NotFound
from aaa.importers.apply import Importer, Progress, start_run
from aaa.importers.source import Source
from aaa.logs import mask_credentials
from aaa.tables.imports import ImportRun
from aaa.vocabulary.search import only_digits

Reader = Callable[[], Source]


def read_mapping(content: str) -> dict[str, tuple[str, str]]:
    """CSV ``login,document,name`` (header required): logins grouped under customers."""
    reader = csv.DictReader(io.StringIO(content))
    missing = {"login", "document", "name"} - set(reader.fieldnames or ())
    if missing:
        raise Invalid(f"the mapping file needs the columns login, document, name; missing: {sorted(missing)}")
    return {
        row["login"].strip(): (only_digits(row["document"] or ""), (row["name"] or "").strip())
        for row in reader
        if (row.get("login") or "").strip()
    }


def begin(
    factory: sessionmaker[Session], *, kind: str, source: str, dry_run: bool, actor: str, resume: int | None
) -> int:
    """A new run's id, or the interrupted run ``resume`` (same kind and source) again."""
    with factory.begin() as session:
        if resume is None:
            return start_run(
                session, kind=kind, source=mask_credentials(source), dry_run=dry_run, actor=actor
            ).id
        run = session.get(ImportRun, resume)
        if run is None:
            raise NotFound(f"import {resume} does not exist")
        if run.status == "done":
            raise Conflict(f"import {resume} finished; run a new one (it changes only what changed)")
        if run.dry_run or dry_run:
            raise Invalid("a dry run has nothing to resume; run it again")
        run.status, run.error, run.finished_at = "running", None, None
        return run.id


def execute(
    factory: sessionmaker[Session],
    run_id: int,
    reader: Reader,
    *,
    dry_run: bool,
    progress: Progress | None = None,
    chunk: int = 500,
) -> ImportRun:
    """Read the source and write it; a reader that fails marks the run failed."""
    try:
        source = reader()
    except Exception as exc:
        with factory.begin() as session:
            run = session.get(ImportRun, run_id)
            assert run is not None
            run.status, run.error = "failed", mask_credentials(f"reading the source failed: {exc}")[:2000]
        raise
    return Importer(factory, source, run_id, dry_run=dry_run, chunk=chunk, progress=progress).run()


def list_runs(session: Session, limit: int, offset: int = 0) -> tuple[list[ImportRun], int]:
    return page(session, select(ImportRun), ImportRun.id.desc(), limit=limit, offset=offset)


def since(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(f"{text!r} is not a date (AAAA-MM-DD)") from None
