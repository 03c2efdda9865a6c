"""billing_method.due_day_change_fee / due_day_change_credit

Changing a service's due day can cost a fee (a charge) or give a credit (off the next open
monthly fee), per billing method (seed 004, "Alteração de vencimento"). Empty: nothing, as before.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 17:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("billing_method") as batch:
        batch.add_column(sa.Column("due_day_change_fee", sa.Numeric(12, 2), nullable=True))
        batch.add_column(sa.Column("due_day_change_credit", sa.Numeric(12, 2), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("billing_method") as batch:
        batch.drop_column("due_day_change_credit")
        batch.drop_column("due_day_change_fee")
