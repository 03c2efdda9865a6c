"""charge.debtor_customer_id; the reduced_manual service status

"Transferir débitos: não": the overdue charges of a transferred service stay the previous
owner's debt; they no longer count against the service (suspension) nor the new owner.
"Reduzido manual": an operator reduces a service's speed; no routine undoes it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_STATUSES = (
    "pending_install",
    "enabled",
    "suspended_debt",
    "reduced_debt",
    "suspended_request",
    "blocked_manual",
    "awaiting_migration",
    "cancelled",
)


def _statuses(values: tuple[str, ...]) -> None:
    allowed = ", ".join(f"'{v}'" for v in values)
    with op.batch_alter_table("service") as batch:
        batch.drop_constraint(op.f("ck_service_service_status"), type_="check")
        batch.create_check_constraint("service_status", sa.text(f"status IN ({allowed})"))


def upgrade() -> None:
    with op.batch_alter_table("charge") as batch:
        batch.add_column(sa.Column("debtor_customer_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_charge_debtor_customer_id_customer", "customer", ["debtor_customer_id"], ["id"]
        )
    _statuses((*_STATUSES, "reduced_manual"))


def downgrade() -> None:
    op.execute("UPDATE service SET status = 'reduced_debt' WHERE status = 'reduced_manual'")
    _statuses(_STATUSES)
    with op.batch_alter_table("charge") as batch:
        batch.drop_constraint("fk_charge_debtor_customer_id_customer", type_="foreignkey")
        batch.drop_column("debtor_customer_id")
