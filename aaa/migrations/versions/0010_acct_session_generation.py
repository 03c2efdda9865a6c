"""acct_session.generation: an Acct-Session-Id reused after a Stop opens a new session

MikroTik restarts its Acct-Session-Id counter after a reboot, so a Start can name the key (NAS,
Acct-Session-Id, login) of a session that already stopped. The merge only moves forward and
never reopens a stopped session, so that Start, and every Interim after it, was lost: the new
session was invisible to Simultaneous-Use and enforcement, and its traffic uncounted. Now the
stopped session is kept under its own row id as generation, and the key's generation 0 row
becomes the new session. Existing rows are generation 0.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 07:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import aaa.db.base

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("acct_session") as batch:
        batch.add_column(sa.Column("generation", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("previous_stop", aaa.db.base.UtcDateTime(timezone=True), nullable=True))
        batch.drop_constraint("uq_acct_session_key", type_="unique")
        batch.create_unique_constraint(
            "uq_acct_session_key", ["nas_id", "acct_session_id", "login", "generation"]
        )


def downgrade() -> None:
    with op.batch_alter_table("acct_session") as batch:
        batch.drop_constraint("uq_acct_session_key", type_="unique")
        batch.create_unique_constraint("uq_acct_session_key", ["nas_id", "acct_session_id", "login"])
        batch.drop_column("previous_stop")
        batch.drop_column("generation")
