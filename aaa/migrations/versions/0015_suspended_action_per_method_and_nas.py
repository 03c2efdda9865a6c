"""suspended_action per billing method and per NAS

What a subscriber suspended for debt gets (reject, address list, blocked pool): the NAS's own
choice if it has one (it knows what it can do: accel-ppp has no address lists), else the
billing method's, else the ISP's [policy] default. Empty on every existing row: nothing changes.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 17:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("billing_method", "nas"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("suspended_action", sa.String(length=32), nullable=True))
        with op.batch_alter_table(table) as batch:
            batch.create_check_constraint(
                "suspended_action", sa.text("suspended_action IN ('reject', 'address_list', 'pool')")
            )


def downgrade() -> None:
    for table in ("nas", "billing_method"):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"ck_{table}_suspended_action"), type_="check")
            batch.drop_column("suspended_action")
