"""import_run and import_link: imports from FreeRADIUS SQL and ERP exports, idempotent

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 09:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import aaa.db.base

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_run",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("started_at", aaa.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", aaa.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("checkpoint", sa.JSON(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_table(
        "import_link",
        sa.Column("key", sa.String(length=253), primary_key=True),
        sa.Column("kind", sa.String(length=20), primary_key=True),
        sa.Column("source", sa.String(length=200), primary_key=True),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("import_link")
    op.drop_table("import_run")
