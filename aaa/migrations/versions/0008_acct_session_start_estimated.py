"""acct_session.start_estimated: whether the start came from a Start or from an estimate

A session first seen through an Interim-Update or a Stop gets its start estimated as that
packet's time less its Acct-Session-Time. A Start's own time now replaces such an estimate,
and an estimate never moves a start a Start reported (as FreeRADIUS's stock queries do). The
merge used to take the earliest of both: an Interim claiming a second more than had passed
moved the start, and so the indexed (login, start_time), which cost PostgreSQL a new entry in
every index of the table instead of a HOT update. Existing rows count as reported.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "acct_session",
        sa.Column("start_estimated", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("acct_session", "start_estimated")
