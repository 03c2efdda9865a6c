"""Trust: operator lockout and forced password change; NAS registrations confirmed on purpose
(wide prefixes, short secrets); RouterOS API-SSL per NAS.

Existing NASes keep working as they are: a wide prefix or a short secret already stored is
marked as confirmed, so the upgrade refuses nothing that ran before (it is flagged instead).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import aaa.db.base

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_NAS_FLAGS = ("api_tls", "api_tls_verify", "allow_wide_prefix", "allow_short_secret")


def upgrade() -> None:
    with op.batch_alter_table("operator") as batch:
        batch.add_column(
            sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("locked_until", aaa.db.base.UtcDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("nas") as batch:
        for name in _NAS_FLAGS:
            batch.add_column(sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.false()))
    nas = sa.table("nas", sa.column("secret", sa.String), sa.column("allow_short_secret", sa.Boolean))
    op.execute(nas.update().where(sa.func.length(nas.c.secret) < 16).values(allow_short_secret=True))
    # Wide prefixes: any registration with a prefix length is checked by the service on edit;
    # mark every existing CIDR registration as confirmed so nothing that worked stops.
    wide = sa.table("nas", sa.column("address", sa.String), sa.column("allow_wide_prefix", sa.Boolean))
    op.execute(wide.update().where(wide.c.address.like("%/%")).values(allow_wide_prefix=True))


def downgrade() -> None:
    with op.batch_alter_table("nas") as batch:
        for name in reversed(_NAS_FLAGS):
            batch.drop_column(name)
    with op.batch_alter_table("operator") as batch:
        batch.drop_column("locked_until")
        batch.drop_column("failed_logins")
        batch.drop_column("must_change_password")
