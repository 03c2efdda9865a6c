"""Service (subscription) operations: create, read, edit, and the status state machine.

They flush, never commit: the caller owns the transaction. Cache invalidation and the audit
log follow from the flush itself: every change sets off the FLUSH_HOOKS (aaa.composition):
audit, the RADIUS caches, the enforcement outbox of an online subscriber, the status webhooks.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aaa.audit.log import record
from aaa.db.base import utcnow
from aaa.db.paging import page
from aaa.errors import Conflict, Invalid, NotFound
from aaa.ipam.assignments import release_all, set_fixed_ipv4
from aaa.policies.decide import normalize_mac
from aaa.subscribers.customers import EVERYWHERE, Scope
from aaa.tables.subscribers import BillingMethod, Customer, Plan, Service
from aaa.vocabulary.attributes import reply_attributes_shape
from aaa.vocabulary.ipam import ReleaseReason
from aaa.vocabulary.passwords import CLEARTEXT
from aaa.vocabulary.subscribers import MacBinding, ServiceStatus

_MAC = re.compile(r"([0-9A-F]{2}:){5}[0-9A-F]{2}")
_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"
EDITABLE = (
    "reply_attributes",
    "login",
    "password",
    "simultaneous_use",
    "mac_binding",
    "mac",
    "nas_port_id",
    "price",
    "due_day",
    "billing_method_id",
    "auto_block",
    "reduction_tolerance_days",
    "block_tolerance_days",
    "billing_mode",
    "loyalty_months",
    "loyalty_fine",
)


def generate_password(length: int = 10) -> str:
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(length))


def add_service(session: Session, *, fixed_ipv4: str | None = None, **fields: Any) -> Service:
    """A new subscription (``new_service``'s fields: customer, plan, login, password, status…);
    ``login`` None only for a service awaiting migration. ``fixed_ipv4`` is assigned through
    IPAM, so a subnet must contain it."""
    service = new_service(session, **fields)
    session.add(service)
    session.flush()
    if fixed_ipv4:
        set_fixed_ipv4(session, service, fixed_ipv4, utcnow())
    return service


class Identified(Protocol):
    """A customer or plan as a detached new service needs it: its id."""

    @property
    def id(self) -> int: ...


def new_service(
    session: Session,
    *,
    customer: Customer | Identified,
    plan: Plan,
    login: str | None,
    password: str | None = None,
    status: ServiceStatus = ServiceStatus.ENABLED,
    price: Decimal | None = None,
    simultaneous_use: int = 1,
    mac_binding: MacBinding = MacBinding.OFF,
    login_checked: bool = False,
    detached: bool = False,
    **fields: Any,
) -> Service:
    """A service built and checked, not yet added to the session. ``login_checked``: the caller
    already knows the login is free (an import checks a whole chunk's logins in one query).
    ``detached``: tied to its customer and plan by id only, so it does not join the session
    through them (an import inserts a chunk's services itself)."""
    if status is ServiceStatus.CANCELLED:
        raise Invalid("a new service cannot start cancelled")
    now = utcnow()
    owners: dict[str, Any] = (
        {"customer_id": customer.id, "plan_id": plan.id} if detached else {"customer": customer, "plan": plan}
    )
    service = Service(
        **owners,
        status=status,
        status_changed_at=now,
        activated_at=now if status is not ServiceStatus.PENDING_INSTALL and login else None,
        former_login=None,
    )
    with session.no_autoflush:  # validate before the half-built service reaches the database
        _apply(
            session,
            service,
            {
                "login": login,
                "password": password if password is not None else generate_password(),
                "price": plan.price if price is None else price,
                "simultaneous_use": simultaneous_use,
                "mac_binding": mac_binding,
                **fields,
            },
            login_checked=login_checked,
        )
    if service.login is None and status is not ServiceStatus.AWAITING_MIGRATION:
        raise Invalid("the service needs a PPPoE login")
    return service


def update_service(session: Session, service: Service, **changes: Any) -> Service:
    """Edit fields (login, password, MAC binding, ``fixed_ipv4`` through IPAM, ...); the status
    has its own functions."""
    if service.status is ServiceStatus.CANCELLED:
        raise Conflict(f"service {service.id} is cancelled; a cancelled service cannot be edited")
    if "plan" in changes:
        service.plan = changes.pop("plan")
    has_ip, address = "fixed_ipv4" in changes, changes.pop("fixed_ipv4", None)
    _apply(session, service, changes)
    session.flush()
    if has_ip:
        set_fixed_ipv4(session, service, address, utcnow())
    return service


def get_service(session: Session, login: str) -> Service:
    service = session.scalar(select(Service).where(Service.login == login))
    if service is None:
        raise NotFound(f"no service with login {login!r}")
    return service


def get_service_by_id(session: Session, service_id: int, scope: Scope = EVERYWHERE) -> Service:
    service = session.scalar(
        select(Service)
        .join(Customer, Service.customer_id == Customer.id)
        .where(Service.id == service_id, scope.customers())
    )
    if service is None:
        raise NotFound(f"service {service_id} does not exist")
    return service


def list_services(
    session: Session,
    scope: Scope = EVERYWHERE,
    *,
    customer_id: int | None = None,
    plan_id: int | None = None,
    status: ServiceStatus | None = None,
    login: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[Service], int]:
    query = select(Service).join(Customer, Service.customer_id == Customer.id).where(scope.customers())
    if customer_id is not None:
        query = query.where(Service.customer_id == customer_id)
    if plan_id is not None:
        query = query.where(Service.plan_id == plan_id)
    if status is not None:
        query = query.where(Service.status == status)
    if login:
        query = query.where(Service.login.like(f"%{login}%"))
    return page(session, query, Service.id, limit=limit, offset=offset)


def set_status(
    session: Session, service: Service, target: ServiceStatus, *, reason: str, reenable_on: date | None = None
) -> None:
    """The status fields themselves, no checks. Cancelling frees the login and every address for
    reuse (``former_login`` and the IPAM history keep them). Not flushed here: a routine that
    changes thousands of services flushes (audit, invalidation, outbox) once for all of them."""
    service.status = target
    service.status_reason = reason.strip()
    service.status_changed_at = utcnow()
    service.reenable_on = reenable_on
    if target is ServiceStatus.ENABLED and service.activated_at is None:
        service.activated_at = service.status_changed_at
    if target not in (ServiceStatus.SUSPENDED_DEBT, ServiceStatus.REDUCED_DEBT):
        service.trust_until = service.trust_reason = None  # a trust unlock ends with the debt status
    if target is ServiceStatus.CANCELLED:
        if service.login is not None:
            service.former_login, service.login = service.login, None
        release_all(session, service, ReleaseReason.CANCELLED, service.status_changed_at)


def reenable_due(session: Session, today: date) -> list[int]:
    """Re-enable services whose customer-requested suspension ends today or earlier."""
    due = session.scalars(
        select(Service).where(
            Service.status == ServiceStatus.SUSPENDED_REQUEST,
            Service.reenable_on.is_not(None),
            Service.reenable_on <= today,
        )
    )
    ids = []
    for service in due:
        set_status(
            session, service, ServiceStatus.ENABLED, reason=f"scheduled re-enable on {service.reenable_on}"
        )
        ids.append(service.id)
    return ids


def learn_mac(session: Session, login: str, mac: str) -> None:
    """MAC binding "learn": the first MAC seen becomes the registered one (never overwrites)."""
    service = session.scalar(select(Service).where(Service.login == login))
    if service is not None and service.mac is None:
        service.mac = mac
        record(
            session,
            entity="service",
            entity_id=service.id,
            action="mac_learned",
            customer_id=service.customer_id,
            service_id=service.id,
            note=f"MAC {mac} registered from the first login (MAC binding: learn)",
        )


def _apply(session: Session, service: Service, changes: dict[str, Any], login_checked: bool = False) -> None:
    for field in changes:
        if field not in EDITABLE and field != "password_scheme":
            raise Invalid(f"services have no editable field {field!r}")
    if "login" in changes and changes["login"] is not None:
        changes["login"] = _login(session, changes["login"], service, login_checked)
    if "password" in changes:
        password = changes["password"]
        if not password or len(password.encode()) > 128:
            raise Invalid("the password must have 1 to 128 octets (RFC 2865 User-Password limit)")
        changes.setdefault("password_scheme", CLEARTEXT)  # a new password is known in clear
    if changes.get("simultaneous_use", 0) < 0:
        raise Invalid("simultaneous use must be 0 (no limit) or more")
    if "mac" in changes:
        changes["mac"] = _mac(changes["mac"])
    if "reply_attributes" in changes:
        try:
            changes["reply_attributes"] = reply_attributes_shape(changes["reply_attributes"])
        except ValueError as exc:
            raise Invalid(str(exc)) from None
    if changes.get("due_day") is not None and not 1 <= changes["due_day"] <= 28:
        raise Invalid("the due day must be between 1 and 28 (every month has it)")
    if changes.get("price") is not None and Decimal(changes["price"]) < 0:
        raise Invalid("the price must be zero or more")
    method_id = changes.get("billing_method_id")
    if method_id is not None and session.get(BillingMethod, method_id) is None:
        raise Invalid(f"billing method {method_id} does not exist (see GET /billing-methods)")
    for field, value in changes.items():
        setattr(service, field, value)


def _login(session: Session, value: str, service: Service, checked: bool = False) -> str:
    login = value.strip()
    if not login or len(login) > 253 or any(ch.isspace() for ch in login):
        raise Invalid("the PPPoE login must have 1 to 253 characters and no spaces")
    if checked:
        return login
    # Unique case-insensitively: "Ana.Souza" and "ana.souza" would be one subscriber to a person.
    found = session.execute(
        select(Service.id, Service.login).where(
            func.lower(Service.login) == login.lower(), Service.id != service.id
        )
        if service.id is not None
        else select(Service.id, Service.login).where(func.lower(Service.login) == login.lower())
    ).first()
    if found is not None:
        holder, spelled = found
        same = "" if spelled == login else f" (as {spelled!r}; logins are unique whatever their case)"
        raise Conflict(f"login {login!r} is already used by service {holder}{same}")
    return login


def _mac(value: str | None) -> str | None:
    mac = normalize_mac(value)
    if mac is not None and not _MAC.fullmatch(mac):
        raise Invalid(f"{value!r} is not a MAC address (AA:BB:CC:DD:EE:FF)")
    return mac


def login_holder(session: Session, login: str) -> int | None:
    """The service holding ``login`` (case-insensitively), if any: the sign-up checks as typed."""
    return session.scalar(
        select(Service.id).where(func.lower(Service.login) == login.strip().lower()).limit(1)
    )


def suggest_login(session: Session, name: str) -> str:
    """A free login from a name: first and last names, lower case, no accents ("João da Silva"
    → "joao.silva"), numbered when taken ("joao.silva2")."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    words = [w for w in re.split(r"[^a-z0-9]+", plain) if w]
    base = ".".join([words[0], words[-1]] if len(words) > 1 else words) or "cliente"
    candidate, n = base, 1
    while login_holder(session, candidate) is not None:
        n += 1
        candidate = f"{base}{n}"
    return candidate
