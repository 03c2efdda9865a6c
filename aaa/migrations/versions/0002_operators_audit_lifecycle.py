"""operators, audit, customer details, service lifecycle

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 18:10:18.813643
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import aaa.db.base

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", aaa.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
    )
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_entry_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entry_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entry_operator_id"), ["operator_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entry_service_id"), ["service_id"], unique=False)

    op.create_table(
        "cash_box",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cash_box")),
        sa.UniqueConstraint("name", name=op.f("uq_cash_box_name")),
    )
    op.create_table(
        "operator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("superuser", sa.Boolean(), nullable=False),
        sa.Column("permissions", sa.JSON(), nullable=False),
        sa.Column("cities", sa.JSON(), nullable=False),
        sa.Column("created_at", aaa.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator")),
        sa.UniqueConstraint("login", name=op.f("uq_operator_login")),
    )
    op.create_table(
        "role",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("permissions", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role")),
        sa.UniqueConstraint("name", name=op.f("uq_role_name")),
    )
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "session", "api_key", name="token_kind", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=64), nullable=True),
        sa.Column("scopes", sa.JSON(), nullable=True),
        sa.Column("created_at", aaa.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", aaa.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", aaa.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operator.id"],
            name=op.f("fk_api_token_operator_id_operator"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_token_operator_id"), ["operator_id"], unique=False)

    op.create_table(
        "operator_cash_box",
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("cash_box_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cash_box_id"],
            ["cash_box.id"],
            name=op.f("fk_operator_cash_box_cash_box_id_cash_box"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operator.id"],
            name=op.f("fk_operator_cash_box_operator_id_operator"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("operator_id", "cash_box_id", name=op.f("pk_operator_cash_box")),
    )
    op.create_table(
        "operator_role",
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("role_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operator.id"],
            name=op.f("fk_operator_role_operator_id_operator"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["role_id"], ["role.id"], name=op.f("fk_operator_role_role_id_role"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("operator_id", "role_id", name=op.f("pk_operator_role")),
    )
    op.create_table(
        "address",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "registration",
                "installation",
                "billing",
                "fiscal",
                name="address_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("cep", sa.String(length=8), nullable=True),
        sa.Column("street", sa.String(length=200), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=True),
        sa.Column("complement", sa.String(length=100), nullable=True),
        sa.Column("district", sa.String(length=100), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_address_customer_id_customer")
        ),
        sa.ForeignKeyConstraint(["service_id"], ["service.id"], name=op.f("fk_address_service_id_service")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_address")),
    )
    with op.batch_alter_table("address", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_address_city"), ["city"], unique=False)
        batch_op.create_index(batch_op.f("ix_address_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_address_service_id"), ["service_id"], unique=False)

    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("trade_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("birth_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("phones", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("emails", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("group_name", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("origin", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("notes", sa.Text(), nullable=True))

    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "technology",
                sa.Enum(
                    "fiber",
                    "radio",
                    "cable",
                    "dsl",
                    "other",
                    name="technology",
                    native_enum=False,
                    create_constraint=True,
                    length=32,
                ),
                nullable=True,
            )
        )

    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.add_column(sa.Column("former_login", sa.String(length=253), nullable=True))
        batch_op.add_column(
            sa.Column("price", sa.Numeric(precision=12, scale=2), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("due_day", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("billing_method", sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column("status_reason", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("status_changed_at", aaa.db.base.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("reenable_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("migrated_from_id", sa.Integer(), nullable=True))
        batch_op.alter_column("login", existing_type=sa.VARCHAR(length=253), nullable=True)
        batch_op.create_index(batch_op.f("ix_service_former_login"), ["former_login"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_service_migrated_from_id_service"), "service", ["migrated_from_id"], ["id"]
        )

    # Existing services keep paying what their plan costs.
    op.execute("UPDATE service SET price = (SELECT plan.price FROM plan WHERE plan.id = service.plan_id)")
    # The audit log is append-only: the database itself refuses to rewrite history.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_entry_immutable() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audit entries are append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry "
            "FOR EACH ROW EXECUTE FUNCTION audit_entry_immutable()"
        )
    else:
        op.execute(
            "CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry "
            "BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END"
        )


def downgrade() -> None:
    op.execute(
        "DROP TRIGGER IF EXISTS audit_entry_no_update"
        + (" ON audit_entry" if op.get_bind().dialect.name == "postgresql" else "")
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_entry_immutable()")
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_service_migrated_from_id_service"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_service_former_login"))
        batch_op.alter_column("login", existing_type=sa.VARCHAR(length=253), nullable=False)
        batch_op.drop_column("migrated_from_id")
        batch_op.drop_column("reenable_on")
        batch_op.drop_column("status_changed_at")
        batch_op.drop_column("status_reason")
        batch_op.drop_column("billing_method")
        batch_op.drop_column("due_day")
        batch_op.drop_column("price")
        batch_op.drop_column("former_login")

    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.drop_constraint("technology", type_="check")
        batch_op.drop_column("technology")

    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_column("notes")
        batch_op.drop_column("origin")
        batch_op.drop_column("group_name")
        batch_op.drop_column("emails")
        batch_op.drop_column("phones")
        batch_op.drop_column("birth_date")
        batch_op.drop_column("trade_name")

    with op.batch_alter_table("address", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_address_service_id"))
        batch_op.drop_index(batch_op.f("ix_address_customer_id"))
        batch_op.drop_index(batch_op.f("ix_address_city"))

    op.drop_table("address")
    op.drop_table("operator_role")
    op.drop_table("operator_cash_box")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_token_operator_id"))

    op.drop_table("api_token")
    op.drop_table("role")
    op.drop_table("operator")
    op.drop_table("cash_box")
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_entry_service_id"))
        batch_op.drop_index(batch_op.f("ix_audit_entry_operator_id"))
        batch_op.drop_index(batch_op.f("ix_audit_entry_customer_id"))
        batch_op.drop_index(batch_op.f("ix_audit_entry_at"))

    op.drop_table("audit_entry")
