"""ORM rows to response schemas, where a field is computed rather than copied. The list
presenters (``*_page``) load what every row needs in one query each, so a page of 50 costs
the same number of statements as a page of 5."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from aaa.diagnostics import Diagnostics
from aaa.ipam.assignments import fixed_ipv4_of, held_by, held_by_services
from aaa.nas.activity import activity_of
from aaa.subscribers.customers import addresses_of, addresses_of_customers
from aaa.tables.ipam import IpAssignment
from aaa.tables.nas import Nas
from aaa.tables.operators import Operator
from aaa.tables.subscribers import Address, Customer, Service
from admin_api.schemas.customers import AddressOut, CustomerOut
from admin_api.schemas.ipam import HeldOut
from admin_api.schemas.nas import NasActivityOut, NasOut
from admin_api.schemas.operators import OperatorOut
from admin_api.schemas.services import AuthOut, DecisionOut, DiagnosticsOut, ServiceOut, SessionOut


def operator_out(operator: Operator) -> OperatorOut:
    return OperatorOut(
        id=operator.id,
        login=operator.login,
        name=operator.name,
        email=operator.email,
        active=operator.active,
        superuser=operator.superuser,
        permissions=list(operator.permissions),
        roles=[role.id for role in operator.roles],
        effective_permissions=sorted(operator.effective_permissions()),
        cities=list(operator.cities),
        cash_boxes=[box.id for box in operator.cash_boxes],
        must_change_password=operator.must_change_password,
        locked_until=operator.locked_until,
        created_at=operator.created_at,
    )


def customer_out(session: Session, customer: Customer) -> CustomerOut:
    return _customer_out(customer, addresses_of(session, customer))


def customers_page(session: Session, customers: Sequence[Customer]) -> list[CustomerOut]:
    addresses = addresses_of_customers(session, [c.id for c in customers])
    return [_customer_out(c, addresses.get(c.id, [])) for c in customers]


def _customer_out(customer: Customer, addresses: list[Address]) -> CustomerOut:
    out = CustomerOut.model_validate(customer)
    out.addresses = [AddressOut.model_validate(a) for a in addresses]
    return out


def operators_page(session: Session, operators: Sequence[Operator]) -> list[OperatorOut]:
    """Roles and cash boxes of the whole page in one query each (into the rows already loaded)."""
    session.scalars(
        select(Operator)
        .where(Operator.id.in_([o.id for o in operators]))
        .options(selectinload(Operator.roles), selectinload(Operator.cash_boxes))
    ).all()
    return [operator_out(o) for o in operators]


def service_out(session: Session, service: Service, *, with_password: bool = False) -> ServiceOut:
    notes = _must_read(session, [service.customer_id])
    return _service_out(service, held_by(session, service.id), with_password, notes.get(service.customer_id))


def services_page(session: Session, services: Sequence[Service]) -> list[ServiceOut]:
    held = held_by_services(session, [s.id for s in services])
    notes = _must_read(session, [s.customer_id for s in services])
    return [_service_out(s, held.get(s.id, []), False, notes.get(s.customer_id)) for s in services]


def _must_read(session: Session, customer_ids: list[int]) -> dict[int, str]:
    """The customers' must-read notes, to show with each of their services (one query)."""
    rows = session.execute(
        select(Customer.id, Customer.must_read).where(
            Customer.id.in_(customer_ids), Customer.must_read.is_not(None)
        )
    )
    return {customer_id: note for customer_id, note in rows if note}


def _service_out(
    service: Service, held: list[IpAssignment], with_password: bool, must_read: str | None = None
) -> ServiceOut:
    out = ServiceOut.model_validate(service)
    out.customer_must_read = must_read
    out.password = service.password if with_password else None
    out.addresses = [HeldOut.model_validate(row) for row in held]
    fixed = fixed_ipv4_of(held)
    out.fixed_ipv4 = fixed.address if fixed else None
    return out


def nas_out(nas: Nas, *, secret: str | None = None, session: Session | None = None) -> NasOut:
    """``session``: read what the workers saw of it too."""
    out = NasOut.model_validate(nas)
    out.secret = secret  # only when just created or rotated
    if session is not None and (seen := activity_of(session, [nas.id]).get(nas.id)) is not None:
        out.activity = NasActivityOut.model_validate(seen)
    return out


def nas_page(session: Session, rows: Sequence[Nas]) -> list[NasOut]:
    seen = activity_of(session, [n.id for n in rows])
    outs = []
    for nas in rows:
        out = NasOut.model_validate(nas)
        if (activity := seen.get(nas.id)) is not None:
            out.activity = NasActivityOut.model_validate(activity)
        outs.append(out)
    return outs


def diagnostics_out(session: Session, found: Diagnostics) -> DiagnosticsOut:
    decision = found.decision
    return DiagnosticsOut(
        service=service_out(session, found.service),
        status=found.service.status,
        status_reason=found.service.status_reason,
        next_login=None
        if decision is None
        else DecisionOut(
            outcome=decision.outcome.value,
            reasons=list(decision.reasons),
            attributes={name: value for name, value in decision.attributes},
        ),
        online=[SessionOut.model_validate(s) for s in found.online],
        history=[SessionOut.model_validate(s) for s in found.history],
        authentications=[AuthOut.model_validate(a) for a in found.authentications],
    )
