"""console_session: when an operator console session was last seen (idle timeout)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 13:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import aaa.db.base

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_session",
        sa.Column(
            "token_id",
            sa.Integer(),
            sa.ForeignKey("api_token.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("seen_at", aaa.db.base.UtcDateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("console_session")
