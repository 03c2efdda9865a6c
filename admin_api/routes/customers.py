"""Customers (Clientes) and their addresses, within the operator's cities."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from aaa.errors import Invalid
from aaa.subscribers import customers
from aaa.subscribers.customers import Scope
from aaa.vocabulary.subscribers import AddressKind, CustomerKind
from admin_api.deps import CityScope, db
from admin_api.presenters import customer_out, customers_page
from admin_api.routes.common import Limit, Offset, PathId
from admin_api.schemas.common import Page
from admin_api.schemas.customers import AddressIn, CustomerIn, CustomerOut, CustomerPatch

router = APIRouter(tags=["customers"])


@router.get("/customers", response_model=Page[CustomerOut])
def list_customers(
    scope: CityScope,
    search: str | None = None,
    kind: CustomerKind | None = None,
    city: str | None = None,
    group_name: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    session: Session = db("customers.read"),
) -> Page[CustomerOut]:
    items, total = customers.list_customers(
        session, scope, search=search, kind=kind, city=city, group_name=group_name, limit=limit, offset=offset
    )
    return Page(items=customers_page(session, items), total=total, limit=limit, offset=offset)


@router.post("/customers", response_model=CustomerOut, status_code=201)
def create_customer(
    body: CustomerIn, scope: CityScope, session: Session = db("customers.write")
) -> CustomerOut:
    return customer_out(session, create(session, body, scope))


def create(session: Session, body: CustomerIn, scope: Scope) -> customers.Customer:
    """Also used by the ownership transfer to a new customer: it must be in the operator's
    cities."""
    fields = body.model_dump(exclude={"addresses"})
    addresses = {kind: address.model_dump() for kind, address in body.addresses.items()}
    if AddressKind.INSTALLATION in addresses:
        raise Invalid(
            "a customer has registration, billing and fiscal addresses; installation is per service"
        )
    if addresses and AddressKind.BILLING not in addresses and AddressKind.REGISTRATION in addresses:
        addresses[AddressKind.BILLING] = addresses[AddressKind.REGISTRATION]  # the same unless edited
    customer = customers.add_customer(session, addresses=addresses, scope=scope, **fields)
    if not customers.visible(session, customer, scope):
        raise Invalid(
            f"give a registration address in one of your cities: {', '.join(sorted(scope.cities or ()))}"
        )
    return customer


@router.get("/customers/{customer_id}", response_model=CustomerOut)
def get_customer(
    customer_id: PathId, scope: CityScope, session: Session = db("customers.read")
) -> CustomerOut:
    return customer_out(session, customers.get_customer(session, customer_id, scope))


@router.patch("/customers/{customer_id}", response_model=CustomerOut)
def update_customer(
    customer_id: PathId, body: CustomerPatch, scope: CityScope, session: Session = db("customers.write")
) -> CustomerOut:
    customer = customers.get_customer(session, customer_id, scope)
    customers.update_customer(session, customer, scope, **body.model_dump(exclude_unset=True))
    return customer_out(session, customer)


@router.put("/customers/{customer_id}/addresses/{kind}", response_model=CustomerOut)
def set_address(
    customer_id: PathId,
    kind: AddressKind,
    body: AddressIn,
    scope: CityScope,
    session: Session = db("customers.write"),
) -> CustomerOut:
    customer = customers.get_customer(session, customer_id, scope)
    customers.set_address(session, customer, kind, body.model_dump())
    return customer_out(session, customer)
