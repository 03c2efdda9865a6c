"""Customer, plan and service operations. They flush, never commit: the caller owns the transaction."""

from __future__ import annotations

import ipaddress
import secrets
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from aaa.changes.feed import record_change
from aaa.changes.models import ChangeKind
from aaa.errors import Conflict, Invalid, NotFound
from aaa.policies.decide import normalize_mac
from aaa.subscribers.models import Customer, Plan, Service
from aaa.subscribers.types import CustomerKind, MacBinding, ServiceStatus

_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"


def generate_password(length: int = 10) -> str:
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(length))


def add_plan(
    session: Session,
    *,
    name: str,
    download_kbps: int,
    upload_kbps: int,
    price: Decimal = Decimal("0.00"),
    burst_download_kbps: int | None = None,
    burst_upload_kbps: int | None = None,
    burst_threshold_download_kbps: int | None = None,
    burst_threshold_upload_kbps: int | None = None,
    burst_time_s: int | None = None,
) -> Plan:
    if download_kbps <= 0 or upload_kbps <= 0:
        raise Invalid("download and upload speeds must be positive (kbit/s)")
    if session.scalar(select(Plan).where(Plan.name == name)):
        raise Conflict(f"a plan named {name!r} already exists")
    if (burst_download_kbps is None) != (burst_upload_kbps is None):
        raise Invalid("give both burst speeds (download and upload) or neither")
    plan = Plan(
        name=name,
        price=price,
        download_kbps=download_kbps,
        upload_kbps=upload_kbps,
        burst_download_kbps=burst_download_kbps,
        burst_upload_kbps=burst_upload_kbps,
        burst_threshold_download_kbps=burst_threshold_download_kbps,
        burst_threshold_upload_kbps=burst_threshold_upload_kbps,
        burst_time_s=burst_time_s,
    )
    session.add(plan)
    session.flush()
    return plan


def add_customer(
    session: Session, *, name: str, kind: CustomerKind = CustomerKind.PERSON, document: str | None = None
) -> Customer:
    customer = Customer(name=name, kind=kind, document=document)
    session.add(customer)
    session.flush()
    return customer


def get_plan(session: Session, name_or_id: str | int) -> Plan:
    plan = session.scalar(
        select(Plan).where(
            Plan.id == int(name_or_id) if str(name_or_id).isdigit() else Plan.name == str(name_or_id)
        )
    )
    if plan is None:
        raise NotFound(f"plan {name_or_id!r} does not exist")
    return plan


def add_service(
    session: Session,
    *,
    customer: Customer,
    plan: Plan,
    login: str,
    password: str | None = None,
    status: ServiceStatus = ServiceStatus.ENABLED,
    simultaneous_use: int = 1,
    mac_binding: MacBinding = MacBinding.OFF,
    mac: str | None = None,
    fixed_ipv4: str | None = None,
) -> Service:
    login = login.strip()
    if not login or len(login) > 253:
        raise Invalid("the PPPoE login must have 1 to 253 characters")
    password = password if password is not None else generate_password()
    if not password or len(password.encode()) > 128:
        raise Invalid("the password must have 1 to 128 octets (RFC 2865 User-Password limit)")
    if simultaneous_use < 0:
        raise Invalid("simultaneous use must be 0 (no limit) or more")
    existing = session.scalar(select(Service).where(Service.login == login))
    if existing:
        raise Conflict(f"login {login!r} is already used by service {existing.id}")
    if fixed_ipv4 is not None:
        fixed_ipv4 = _ipv4(fixed_ipv4)
        holder = session.scalar(select(Service).where(Service.fixed_ipv4 == fixed_ipv4))
        if holder:
            raise Conflict(f"IP {fixed_ipv4} is already assigned to service {holder.id} ({holder.login})")
    service = Service(
        customer=customer,
        plan=plan,
        login=login,
        password=password,
        status=status,
        simultaneous_use=simultaneous_use,
        mac_binding=mac_binding,
        mac=normalize_mac(mac),
        fixed_ipv4=fixed_ipv4,
    )
    session.add(service)
    session.flush()
    record_change(session, ChangeKind.SERVICE, login)
    return service


def get_service(session: Session, login: str) -> Service:
    service = session.scalar(select(Service).where(Service.login == login))
    if service is None:
        raise NotFound(f"no service with login {login!r}")
    return service


def list_services(session: Session) -> list[Service]:
    return list(session.scalars(select(Service).order_by(Service.id)))


def update_service(session: Session, login: str, **changes: object) -> Service:
    """Change fields of a service (password, status, plan, mac, ...) and tell the caches."""
    service = get_service(session, login)
    for field, value in changes.items():
        if not hasattr(service, field):
            raise Invalid(f"services have no field {field!r}")
        if field == "mac":
            value = normalize_mac(value)  # type: ignore[arg-type]
        setattr(service, field, value)
    session.flush()
    record_change(session, ChangeKind.SERVICE, login)
    return service


def learn_mac(session: Session, login: str, mac: str) -> None:
    """MAC binding "learn": the first MAC seen becomes the registered one (never overwrites)."""
    service = session.scalar(select(Service).where(Service.login == login))
    if service is not None and service.mac is None:
        service.mac = mac
        record_change(session, ChangeKind.SERVICE, login)


def _ipv4(value: str) -> str:
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError as exc:
        raise Invalid(f"{value!r} is not an IPv4 address") from exc
