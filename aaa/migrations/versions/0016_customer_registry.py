"""Customer registry: IE and IM, several contacts with their consent, must-read notes, active

A company's state and municipal registrations (inscrição estadual / municipal); contacts beyond
the customer (name, phone, e-mail, role, consent to SMS and WhatsApp); a must-read note shown
with every service of the customer; and whether the customer is active. Existing customers are
active with no contacts.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 17:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customer") as batch:
        batch.add_column(sa.Column("state_registration", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("municipal_registration", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("contacts", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch.add_column(sa.Column("must_read", sa.Text(), nullable=True))
        batch.add_column(sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table("customer") as batch:
        for column in ("active", "must_read", "contacts", "municipal_registration", "state_registration"):
            batch.drop_column(column)
