"""acct_session: Interim-Updates as HOT updates

An Interim-Update rewrites last_update and the counters. With an index on last_update, and no
room left on full pages, every one of them wrote a new entry into all five indexes of the
table. Without that index (the stale-session reaper finds a NAS's open sessions through
ix_acct_session_open and filters them) and with 15 % of each page left free on PostgreSQL,
PostgreSQL can keep the new version on the same page and touch no index at all.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 09:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_acct_session_open_update", table_name="acct_session")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE acct_session SET (fillfactor = 85)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE acct_session RESET (fillfactor)")
    op.create_index(
        "ix_acct_session_open_update",
        "acct_session",
        ["last_update"],
        postgresql_where=sa.text("stop_time IS NULL"),
        sqlite_where=sa.text("stop_time IS NULL"),
    )
