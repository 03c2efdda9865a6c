"""charge.debtor_customer_id: debt left with a previous owner at an ownership transfer

"Transferir débitos: não": the overdue charges of a transferred service stay the previous
owner's debt; they no longer count against the service (suspension) nor the new owner.

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


def upgrade() -> None:
    with op.batch_alter_table("charge") as batch:
        batch.add_column(sa.Column("debtor_customer_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_charge_debtor_customer_id_customer", "customer", ["debtor_customer_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("charge") as batch:
        batch.drop_constraint("fk_charge_debtor_customer_id_customer", type_="foreignkey")
        batch.drop_column("debtor_customer_id")
