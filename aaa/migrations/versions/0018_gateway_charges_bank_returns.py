"""gateway_charge (an invoice's charge at Asaas or Efí) and bank_return_file (imported
arquivos retorno, once per content)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 08:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import aaa.db.base

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gateway_charge",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("invoice_id", sa.Integer(), sa.ForeignKey("invoice.id"), nullable=False, unique=True),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "created",
                "failed",
                "cancel_pending",
                "cancelled",
                name="gateway_charge_state",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("provider_id", sa.String(length=100), nullable=True),
        sa.Column("nosso_numero", sa.String(length=40), nullable=True),
        sa.Column("linha_digitavel", sa.String(length=60), nullable=True),
        sa.Column("barcode", sa.String(length=44), nullable=True),
        sa.Column("pix_payload", sa.Text(), nullable=True),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", aaa.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", aaa.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", aaa.db.base.UtcDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_gateway_charge_due", "gateway_charge", ["state", "next_attempt_at"])
    op.create_index(
        "uq_gateway_charge_provider_id", "gateway_charge", ["provider", "provider_id"], unique=True
    )
    op.create_table(
        "bank_return_file",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sha256", sa.String(length=64), nullable=False, unique=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("layout", sa.String(length=10), nullable=False),
        sa.Column("bank", sa.String(length=3), nullable=False),
        sa.Column("imported_at", aaa.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String(length=200), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("bank_return_file")
    op.drop_index("uq_gateway_charge_provider_id", table_name="gateway_charge")
    op.drop_index("ix_gateway_charge_due", table_name="gateway_charge")
    op.drop_table("gateway_charge")
