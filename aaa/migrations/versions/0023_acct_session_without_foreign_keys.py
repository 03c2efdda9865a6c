"""acct_session: no foreign keys (checking them cost every accounting Start two queries)

Every accounting Start inserts an acct_session row in the group-commit merge, and each insert
ran two reference checks (NAS, service), each a query that also locks the referenced row (what
that cost: docs/benchmarks.md, 2026-12-04 night). The references stay as good without the
checks, as on auth_log (migration 0022): a session's NAS is the registered NAS its packet came
from and a NAS with history cannot be deleted (aaa.nas.service.delete_nas); its service is
found by login in the same statement, and services are never deleted.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04 22:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

_REFERENCES = (
    ("fk_acct_session_nas_id_nas", "nas_id", "nas"),
    ("fk_acct_session_service_id_service", "service_id", "service"),
)


def upgrade() -> None:
    with op.batch_alter_table("acct_session") as batch:
        for name, _, _ in _REFERENCES:
            batch.drop_constraint(name, type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("acct_session") as batch:
        for name, column, table in _REFERENCES:
            batch.create_foreign_key(name, table, [column], ["id"])
