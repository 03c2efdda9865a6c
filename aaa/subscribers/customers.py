"""Customer operations and the city scope operators are limited to (Cidades).

They flush, never commit: the caller owns the transaction.

Flushing a customer or address writes its audit entries (FLUSH_HOOKS in aaa.composition).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, func, select, true
from sqlalchemy.orm import Session

from aaa.db.paging import page
from aaa.errors import Conflict, Invalid, NotFound
from aaa.subscribers.documents import normalize_cep, normalize_document
from aaa.tables.subscribers import ADDRESS_FIELDS, Address, Customer, Service
from aaa.vocabulary.search import search_text, search_word
from aaa.vocabulary.subscribers import AddressKind, CustomerKind


@dataclass(frozen=True)
class Scope:
    """The customers an operator may see: all (``cities`` None) or those registered in ``cities``."""

    cities: frozenset[str] | None = None  # lower case

    @classmethod
    def of(cls, cities: list[str]) -> Scope:
        return cls(frozenset(c.strip().lower() for c in cities) if cities else None)

    def customers(self) -> ColumnElement[bool]:
        """A predicate on Customer: its registration address is in one of the cities."""
        if self.cities is None:
            return true()
        return exists(
            select(Address.id).where(
                Address.customer_id == Customer.id,
                Address.service_id.is_(None),
                Address.kind == AddressKind.REGISTRATION,
                func.lower(Address.city).in_(sorted(self.cities)),
            )
        )


EVERYWHERE = Scope()
CUSTOMER_FIELDS = (
    "name",
    "trade_name",
    "birth_date",
    "phones",
    "emails",
    "group_name",
    "origin",
    "notes",
    "state_registration",
    "municipal_registration",
    "contacts",
    "must_read",
    "active",
)


def add_customer(
    session: Session,
    *,
    name: str,
    kind: CustomerKind = CustomerKind.PERSON,
    document: str | None = None,
    addresses: dict[AddressKind, dict[str, Any]] | None = None,
    scope: Scope = EVERYWHERE,
    **details: Any,
) -> Customer:
    """``scope``: who asks; a duplicate CPF/CNPJ of a customer outside it is not named."""
    if document is not None:
        document = _unique_document(session, kind, document, None, scope)
    customer = new_customer(name=name, kind=kind, document=document, **details)
    session.add(customer)
    session.flush()
    for address_kind, fields in (addresses or {}).items():
        set_address(session, customer, address_kind, fields)
    return customer


def update_customer(
    session: Session, customer: Customer, scope: Scope = EVERYWHERE, **changes: Any
) -> Customer:
    kind = changes.pop("kind", customer.kind)
    document = changes.pop("document", customer.document)
    if kind != customer.kind or document != customer.document:
        if document is None:
            raise Invalid("a customer's document cannot be removed, only corrected")
        customer.document = _unique_document(session, kind, document, customer.id, scope)
        customer.kind = kind
    if "name" in changes:
        changes["name"] = _name(changes["name"])
    _set_details(customer, changes)
    _index(customer)
    session.flush()
    return customer


def new_customer(
    *, name: str, kind: CustomerKind = CustomerKind.PERSON, document: str | None = None, **details: Any
) -> Customer:
    """A customer built and checked, not yet in a session, its CPF/CNPJ not yet compared with
    the others' (``add_customer`` does that; an import compares a whole chunk's at once)."""
    customer = Customer(kind=kind, name=_name(name), phones=[], emails=[])
    _set_details(customer, details)
    if document is not None:
        customer.document = normalize_document(kind, document)
    _index(customer)
    return customer


def _index(customer: Customer) -> None:
    """Keep the customer's search line in step with what it is searched by."""
    contacts = customer.contacts or []
    customer.search_text = search_text(
        customer.name,
        customer.trade_name,
        customer.document,
        [*(customer.phones or []), *(c.get("phone") or "" for c in contacts)],
        [*(customer.emails or []), *(c.get("email") or "" for c in contacts)],
    )


def get_customer(session: Session, customer_id: int, scope: Scope = EVERYWHERE) -> Customer:
    customer = session.scalar(select(Customer).where(Customer.id == customer_id, scope.customers()))
    if customer is None:  # another city's customer reads as absent, not forbidden: it leaks nothing
        raise NotFound(f"customer {customer_id} does not exist")
    return customer


def visible(session: Session, customer: Customer, scope: Scope) -> bool:
    query = select(Customer.id).where(Customer.id == customer.id, scope.customers())
    return session.scalar(query) is not None


def matches(text: str) -> ColumnElement[bool]:
    """Customers whose search line holds every word of ``text`` (accents, case and a number's
    punctuation do not count)."""
    words = [w for w in (search_word(w) for w in text.split()) if w]
    if not words:
        return false()
    return and_(*(Customer.search_text.like(f"%{w}%") for w in words))


def list_customers(
    session: Session,
    scope: Scope = EVERYWHERE,
    *,
    search: str | None = None,
    kind: CustomerKind | None = None,
    city: str | None = None,
    group_name: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Customer], int]:
    query = select(Customer).where(scope.customers())
    if search:
        query = query.where(matches(search))
    if kind is not None:
        query = query.where(Customer.kind == kind)
    if group_name:
        query = query.where(Customer.group_name == group_name)
    if city:
        query = query.where(Scope.of([city]).customers())
    return page(session, query, Customer.id, limit=limit, offset=offset)


def addresses_of(session: Session, customer: Customer, service: Service | None = None) -> list[Address]:
    query = select(Address).where(Address.customer_id == customer.id)
    query = query.where(Address.service_id.is_(None) if service is None else Address.service_id == service.id)
    return list(session.scalars(query.order_by(Address.kind)))


def addresses_of_customers(session: Session, customer_ids: list[int]) -> dict[int, list[Address]]:
    """``addresses_of`` (the customer's own, not a service's) for many customers in one query."""
    found: dict[int, list[Address]] = {}
    if not customer_ids:
        return found
    query = select(Address).where(Address.customer_id.in_(customer_ids), Address.service_id.is_(None))
    for address in session.scalars(query.order_by(Address.customer_id, Address.kind)):
        found.setdefault(address.customer_id, []).append(address)
    return found


def set_address(
    session: Session,
    customer: Customer,
    kind: AddressKind,
    fields: dict[str, Any],
    service: Service | None = None,
) -> Address:
    """Create or replace one address of the customer (``service`` None) or of one of its services."""
    if service is None and kind is AddressKind.INSTALLATION:
        raise Invalid("an installation address belongs to a service; set it on the service")
    if service is not None and kind is AddressKind.REGISTRATION:
        raise Invalid("the registration address belongs to the customer; set it on the customer")
    values = {name: fields.get(name) for name in ADDRESS_FIELDS}
    for required in ("street", "city", "state"):
        if not values[required] or not str(values[required]).strip():
            raise Invalid(f"the {kind.value} address needs a {required}")
    state = str(values["state"]).strip().upper()
    if len(state) != 2:
        raise Invalid(f"state {state!r} must be the two-letter UF (e.g. MG)")
    values["state"] = state
    if values["cep"]:
        values["cep"] = normalize_cep(values["cep"])
    service_id = service.id if service else None
    address = session.scalar(
        select(Address).where(
            Address.customer_id == customer.id,
            Address.service_id.is_(None) if service_id is None else Address.service_id == service_id,
            Address.kind == kind,
        )
    )
    if address is None:
        address = Address(customer_id=customer.id, service_id=service_id, kind=kind)
        session.add(address)
    for name, value in values.items():
        setattr(address, name, value)
    session.flush()
    return address


def _name(value: str) -> str:
    name = " ".join(value.split())
    if not name:
        raise Invalid("the customer needs a name (or company name)")
    return name


def _set_details(customer: Customer, details: dict[str, Any]) -> None:
    for field, value in details.items():
        if field not in CUSTOMER_FIELDS:
            raise Invalid(f"customers have no field {field!r}")
        if field == "birth_date" and value is not None and value > date.today():
            raise Invalid("the birth date is in the future")
        setattr(customer, field, value)


def _unique_document(
    session: Session, kind: CustomerKind, document: str, customer_id: int | None, scope: Scope
) -> str:
    value = normalize_document(kind, document)
    holder = session.scalar(select(Customer.id).where(Customer.document == value))
    if holder is not None and holder != customer_id:
        shown = session.scalar(select(Customer.id).where(Customer.id == holder, scope.customers()))
        if shown is None:
            raise Conflict("CPF/CNPJ already registered for a customer of another city")
        raise Conflict(f"CPF/CNPJ already registered for customer {holder}")
    return value


def document_holder(session: Session, kind: CustomerKind, document: str, scope: Scope) -> Customer | None:
    """The customer in ``scope`` registered with this CPF/CNPJ, if any (the sign-up checks as
    typed; a holder in another city is reported only on saving, unnamed)."""
    value = normalize_document(kind, document)
    return session.scalar(select(Customer).where(Customer.document == value, scope.customers()))
