"""billing runs, invoices, carnes, late fees, discounts, hooks

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 22:33:04.417660
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import aaa.db.base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "billing_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("competence", sa.Date(), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("pro_rata", sa.Boolean(), nullable=False),
        sa.Column("started_at", aaa.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", aaa.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("run_by", sa.String(length=200), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("total", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_run")),
    )
    with op.batch_alter_table("billing_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_billing_run_competence"), ["competence"], unique=False)

    op.create_table(
        "webhook",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", aaa.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook")),
    )
    op.create_table(
        "invoice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("billing_method_id", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("charge_ids", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "issued",
                "cancelled",
                name="invoice_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("reissued_from_id", sa.Integer(), nullable=True),
        sa.Column("billing_run_id", sa.Integer(), nullable=True),
        sa.Column("created_at", aaa.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", aaa.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["billing_method_id"],
            ["billing_method.id"],
            name=op.f("fk_invoice_billing_method_id_billing_method"),
        ),
        sa.ForeignKeyConstraint(
            ["billing_run_id"], ["billing_run.id"], name=op.f("fk_invoice_billing_run_id_billing_run")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_invoice_customer_id_customer")
        ),
        sa.ForeignKeyConstraint(["service_id"], ["service.id"], name=op.f("fk_invoice_service_id_service")),
        sa.ForeignKeyConstraint(
            ["reissued_from_id"], ["invoice.id"], name=op.f("fk_invoice_reissued_from_id_invoice")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice")),
    )
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.create_index("ix_invoice_run_service", ["billing_run_id", "service_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_invoice_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("webhook_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=50), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "delivered",
                "failed",
                name="delivery_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", aaa.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", aaa.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", aaa.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["webhook_id"], ["webhook.id"], name=op.f("fk_webhook_delivery_webhook_id_webhook")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_delivery")),
    )
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_delivery_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_webhook_delivery_webhook_id"), ["webhook_id"], unique=False)

    op.create_table(
        "payment_notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("received_at", aaa.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "applied",
                "flagged",
                "dismissed",
                name="notification_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("receipt_id", sa.Integer(), nullable=True),
        sa.Column("resolved_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["receipt_id"], ["receipt.id"], name=op.f("fk_payment_notification_receipt_id_receipt")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_notification")),
        sa.UniqueConstraint("external_id", name=op.f("uq_payment_notification_external_id")),
    )
    op.create_table(
        "carne",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("first_due", sa.Date(), nullable=False),
        sa.Column("installments", sa.Integer(), nullable=False),
        sa.Column("created_at", aaa.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["service_id"], ["service.id"], name=op.f("fk_carne_service_id_service")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carne")),
    )
    with op.batch_alter_table("carne", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_carne_service_id"), ["service_id"], unique=False)

    with op.batch_alter_table("billing_method", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("fine_percent", sa.Numeric(precision=5, scale=2), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column(
                "interest_percent_month", sa.Numeric(precision=5, scale=2), nullable=False, server_default="0"
            )
        )

    with op.batch_alter_table("charge", schema=None) as batch_op:
        batch_op.add_column(sa.Column("discount_amount", sa.Numeric(precision=12, scale=2), nullable=True))
        batch_op.add_column(
            sa.Column("discount_days_before", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column(
                "discount_granted", sa.Numeric(precision=12, scale=2), nullable=False, server_default="0"
            )
        )
        batch_op.add_column(sa.Column("installment", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("installments", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("invoice_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("carne_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("billing_run_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_charge_billing_run_id"), ["billing_run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_charge_carne_id"), ["carne_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_charge_invoice_id"), ["invoice_id"], unique=False)
        batch_op.create_index(
            "uq_charge_monthly_competence",
            ["service_id", "competence"],
            unique=True,
            sqlite_where=sa.text("kind = 'monthly' AND status <> 'cancelled'"),
            postgresql_where=sa.text("kind = 'monthly' AND status <> 'cancelled'"),
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_charge_billing_run_id_billing_run"), "billing_run", ["billing_run_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_charge_invoice_id_invoice"), "invoice", ["invoice_id"], ["id"]
        )
        batch_op.create_foreign_key(batch_op.f("fk_charge_carne_id_carne"), "carne", ["carne_id"], ["id"])

    with op.batch_alter_table("receipt_item", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("discount", sa.Numeric(precision=12, scale=2), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("fine", sa.Numeric(precision=12, scale=2), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("interest", sa.Numeric(precision=12, scale=2), nullable=False, server_default="0")
        )

    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.add_column(sa.Column("activated_at", aaa.db.base.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column(
                "billing_mode",
                sa.Enum(
                    "advance",
                    "postpaid",
                    name="billing_mode",
                    native_enum=False,
                    create_constraint=True,
                    length=32,
                ),
                nullable=False,
                server_default="advance",
            )
        )
        batch_op.add_column(sa.Column("loyalty_months", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("loyalty_fine", sa.Numeric(precision=12, scale=2), nullable=True))

    # A service that is (or was) live counts as activated when it was created.
    op.execute(
        "UPDATE service SET activated_at = created_at"
        " WHERE status NOT IN ('pending_install', 'awaiting_migration')"
    )


def downgrade() -> None:
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.drop_column("loyalty_fine")
        batch_op.drop_column("loyalty_months")
        batch_op.drop_column("billing_mode")
        batch_op.drop_column("activated_at")

    with op.batch_alter_table("receipt_item", schema=None) as batch_op:
        batch_op.drop_column("interest")
        batch_op.drop_column("fine")
        batch_op.drop_column("discount")

    with op.batch_alter_table("charge", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_charge_carne_id_carne"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_charge_invoice_id_invoice"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_charge_billing_run_id_billing_run"), type_="foreignkey")
        batch_op.drop_index(
            "uq_charge_monthly_competence",
            sqlite_where=sa.text("kind = 'monthly' AND status <> 'cancelled'"),
            postgresql_where=sa.text("kind = 'monthly' AND status <> 'cancelled'"),
        )
        batch_op.drop_index(batch_op.f("ix_charge_invoice_id"))
        batch_op.drop_index(batch_op.f("ix_charge_carne_id"))
        batch_op.drop_index(batch_op.f("ix_charge_billing_run_id"))
        batch_op.drop_column("billing_run_id")
        batch_op.drop_column("carne_id")
        batch_op.drop_column("invoice_id")
        batch_op.drop_column("installments")
        batch_op.drop_column("installment")
        batch_op.drop_column("discount_granted")
        batch_op.drop_column("discount_days_before")
        batch_op.drop_column("discount_amount")

    with op.batch_alter_table("billing_method", schema=None) as batch_op:
        batch_op.drop_column("interest_percent_month")
        batch_op.drop_column("fine_percent")

    with op.batch_alter_table("carne", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_carne_service_id"))

    op.drop_table("carne")
    op.drop_table("payment_notification")
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_delivery_webhook_id"))
        batch_op.drop_index("ix_webhook_delivery_due")

    op.drop_table("webhook_delivery")
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_customer_id"))
        batch_op.drop_index("ix_invoice_run_service")

    op.drop_table("invoice")
    op.drop_table("webhook")
    with op.batch_alter_table("billing_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_billing_run_competence"))

    op.drop_table("billing_run")
