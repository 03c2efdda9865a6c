"""Imports (bring your base): start one, follow its progress, read its report."""

from __future__ import annotations

import logging
import threading
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import Field
from sqlalchemy.orm import Session

from aaa.audit.log import actor_of
from aaa.errors import NotFound
from aaa.tables.imports import ImportRun
from admin_api import scoped
from admin_api.deps import CityScope, db
from admin_api.routes.common import Limit, Offset, PathId
from admin_api.schemas.common import In, Out, Page

router = APIRouter(tags=["imports"])
log = logging.getLogger(__name__)


class ImportIn(In):
    kind: Literal["freeradius", "erp_csv"]
    url: str | None = Field(None, max_length=500, description="freeradius: postgresql://… or mysql://…")
    dry_run: bool = Field(False, description="write nothing; report per row what would happen")
    mapping: str | None = Field(
        None, max_length=10_000_000, description="freeradius: CSV login,document,name grouping logins"
    )
    history_since: str | None = Field(None, description="freeradius: closed sessions from AAAA-MM-DD")
    preset: Literal["generic", "mkauth", "ixc"] = "generic"
    customers_csv: str | None = Field(None, max_length=50_000_000, description="erp_csv: the customers file")
    services_csv: str | None = Field(None, max_length=50_000_000, description="erp_csv: the services file")
    charges_csv: str | None = Field(None, max_length=50_000_000, description="erp_csv: open charges file")
    resume: int | None = Field(None, description="continue this interrupted import")


class ImportOut(Out):
    id: int
    kind: str
    source: str
    dry_run: bool
    status: str
    actor: str
    stage: str
    done: int
    total: int
    checkpoint: dict[str, int]
    counts: dict[str, dict[str, int]]
    rows: list[dict[str, Any]]
    error: str | None


def _reader(body: ImportIn) -> tuple[str, Any]:
    from aaa.errors import Invalid
    from aaa.importers import erp_csv, freeradius, runs

    if body.kind == "freeradius":
        if not body.url:
            raise Invalid("a FreeRADIUS import needs url (postgresql://… or mysql://…)")
        try:
            freeradius.check_url(body.url)
        except ValueError as exc:
            raise Invalid(str(exc)) from None
        mapping = runs.read_mapping(body.mapping) if body.mapping else None
        history = runs.since(body.history_since)
        url = body.url
        return url, lambda: freeradius.read(url, mapping=mapping, history_since=history)
    if not body.services_csv:
        raise Invalid("an ERP import needs services_csv (and customers_csv, charges_csv if exported)")
    files = (body.customers_csv or "", body.services_csv, body.charges_csv or "")
    preset = body.preset
    return f"erp_csv:{preset}", lambda: erp_csv.read(*files, preset=preset)


@router.post("/imports", response_model=ImportOut, status_code=202)
def start_import(
    body: ImportIn, request: Request, scope: CityScope, session: Session = db("imports.run")
) -> ImportOut:
    """Start an import in the background: 202 with its id; follow it with GET /imports/{id}
    (stage, done/total, counts per kind and action, every row not simply created)."""
    from aaa.importers import runs

    scoped.whole_isp(scope, "an import")
    source, reader = _reader(body)
    factory = request.app.state.factory
    run_id = runs.begin(
        factory,
        kind=body.kind,
        source=source,
        dry_run=body.dry_run,
        actor=actor_of(session).name,
        resume=body.resume,
    )

    def work() -> None:
        try:
            runs.execute(factory, run_id, reader, dry_run=body.dry_run)
        except Exception:
            log.exception("import %d failed", run_id)

    threading.Thread(target=work, name=f"import-{run_id}", daemon=True).start()
    run = session.get(ImportRun, run_id)
    assert run is not None
    return ImportOut.model_validate(run)


@router.get("/imports", response_model=Page[ImportOut])
def list_imports(
    scope: CityScope, limit: Limit = 50, offset: Offset = 0, session: Session = db("imports.run")
) -> Page[ImportOut]:
    from aaa.importers import runs

    scoped.whole_isp(scope, "imports")
    items, total = runs.list_runs(session, limit, offset)
    return Page(
        items=[ImportOut.model_validate(r).model_copy(update={"rows": []}) for r in items],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/imports/{import_id}", response_model=ImportOut)
def get_import(import_id: PathId, scope: CityScope, session: Session = db("imports.run")) -> ImportOut:
    scoped.whole_isp(scope, "imports")
    run = session.get(ImportRun, import_id)
    if run is None:
        raise NotFound(f"import {import_id} does not exist")
    session.refresh(run)
    return ImportOut.model_validate(run)
