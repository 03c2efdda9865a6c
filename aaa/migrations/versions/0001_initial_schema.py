"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 14:23:47.560705
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import aaa.db.base

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "change_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", aaa.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("keys", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_event")),
    )
    with op.batch_alter_table("change_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_change_event_created_at"), ["created_at"], unique=False)

    op.create_table(
        "customer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "person",
                "company",
                name="customer_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("document", sa.String(length=20), nullable=True),
        sa.Column("created_at", aaa.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer")),
        sa.UniqueConstraint("document", name=op.f("uq_customer_document")),
    )
    op.create_table(
        "nas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=43), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column(
            "vendor",
            sa.Enum(
                "mikrotik",
                "accel-ppp",
                "generic",
                name="vendor_profile",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("coa_port", sa.Integer(), nullable=False),
        sa.Column(
            "require_message_authenticator",
            sa.Enum(
                "yes", "no", "auto", name="ma_mode", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("ma_seen", sa.Boolean(), nullable=False),
        sa.Column("swap_octets", sa.Boolean(), nullable=False),
        sa.Column("interim_interval", sa.Integer(), nullable=True),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("created_at", aaa.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nas")),
        sa.UniqueConstraint("address", name=op.f("uq_nas_address")),
        sa.UniqueConstraint("name", name=op.f("uq_nas_name")),
    )
    op.create_table(
        "plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("download_kbps", sa.Integer(), nullable=False),
        sa.Column("upload_kbps", sa.Integer(), nullable=False),
        sa.Column("burst_download_kbps", sa.Integer(), nullable=True),
        sa.Column("burst_upload_kbps", sa.Integer(), nullable=True),
        sa.Column("burst_threshold_download_kbps", sa.Integer(), nullable=True),
        sa.Column("burst_threshold_upload_kbps", sa.Integer(), nullable=True),
        sa.Column("burst_time_s", sa.Integer(), nullable=True),
        sa.Column("created_at", aaa.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan")),
        sa.UniqueConstraint("name", name=op.f("uq_plan_name")),
    )
    op.create_table(
        "service",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(length=253), nullable=False),
        sa.Column("password", sa.String(length=128), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending_install",
                "enabled",
                "suspended_debt",
                "reduced_debt",
                "suspended_request",
                "blocked_manual",
                "awaiting_migration",
                "cancelled",
                name="service_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("simultaneous_use", sa.Integer(), nullable=False),
        sa.Column(
            "mac_binding",
            sa.Enum(
                "off",
                "enforce",
                "learn",
                name="mac_binding",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("mac", sa.String(length=17), nullable=True),
        sa.Column("nas_port_id", sa.String(length=253), nullable=True),
        sa.Column("fixed_ipv4", sa.String(length=15), nullable=True),
        sa.Column("created_at", aaa.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", aaa.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_service_customer_id_customer")
        ),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"], name=op.f("fk_service_plan_id_plan")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service")),
        sa.UniqueConstraint("fixed_ipv4", name=op.f("uq_service_fixed_ipv4")),
        sa.UniqueConstraint("login", name=op.f("uq_service_login")),
    )
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_service_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "acct_session",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("nas_id", sa.Integer(), nullable=False),
        sa.Column("acct_session_id", sa.String(length=64), nullable=False),
        sa.Column("login", sa.String(length=253), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("nas_port", sa.BigInteger(), nullable=True),
        sa.Column("nas_port_id", sa.String(length=253), nullable=True),
        sa.Column("calling_station_id", sa.String(length=64), nullable=True),
        sa.Column("framed_ip", sa.String(length=45), nullable=True),
        sa.Column("start_time", aaa.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_update", aaa.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("stop_time", aaa.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("session_time", sa.BigInteger(), nullable=False),
        sa.Column("input_octets", sa.BigInteger(), nullable=False),
        sa.Column("output_octets", sa.BigInteger(), nullable=False),
        sa.Column("input_packets", sa.BigInteger(), nullable=False),
        sa.Column("output_packets", sa.BigInteger(), nullable=False),
        sa.Column("terminate_cause", sa.String(length=32), nullable=True),
        sa.Column(
            "closed_by",
            sa.Enum(
                "stop",
                "nas_reboot",
                "timeout",
                name="closed_by",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(["nas_id"], ["nas.id"], name=op.f("fk_acct_session_nas_id_nas")),
        sa.ForeignKeyConstraint(
            ["service_id"], ["service.id"], name=op.f("fk_acct_session_service_id_service")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acct_session")),
        sa.UniqueConstraint("nas_id", "acct_session_id", "login", name="uq_acct_session_key"),
    )
    with op.batch_alter_table("acct_session", schema=None) as batch_op:
        batch_op.create_index("ix_acct_session_login_start", ["login", "start_time"], unique=False)
        batch_op.create_index(
            "ix_acct_session_open",
            ["nas_id"],
            unique=False,
            postgresql_where=sa.text("stop_time IS NULL"),
            sqlite_where=sa.text("stop_time IS NULL"),
        )
        batch_op.create_index(
            "ix_acct_session_open_update",
            ["last_update"],
            unique=False,
            postgresql_where=sa.text("stop_time IS NULL"),
            sqlite_where=sa.text("stop_time IS NULL"),
        )

    op.create_table(
        "auth_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("time", aaa.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("nas_id", sa.Integer(), nullable=True),
        sa.Column("login", sa.String(length=253), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=True),
        sa.Column("nas_port_id", sa.String(length=253), nullable=True),
        sa.Column(
            "result",
            sa.Enum(
                "accept", "reject", name="auth_result", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("mac_differs", sa.Boolean(), nullable=False),
        sa.Column("interface_differs", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["nas_id"], ["nas.id"], name=op.f("fk_auth_log_nas_id_nas")),
        sa.ForeignKeyConstraint(["service_id"], ["service.id"], name=op.f("fk_auth_log_service_id_service")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_log")),
    )
    with op.batch_alter_table("auth_log", schema=None) as batch_op:
        batch_op.create_index("ix_auth_log_login_time", ["login", "time"], unique=False)
        batch_op.create_index(batch_op.f("ix_auth_log_time"), ["time"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("auth_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_log_time"))
        batch_op.drop_index("ix_auth_log_login_time")

    op.drop_table("auth_log")
    with op.batch_alter_table("acct_session", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_acct_session_open_update",
            postgresql_where=sa.text("stop_time IS NULL"),
            sqlite_where=sa.text("stop_time IS NULL"),
        )
        batch_op.drop_index(
            "ix_acct_session_open",
            postgresql_where=sa.text("stop_time IS NULL"),
            sqlite_where=sa.text("stop_time IS NULL"),
        )
        batch_op.drop_index("ix_acct_session_login_start")

    op.drop_table("acct_session")
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_plan_id"))
        batch_op.drop_index(batch_op.f("ix_service_customer_id"))

    op.drop_table("service")
    op.drop_table("plan")
    op.drop_table("nas")
    op.drop_table("customer")
    with op.batch_alter_table("change_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_change_event_created_at"))

    op.drop_table("change_event")
