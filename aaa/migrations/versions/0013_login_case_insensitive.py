"""Logins unique whatever their case: "Ana.Souza" and "ana.souza" cannot both exist

A database that already holds such a pair keeps both: they are listed here (a warning naming
each pair and its services) and the index is not created, so nothing is merged behind the
operator's back; new and renamed logins are checked case-insensitively by the application either
way. After renaming, `aaa db downgrade 0012` then `aaa db upgrade` creates the index.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 17:20:00
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    clashes = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT lower(login), count(*) FROM service WHERE login IS NOT NULL "
                "GROUP BY lower(login) HAVING count(*) > 1 ORDER BY lower(login)"
            )
        )
        .fetchall()
    )
    if clashes:
        for lowered, count in clashes:
            holders = (
                op.get_bind()
                .execute(
                    sa.text("SELECT id, login FROM service WHERE lower(login) = :l ORDER BY id"),
                    {"l": lowered},
                )
                .fetchall()
            )
            log.warning(
                "logins that differ only in case (%d): %s; rename all but one",
                count,
                ", ".join(f"service {sid} {login!r}" for sid, login in holders),
            )
        log.warning(
            "the case-insensitive unique index on service.login is not created until they are renamed"
        )
        return
    op.create_index("uq_service_login_lower", "service", [sa.text("lower(login)")], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("service") as batch:
        batch.drop_index("uq_service_login_lower", if_exists=True)
