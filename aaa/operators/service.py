"""Operators, roles, cash boxes, logins and bearer tokens.

They flush, never commit: the caller owns the transaction. Tokens are random 256-bit values
shown once; only their SHA-256 is stored, so a stolen database holds no usable credential.

Operator, role and cash-box changes write their audit entries (FLUSH_HOOKS in aaa.composition).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from aaa.audit.log import actor_of, record
from aaa.db.base import utcnow
from aaa.db.paging import page
from aaa.errors import Conflict, Forbidden, Invalid, NotFound, TooMany, Unauthenticated
from aaa.operators.authority import Rights, check_manage, check_role
from aaa.operators.passwords import check_policy
from aaa.operators.permissions import PERMISSIONS, unknown
from aaa.tables.operators import ApiToken, CashBox, Operator, Role, TokenKind

_HASHER = PasswordHasher()
# Verified when the login does not exist, so "no such operator" takes as long as "wrong password".
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))
T = TypeVar("T")
TOKEN_PREFIX = "aaa_"


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
    must_change_password: bool = False

    def can(self, permission: str) -> bool:
        return self.superuser or permission in self.permissions

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise Forbidden(f"this action needs the permission {permission!r}, which {self.describe()} lacks")

    def describe(self) -> str:
        return f"API key {self.key_name!r} of {self.login}" if self.key_name else f"operator {self.login}"

    def rights(self) -> Rights:
        return Rights.of(self.superuser, self.permissions, self.cities)


def rights_of(operator: Operator) -> Rights:
    return Rights.of(operator.superuser, operator.effective_permissions(), operator.cities)


def _authorize(by: Principal | None, operator: Operator, before: Rights | None, what: str) -> None:
    """``by`` None: the local CLI (root on the server), which may do anything."""
    if by is not None:
        check_manage(by.rights(), by.operator_id, operator.id, before, rights_of(operator), what)


def _keep_a_superuser(session: Session, operator: Operator) -> None:
    """Refuse to leave the system without an active superuser (nobody could manage one again)."""
    others = session.scalar(
        select(func.count())
        .select_from(Operator)
        .where(Operator.superuser.is_(True), Operator.active.is_(True), Operator.id != operator.id)
    )
    if not others:
        raise Conflict(f"operator {operator.login!r} is the last active superuser; make another one first")


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
    roles: list[int | str] | None = None,
    cities: list[str] | None = None,
    cash_boxes: list[int] | None = None,
    must_change_password: bool = False,
    by: Principal | None = None,
    check_password_policy: bool = True,
) -> Operator:
    """``by``: the principal creating it (None: the local CLI); it must hold what it grants.
    ``check_password_policy`` False only for a password the operator must change at once."""
    login = login.strip()
    if not login or any(ch.isspace() for ch in login):
        raise Invalid("the operator login must be non-empty and have no spaces")
    if session.scalar(select(Operator.id).where(Operator.login == login)) is not None:
        raise Conflict(f"an operator with login {login!r} already exists")
    operator = Operator(
        login=login,
        name=name,
        email=email,
        superuser=superuser,
        active=True,
        must_change_password=must_change_password,
        failed_logins=0,
    )
    operator.password_hash = _hash(password, login, policy=check_password_policy or not must_change_password)
    _grant(session, operator, permissions or [], roles or [], cities or [], cash_boxes or [])
    _authorize(by, operator, None, f"create operator {login!r}")
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
    roles: list[int | str] | None = None,
    cities: list[str] | None = None,
    cash_boxes: list[int] | None = None,
    must_change_password: bool | None = None,
    by: Principal | None = None,
) -> Operator:
    """Changing what an operator may do takes effect on the next request: tokens carry no rights.
    A new password ends every login session of the operator."""
    before = rights_of(operator)
    if name is not None:
        operator.name = name
    if email is not None:
        operator.email = email
    if superuser is not None:
        if operator.superuser and not superuser:
            _keep_a_superuser(session, operator)
        operator.superuser = superuser
    if must_change_password is not None:
        operator.must_change_password = must_change_password
    if password is not None:
        operator.password_hash = _hash(password, operator.login)
        revoke_tokens(session, operator)
    _grant(
        session,
        operator,
        operator.permissions if permissions is None else permissions,
        [r.id for r in operator.roles] if roles is None else list(roles),
        operator.cities if cities is None else cities,
        [c.id for c in operator.cash_boxes] if cash_boxes is None else cash_boxes,
    )
    _authorize(by, operator, before, f"edit operator {operator.login!r}")
    session.flush()
    return operator


def change_own_password(session: Session, operator: Operator, *, current: str, new: str) -> None:
    """The operator's own change: it proves the current password; every session it had ends
    (the caller opens a new one) and the flag that sent it here is cleared."""
    if not _verify(operator.password_hash, current):
        raise Invalid("the current password is wrong")
    if current == new:
        raise Invalid("the new password must differ from the current one")
    operator.password_hash = _hash(new, operator.login)
    operator.must_change_password = False
    revoke_tokens(session, operator)
    session.flush()


def clone_permissions(
    session: Session, operator: Operator, source: Operator, by: Principal | None = None
) -> Operator:
    """Permissões Gerais → Clonar: the operator gets exactly ``source``'s permissions and
    roles; whatever it had that ``source`` lacks is lost, as the manual warns."""
    if source.id == operator.id:
        raise Invalid("an operator cannot clone its own permissions")
    before = rights_of(operator)
    operator.permissions = list(source.permissions)
    operator.roles = list(source.roles)
    _authorize(by, operator, before, f"clone permissions onto operator {operator.login!r}")
    session.flush()
    return operator


def set_active(session: Session, operator: Operator, active: bool, by: Principal | None = None) -> Operator:
    """Inativar: an inactive operator cannot log in and every token it had stops working."""
    verb = "activate" if active else "deactivate"
    _authorize(by, operator, rights_of(operator), f"{verb} operator {operator.login!r}")
    if not active and operator.superuser and operator.active:
        _keep_a_superuser(session, operator)
    operator.active = active
    if active:
        operator.failed_logins, operator.locked_until = 0, None
    else:
        revoke_tokens(session, operator)
    session.flush()
    return operator


def disconnect(session: Session, operator: Operator, by: Principal | None = None) -> int:
    """Desconectar: end the operator's login sessions (it logs in again to get new rights)."""
    _authorize(by, operator, rights_of(operator), f"disconnect operator {operator.login!r}")
    return revoke_tokens(session, operator)


def unlock(session: Session, operator: Operator, by: Principal | None = None) -> Operator:
    """Lift a lockout after failed logins before it expires."""
    _authorize(by, operator, rights_of(operator), f"unlock operator {operator.login!r}")
    operator.failed_logins, operator.locked_until = 0, None
    session.flush()
    return operator


def revoke_tokens(session: Session, operator: Operator, kind: TokenKind | None = TokenKind.SESSION) -> int:
    """End the operator's sessions (its API keys too when ``kind`` is None)."""
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


def add_role(
    session: Session,
    *,
    name: str,
    permissions: list[str],
    description: str | None = None,
    by: Principal | None = None,
) -> Role:
    if by is not None:
        check_role(by.rights(), _known(permissions), f"create role {name!r}")
    if session.scalar(select(Role.id).where(Role.name == name)) is not None:
        raise Conflict(f"a role named {name!r} already exists")
    role = Role(name=name, description=description, permissions=_known(permissions))
    session.add(role)
    session.flush()
    return role


def update_role(
    session: Session,
    role: Role,
    *,
    permissions: list[str] | None = None,
    description: str | None = None,
    by: Principal | None = None,
) -> Role:
    if permissions is not None:
        if by is not None:
            check_role(
                by.rights(), set(_known(permissions)) - set(role.permissions), f"edit role {role.name!r}"
            )
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


def may_use_cash_box(session: Session, operator_id: int | None, box_id: int) -> bool:
    """Whether the operator may receive into the cash box (superusers are checked by the caller)."""
    operator = session.get(Operator, operator_id) if operator_id is not None else None
    return operator is not None and box_id in {box.id for box in operator.cash_boxes}


def cash_box_name(session: Session, box_id: int) -> str:
    box = session.get(CashBox, box_id)
    return box.name if box else "?"


def list_roles(session: Session, *, limit: int, offset: int) -> tuple[list[Role], int]:
    return page(session, select(Role), Role.id, limit=limit, offset=offset)


def list_cash_boxes(session: Session, *, limit: int, offset: int) -> tuple[list[CashBox], int]:
    return page(session, select(CashBox), CashBox.id, limit=limit, offset=offset)


def list_api_keys(session: Session, *, limit: int, offset: int) -> tuple[list[ApiToken], int]:
    query = select(ApiToken).where(ApiToken.kind == TokenKind.API_KEY)
    return page(session, query, ApiToken.id, limit=limit, offset=offset)


# --- logins and tokens ----------------------------------------------------------------------


@dataclass(frozen=True)
class Lockout:
    """After ``failures`` wrong passwords in a row a login is locked for ``duration``."""

    failures: int = 5
    duration: timedelta = timedelta(minutes=15)


def check_password(
    session: Session, *, login: str, password: str, now: datetime | None = None, lockout: Lockout = Lockout()
) -> Operator:
    """The operator, if the password is right. The message never says which part was wrong.

    A wrong password counts against the login (flushed: the caller commits it even though this
    raises); the failure that reaches ``lockout.failures`` locks the login, which is audited.
    A locked login is refused without checking the password, until the lock expires or an
    administrator unlocks it.
    """
    now = now or utcnow()
    operator = session.scalar(select(Operator).where(Operator.login == login))
    if operator is not None and operator.locked_until is not None and operator.locked_until > now:
        wait = int((operator.locked_until - now).total_seconds()) + 1
        raise TooMany(
            f"login {login!r} is locked for {wait // 60 + 1} more minute(s) after too many wrong "
            "passwords; wait or ask an administrator to unlock it",
            retry_after=wait,
        )
    if not _verify(operator.password_hash if operator else _DUMMY_HASH, password) or operator is None:
        if operator is not None:
            _count_failure(session, operator, now, lockout)
        raise Unauthenticated("wrong login or password")
    if not operator.active:
        raise Unauthenticated(f"operator {login!r} is inactive; ask an administrator to reactivate it")
    if operator.failed_logins or operator.locked_until is not None:
        operator.failed_logins, operator.locked_until = 0, None
        session.flush()
    return operator


def _count_failure(session: Session, operator: Operator, now: datetime, lockout: Lockout) -> None:
    operator.failed_logins = (operator.failed_logins or 0) + 1
    locked = operator.failed_logins >= lockout.failures
    if locked:
        operator.locked_until = now + lockout.duration
        operator.failed_logins = 0
    session.flush()
    if locked:
        assert operator.locked_until is not None
        record(
            session,
            entity="operator",
            entity_id=operator.id,
            action="locked",
            changes={"locked_until": [None, operator.locked_until.isoformat()]},
            note=f"login locked until {operator.locked_until.isoformat()} after {lockout.failures} "
            f"wrong passwords in a row (last from {actor_of(session).source})",
        )


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
        must_change_password=operator.must_change_password and row.kind is TokenKind.SESSION,
    )


def revoke(session: Session, token_id: int, by: Principal | None = None) -> None:
    """Revoke a token; ``by`` revoking another operator's key must be able to manage it."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"token {token_id} does not exist")
    if by is not None and row.operator_id != by.operator_id:
        _authorize(
            by, row.operator, rights_of(row.operator), f"revoke a key of operator {row.operator.login!r}"
        )
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
    roles: list[int | str],
    cities: list[str],
    cash_boxes: list[int],
) -> None:
    operator.permissions = _known(permissions)
    operator.roles = [_role(session, role) for role in roles]
    operator.cities = sorted({" ".join(c.split()) for c in cities if c.strip()})
    operator.cash_boxes = [get_one(session, CashBox, box_id, "cash box") for box_id in cash_boxes]


def _role(session: Session, key: int | str) -> Role:
    """A role by id, or by its name."""
    if isinstance(key, int):
        return get_one(session, Role, key, "role")
    role = session.scalar(select(Role).where(Role.name == key))
    if role is None:
        raise NotFound(f"role {key!r} does not exist (GET /api/v1/roles)")
    return role


def _known(permissions: list[str]) -> list[str]:
    bad = unknown(set(permissions))
    if bad:
        raise Invalid(f"unknown permission(s): {', '.join(bad)}; see GET /api/v1/permissions")
    return sorted(set(permissions))


def _hash(password: str, login: str, *, policy: bool = True) -> str:
    """``policy`` False only for a password its operator must change at first login (the demo)."""
    if policy:
        check_policy(password, login)
    return _HASHER.hash(password)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _HASHER.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def delete_role(session: Session, role_id: int) -> None:
    session.delete(get_one(session, Role, role_id, "role"))
    session.flush()
