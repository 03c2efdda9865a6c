"""ORM rows to response schemas, where a field is computed rather than copied."""

from __future__ import annotations

from sqlalchemy.orm import Session

from aaa.diagnostics import Diagnostics
from aaa.ipam.assignments import fixed_ipv4_of, held_by
from aaa.subscribers.customers import addresses_of
from aaa.tables.nas import Nas
from aaa.tables.operators import Operator
from aaa.tables.subscribers import Customer, Service
from admin_api.schemas import (
    AddressOut,
    AuthOut,
    CustomerOut,
    DecisionOut,
    DiagnosticsOut,
    HeldOut,
    NasOut,
    OperatorOut,
    ServiceOut,
    SessionOut,
)


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
    out = CustomerOut.model_validate(customer)
    out.addresses = [AddressOut.model_validate(a) for a in addresses_of(session, customer)]
    return out


def service_out(session: Session, service: Service, *, with_password: bool = False) -> ServiceOut:
    out = ServiceOut.model_validate(service)
    out.password = service.password if with_password else None
    held = held_by(session, service.id)
    out.addresses = [HeldOut.model_validate(row) for row in held]
    fixed = fixed_ipv4_of(held)
    out.fixed_ipv4 = fixed.address if fixed else None
    return out


def nas_out(nas: Nas, *, secret: str | None = None) -> NasOut:
    out = NasOut.model_validate(nas)
    out.secret = secret  # only when just created or rotated
    return out


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
