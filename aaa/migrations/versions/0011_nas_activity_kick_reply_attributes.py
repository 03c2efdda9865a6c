"""NAS activity, operator kicks, custom reply attributes, vendor profiles

- nas_activity: per NAS, the last request seen, the last drop and its cause, and counts, written
  by the RADIUS workers in their background flush, so `GET /nas/{id}` and `aaa nas list` show a
  NAS that talks to the server but is refused (wrong secret, no Message-Authenticator).
- enforcement.kick / enforcement.acct_session_row: an operator's "derrubar conexão" is an outbox
  row like any other change (same enforcer, rate limit, breaker, attempts record), marked as a
  kick of one session (or, without a row, of every open session of the service).
- plan.reply_attributes / service.reply_attributes: extra (attribute, operator, value) triples
  added to every Access-Accept, like FreeRADIUS's radgroupreply / radreply.
- nas.vendor: the accel-ppp Filter-Id shaper, Huawei, Cisco and Juniper profiles.
- radius_trace / radius_trace_line: `aaa trace`, a bounded debug trace of a running node.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 16:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import aaa.db.base

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_VENDORS = ("mikrotik", "accel-ppp", "generic")
_MORE_VENDORS = ("accel-ppp-filter-id", "huawei", "cisco", "juniper")


def _vendors(values: tuple[str, ...]) -> None:
    allowed = ", ".join(f"'{v}'" for v in values)
    with op.batch_alter_table("nas") as batch:
        batch.drop_constraint(op.f("ck_nas_vendor_profile"), type_="check")
        batch.create_check_constraint("vendor_profile", sa.text(f"vendor IN ({allowed})"))


def upgrade() -> None:
    op.create_table(
        "nas_activity",
        sa.Column("nas_id", sa.Integer(), sa.ForeignKey("nas.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("requests", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("last_request_at", aaa.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("drops", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("last_drop_at", aaa.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_drop_cause", sa.String(length=40), nullable=True),
        sa.Column("last_drop_detail", sa.String(length=200), nullable=True),
    )
    with op.batch_alter_table("enforcement") as batch:
        batch.add_column(sa.Column("kick", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("acct_session_row", sa.BigInteger(), nullable=True))
    for table in ("plan", "service"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("reply_attributes", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
            )
    _vendors(_VENDORS + _MORE_VENDORS)
    op.create_table(
        "radius_trace",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created_at", aaa.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("until", aaa.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("nas_id", sa.Integer(), sa.ForeignKey("nas.id", ondelete="CASCADE"), nullable=True),
        sa.Column("login", sa.String(length=253), nullable=True),
        sa.Column("max_packets", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
    )
    op.create_table(
        "radius_trace_line",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column(
            "trace_id", sa.Integer(), sa.ForeignKey("radius_trace.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("at", aaa.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
    )
    op.create_index("ix_radius_trace_line_trace_id", "radius_trace_line", ["trace_id"])


def downgrade() -> None:
    op.drop_table("radius_trace_line")
    op.drop_table("radius_trace")
    _vendors(_VENDORS)
    for table in ("service", "plan"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("reply_attributes")
    with op.batch_alter_table("enforcement") as batch:
        batch.drop_column("acct_session_row")
        batch.drop_column("kick")
    op.drop_table("nas_activity")
