"""auth_log: no foreign keys (checking them was most of PostgreSQL's work a row)

Every Access-Request writes one auth_log row by COPY. The two reference checks (NAS, service)
were most of what PostgreSQL spends a row, on the cores the RADIUS workers need (what they
cost: docs/benchmarks.md, 2026-12-04 evening). A NAS with history cannot be deleted
(aaa.nas.service.delete_nas) and a service never is, so the references stay as good without the
checks.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 20:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

_REFERENCES = (
    ("fk_auth_log_nas_id_nas", "nas_id", "nas"),
    ("fk_auth_log_service_id_service", "service_id", "service"),
)


def upgrade() -> None:
    with op.batch_alter_table("auth_log") as batch:
        for name, _, _ in _REFERENCES:
            batch.drop_constraint(name, type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("auth_log") as batch:
        for name, column, table in _REFERENCES:
            batch.create_foreign_key(name, table, [column], ["id"])
