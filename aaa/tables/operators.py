"""Operator, Role, CashBox and ApiToken tables."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, Column, ForeignKey, Integer, String, Table, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aaa.db.base import Base, UtcDateTime, str_enum, utcnow
from aaa.vocabulary.audit import Audited

operator_role = Table(
    "operator_role",
    Base.metadata,
    Column("operator_id", ForeignKey("operator.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", ForeignKey("role.id", ondelete="CASCADE"), primary_key=True),
)
operator_cash_box = Table(
    "operator_cash_box",
    Base.metadata,
    Column("operator_id", ForeignKey("operator.id", ondelete="CASCADE"), primary_key=True),
    Column("cash_box_id", ForeignKey("cash_box.id", ondelete="CASCADE"), primary_key=True),
)


class Role(Base):
    """A named bundle of permissions."""

    __tablename__ = "role"
    __audit__ = Audited("role")

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str | None] = mapped_column(String(200))
    permissions: Mapped[list[str]] = mapped_column(JSON, default=list)


class CashBox(Base):
    """A cash box (Caixa) receipts go into; operators are allowed a set of them."""

    __tablename__ = "cash_box"
    __audit__ = Audited("cash_box")

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Operator(Base):
    __tablename__ = "operator"
    __audit__ = Audited("operator")

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    superuser: Mapped[bool] = mapped_column(Boolean, default=False)  # every permission, present and future
    permissions: Mapped[list[str]] = mapped_column(JSON, default=list)  # granted directly
    cities: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: every city
    # Set for the demo's operator and on request: only the password change is allowed until done.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)  # after too many failures
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    roles: Mapped[list[Role]] = relationship(secondary=operator_role, order_by=Role.id)
    cash_boxes: Mapped[list[CashBox]] = relationship(secondary=operator_cash_box, order_by=CashBox.id)

    def effective_permissions(self) -> frozenset[str]:
        granted = set(self.permissions)
        for role in self.roles:
            granted.update(role.permissions)
        return frozenset(granted)


class TokenKind(StrEnum):
    SESSION = "session"  # from a login; expires
    API_KEY = "api_key"  # for integrations; scoped, no expiry unless given


class ApiToken(Base):
    """A bearer credential. Only its SHA-256 is stored: a database leak leaks no usable token."""

    __tablename__ = "api_token"
    __audit__ = Audited("api_token")

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operator.id", ondelete="CASCADE"), index=True)
    kind: Mapped[TokenKind] = mapped_column(str_enum(TokenKind, "token_kind"))
    name: Mapped[str | None] = mapped_column(String(64))
    scopes: Mapped[list[str] | None] = mapped_column(JSON)  # API keys: the permissions it carries
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    operator: Mapped[Operator] = relationship()


class ConsoleSession(Base):
    """The operator console's side of a session token: when the browser was last seen, for the
    idle timeout. Kept apart from api_token because it changes on every page and is not a change
    anybody audits."""

    __tablename__ = "console_session"

    token_id: Mapped[int] = mapped_column(ForeignKey("api_token.id", ondelete="CASCADE"), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
