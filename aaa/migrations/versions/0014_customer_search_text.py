"""customer.search_text and the indexes of GET /search

A searchable line per customer:
names without accents or case, the document and phones as digits, the e-mails
(aaa.vocabulary.search). Existing customers are filled in here. On PostgreSQL a trigram index
(pg_trgm) makes "contains" searches fast; where the extension cannot be created (no privilege),
the search still works, by a scan. Services by MAC, open sessions by address, and (PostgreSQL,
text_pattern_ops) logins by their beginning get indexes too.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 17:30:00
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

from aaa.vocabulary.search import search_text

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")
_INDEX = "ix_customer_search_trgm"


def upgrade() -> None:
    op.create_index("ix_service_mac", "service", ["mac"])
    op.create_index(
        "ix_acct_session_open_ip",
        "acct_session",
        ["framed_ip"],
        postgresql_where=sa.text("stop_time IS NULL"),
        sqlite_where=sa.text("stop_time IS NULL"),
    )
    ops = " text_pattern_ops" if op.get_bind().dialect.name == "postgresql" else ""
    op.execute(f"CREATE INDEX ix_service_login_pattern ON service (lower(login){ops})")
    with op.batch_alter_table("customer") as batch:
        batch.add_column(sa.Column("search_text", sa.Text(), nullable=False, server_default=""))
    customer = sa.table(
        "customer",
        sa.column("id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("trade_name", sa.String),
        sa.column("document", sa.String),
        sa.column("phones", sa.JSON),
        sa.column("emails", sa.JSON),
        sa.column("search_text", sa.Text),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            customer.c.id,
            customer.c.name,
            customer.c.trade_name,
            customer.c.document,
            customer.c.phones,
            customer.c.emails,
        )
    ).fetchall()
    for cid, name, trade, document, phones, emails in rows:
        bind.execute(
            customer.update()
            .where(customer.c.id == cid)
            .values(search_text=search_text(name, trade, document, phones or [], emails or []))
        )
    if bind.dialect.name == "postgresql":
        try:
            with bind.begin_nested():
                bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
                bind.execute(
                    sa.text(f"CREATE INDEX {_INDEX} ON customer USING gin (search_text gin_trgm_ops)")
                )
            return
        except sa.exc.DBAPIError as exc:
            log.warning(
                "no trigram index for the customer search (pg_trgm: %s); it scans", str(exc).splitlines()[0]
            )
    bind.execute(sa.text(f"CREATE INDEX {_INDEX} ON customer (search_text)"))  # same name everywhere


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_service_login_pattern")
    op.drop_index("ix_acct_session_open_ip", "acct_session")
    op.drop_index("ix_service_mac", "service")
    op.execute(f"DROP INDEX IF EXISTS {_INDEX}")
    with op.batch_alter_table("customer") as batch:
        batch.drop_column("search_text")
