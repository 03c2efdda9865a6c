"""service.password_scheme: cleartext, or the hash a FreeRADIUS import brought (NT, MD5, SHA,
SSHA, SHA-2, crypt), which verifies only the methods it can

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("service") as batch:
        batch.add_column(
            sa.Column("password_scheme", sa.String(length=16), nullable=False, server_default="cleartext")
        )


def downgrade() -> None:
    with op.batch_alter_table("service") as batch:
        batch.drop_column("password_scheme")
