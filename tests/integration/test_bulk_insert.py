"""aaa.db.bulk.insert_rows: COPY on PostgreSQL, the ORM's bulk insert on SQLite; either way the
rows read back as an INSERT would have stored them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from aaa.db.bulk import among, insert_rows
from aaa.tables.audit import AuditEntry
from aaa.tables.subscribers import Plan


def test_rows_with_unlike_columns_json_enums_and_defaults(factory: Any) -> None:
    at = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    rows = [
        {"at": at, "actor": "cli:root", "source": "local", "entity": "service", "entity_id": 1,
         "action": "created", "changes": {"login": [None, "joão"], "price": [None, "99.90"]}},
        {"at": at, "actor": "cli:root", "source": "local", "entity": "service", "entity_id": 2,
         "action": "created", "changes": {}, "note": "tab\\there, a\nnew line and a quote \" ' too"},
    ]  # fmt: skip
    with factory.begin() as session:
        insert_rows(session, AuditEntry, rows)
        insert_rows(session, Plan, [{"name": "Fibra", "price": Decimal("99.90"), "download_kbps": 1,
                                     "upload_kbps": 1}])  # fmt: skip
    with factory() as session:
        found = session.scalars(select(AuditEntry).order_by(AuditEntry.entity_id)).all()
        assert [e.changes for e in found] == [rows[0]["changes"], {}]
        assert found[0].note is None and found[1].note == rows[1]["note"] and found[0].at == at
        plan = session.scalars(select(Plan)).one()
        assert plan.price == Decimal("99.90") and plan.created_at is not None  # its Python default
        picked = session.scalars(
            select(AuditEntry.entity_id).where(among(session, AuditEntry.entity_id, [2, 3]))
        )
        assert list(picked) == [2]
