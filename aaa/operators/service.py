"""Operators, roles, cash boxes, logins and bearer tokens.

They flush, never commit: the caller owns the transaction. Tokens are random 256-bit values
shown once; only their SHA-256 is stored, so a stolen database holds no usable credential.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from aaa.db.base import utcnow
from aaa.db.paging import page
from aaa.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from aaa.operators.models import ApiToken, CashBox, Operator, Role, TokenKind
from aaa.operators.permissions import PERMISSIONS, unknown

_HASHER = PasswordHasher()
# Verified when the login does not exist, so "no such operator" takes as long as "wrong password".
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))
T = TypeVar("T")
TOKEN_PREFIX = "aaa_"
MIN_PASSWORD = 8


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: an operator, or an API key limited to its scopes."""

    operator_id: int
    login: str
    token_id: int
    kind: TokenKind
    permissions: frozenset[str]
    superuser: bool
    cities: tuple[str, ...]
    key_name: str | None = None

    def can(self, permission: str) -> bool:
        return self.superuser or permission in self.permissions

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise Forbidden(f"this action needs the permission {permission!r}, which {self.describe()} lacks")

    def describe(self) -> str:
        return f"API key {self.key_name!r} of {self.login}" if self.key_name else f"operator {self.login}"


# --- operators -------------------------------------------------------------------------------


def add_operator(
    session: Session,
    *,
    login: str,
    name: str,
    password: str,
    email: str | None = None,
    superuser: bool = False,
    permissions: list[str] | None = None,
    roles: list[int] | None = None,
    cities: list[str] | None = None,
    cash_boxes: list[int] | None = None,
) -> Operator:
    login = login.strip()
    if not login or any(ch.isspace() for ch in login):
        raise Invalid("the operator login must be non-empty and have no spaces")
    if session.scalar(select(Operator.id).where(Operator.login == login)) is not None:
        raise Conflict(f"an operator with login {login!r} already exists")
    operator = Operator(login=login, name=name, email=email, superuser=superuser, active=True)
    operator.password_hash = _hash(password)
    _grant(session, operator, permissions or [], roles or [], cities or [], cash_boxes or [])
    session.add(operator)
    session.flush()
    return operator


def update_operator(
    session: Session,
    operator: Operator,
    *,
    name: str | None = None,
    email: str | None = None,
    password: str | None = None,
    superuser: bool | None = None,
    permissions: list[str] | None = None,
    roles: list[int] | None = None,
    cities: list[str] | None = None,
    cash_boxes: list[int] | None = None,
) -> Operator:
    """Changing what an operator may do takes effect on the next request: tokens carry no rights."""
    if name is not None:
        operator.name = name
    if email is not None:
        operator.email = email
    if superuser is not None:
        operator.superuser = superuser
    if password is not None:
        operator.password_hash = _hash(password)
    _grant(
        session,
        operator,
        operator.permissions if permissions is None else permissions,
        [r.id for r in operator.roles] if roles is None else roles,
        operator.cities if cities is None else cities,
        [c.id for c in operator.cash_boxes] if cash_boxes is None else cash_boxes,
    )
    session.flush()
    return operator


def clone_permissions(session: Session, operator: Operator, source: Operator) -> Operator:
    """Seed 000 (Permissões Gerais → Clonar): the operator gets exactly ``source``'s permissions and
    roles; whatever it had that ``source`` lacks is lost, as the manual warns."""
    if source.id == operator.id:
        raise Invalid("an operator cannot clone its own permissions")
    operator.permissions = list(source.permissions)
    operator.roles = list(source.roles)
    session.flush()
    return operator


def set_active(session: Session, operator: Operator, active: bool) -> Operator:
    """Inativar: an inactive operator cannot log in and every token it had stops working."""
    operator.active = active
    if not active:
        revoke_tokens(session, operator)
    session.flush()
    return operator


def revoke_tokens(session: Session, operator: Operator, kind: TokenKind | None = TokenKind.SESSION) -> int:
    """Desconectar: end the operator's sessions (its API keys too when ``kind`` is None)."""
    query = update(ApiToken).where(ApiToken.operator_id == operator.id, ApiToken.revoked_at.is_(None))
    if kind is not None:
        query = query.where(ApiToken.kind == kind)
    result = session.execute(query.values(revoked_at=utcnow()))
    return int(result.rowcount)  # type: ignore[attr-defined]


def get_operator(session: Session, operator_id: int) -> Operator:
    operator = session.get(Operator, operator_id)
    if operator is None:
        raise NotFound(f"operator {operator_id} does not exist")
    return operator


def list_operators(
    session: Session, *, active: bool | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[Operator], int]:
    query = select(Operator)
    if active is not None:
        query = query.where(Operator.active == active)
    return page(session, query, Operator.id, limit=limit, offset=offset)


# --- roles and cash boxes -----------------------------------------------------------------------


def add_role(session: Session, *, name: str, permissions: list[str], description: str | None = None) -> Role:
    if session.scalar(select(Role.id).where(Role.name == name)) is not None:
        raise Conflict(f"a role named {name!r} already exists")
    role = Role(name=name, description=description, permissions=_known(permissions))
    session.add(role)
    session.flush()
    return role


def update_role(
    session: Session, role: Role, *, permissions: list[str] | None = None, description: str | None = None
) -> Role:
    if permissions is not None:
        role.permissions = _known(permissions)
    if description is not None:
        role.description = description
    session.flush()
    return role


def add_cash_box(session: Session, *, name: str) -> CashBox:
    if session.scalar(select(CashBox.id).where(CashBox.name == name)) is not None:
        raise Conflict(f"a cash box named {name!r} already exists")
    box = CashBox(name=name, active=True)
    session.add(box)
    session.flush()
    return box


def get_one(session: Session, model: type[T], item_id: int, what: str) -> T:
    item = session.get(model, item_id)
    if item is None:
        raise NotFound(f"{what} {item_id} does not exist")
    return item


# --- logins and tokens ----------------------------------------------------------------------


def check_password(session: Session, *, login: str, password: str) -> Operator:
    """The operator, if the password is right. The message never says which part was wrong."""
    operator = session.scalar(select(Operator).where(Operator.login == login))
    if not _verify(operator.password_hash if operator else _DUMMY_HASH, password) or operator is None:
        raise Unauthenticated("wrong login or password")
    if not operator.active:
        raise Unauthenticated(f"operator {login!r} is inactive; ask an administrator to reactivate it")
    return operator


def open_session(session: Session, operator: Operator, ttl: timedelta) -> tuple[str, ApiToken]:
    return _issue(session, operator, TokenKind.SESSION, expires_at=utcnow() + ttl)


def create_api_key(
    session: Session, owner: Principal, *, name: str, scopes: list[str], expires_at: datetime | None = None
) -> tuple[str, ApiToken]:
    """A key for an integration, carrying at most the permissions of the operator creating it."""
    scopes = _known(scopes)
    missing = [s for s in scopes if not owner.can(s)]
    if missing:
        raise Forbidden(f"an API key cannot carry permissions its creator lacks: {', '.join(missing)}")
    operator = get_operator(session, owner.operator_id)
    return _issue(session, operator, TokenKind.API_KEY, name=name, scopes=scopes, expires_at=expires_at)


def authenticate(session: Session, token: str, now: datetime) -> Principal:
    """The principal behind a bearer token; rights are read now, so revocation and permission
    changes take effect on the very next request."""
    row = session.scalar(
        select(ApiToken)
        .where(ApiToken.token_hash == token_hash(token))
        .options(selectinload(ApiToken.operator).selectinload(Operator.roles))
    )
    if row is None or row.revoked_at is not None:
        raise Unauthenticated("the token is not valid (unknown or revoked); log in again")
    if row.expires_at is not None and row.expires_at <= now:
        raise Unauthenticated("the token has expired; log in again")
    operator = row.operator
    if not operator.active:
        raise Unauthenticated(f"operator {operator.login!r} is inactive")
    granted = operator.effective_permissions()
    if row.kind is TokenKind.API_KEY:
        held = frozenset(PERMISSIONS) if operator.superuser else granted
        granted = frozenset(row.scopes or ()) & held
    return Principal(
        operator_id=operator.id,
        login=operator.login,
        token_id=row.id,
        kind=row.kind,
        permissions=granted,
        superuser=operator.superuser and row.kind is TokenKind.SESSION,
        cities=tuple(operator.cities),
        key_name=row.name if row.kind is TokenKind.API_KEY else None,
    )


def revoke(session: Session, token_id: int) -> None:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"token {token_id} does not exist")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _issue(
    session: Session,
    operator: Operator,
    kind: TokenKind,
    *,
    name: str | None = None,
    scopes: list[str] | None = None,
    expires_at: datetime | None = None,
) -> tuple[str, ApiToken]:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        token_hash=token_hash(token),
        operator_id=operator.id,
        kind=kind,
        name=name,
        scopes=scopes,
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    return token, row


def _grant(
    session: Session,
    operator: Operator,
    permissions: list[str],
    roles: list[int],
    cities: list[str],
    cash_boxes: list[int],
) -> None:
    operator.permissions = _known(permissions)
    operator.roles = [get_one(session, Role, role_id, "role") for role_id in roles]
    operator.cities = sorted({" ".join(c.split()) for c in cities if c.strip()})
    operator.cash_boxes = [get_one(session, CashBox, box_id, "cash box") for box_id in cash_boxes]


def _known(permissions: list[str]) -> list[str]:
    bad = unknown(set(permissions))
    if bad:
        raise Invalid(f"unknown permission(s): {', '.join(bad)}; see GET /api/v1/permissions")
    return sorted(set(permissions))


def _hash(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"the password must have at least {MIN_PASSWORD} characters")
    return _HASHER.hash(password)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _HASHER.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False
