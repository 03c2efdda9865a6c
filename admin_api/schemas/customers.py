"""Bodies of /customers and their addresses."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import Field, model_validator

from aaa.vocabulary.subscribers import (
    AddressKind,
    CustomerKind,
)
from admin_api.schemas.common import In, Out, Text


class AddressIn(In):
    cep: Annotated[str, Field(max_length=9, description="8 digits, with or without the dash")] | None = None
    street: Text
    number: Annotated[str, Field(max_length=20)] | None = None
    complement: Annotated[str, Field(max_length=100)] | None = None
    district: Annotated[str, Field(max_length=100)] | None = None
    city: Annotated[str, Field(min_length=1, max_length=100)]
    state: Annotated[str, Field(min_length=2, max_length=2, description="UF, e.g. MG")]


class AddressOut(Out):
    kind: AddressKind
    cep: str | None
    street: str
    number: str | None
    complement: str | None
    district: str | None
    city: str
    state: str


class ContactIn(In):
    """Someone else to talk to about the account (contato), and what they agreed to receive."""

    name: Text
    phone: Annotated[str, Field(min_length=8, max_length=20)] | None = None
    email: Annotated[str, Field(min_length=3, max_length=200, pattern=r"^[^@\s]+@[^@\s]+$")] | None = None
    role: Annotated[str, Field(max_length=100)] | None = Field(None, description="e.g. financeiro, técnico")
    sms: bool = Field(False, description="consents to SMS")
    whatsapp: bool = Field(False, description="consents to WhatsApp")


class CustomerFields(In):
    trade_name: Text | None = None
    birth_date: date | None = None
    phones: list[Annotated[str, Field(min_length=8, max_length=20)]] = []
    emails: list[Annotated[str, Field(min_length=3, max_length=200, pattern=r"^[^@\s]+@[^@\s]+$")]] = []
    group_name: Annotated[str, Field(max_length=100)] | None = None
    origin: Annotated[str, Field(max_length=100)] | None = None
    notes: Annotated[str, Field(max_length=5000)] | None = None
    state_registration: Annotated[str, Field(max_length=20)] | None = Field(
        None, description="inscrição estadual"
    )
    municipal_registration: Annotated[str, Field(max_length=20)] | None = Field(
        None, description="inscrição municipal"
    )
    contacts: list[ContactIn] = Field([], max_length=20)
    must_read: Annotated[str, Field(max_length=2000)] | None = Field(
        None, description="leitura obrigatória: shown with every service of the customer"
    )
    active: bool = True


class CustomerIn(CustomerFields):
    kind: CustomerKind
    name: Text = Field(description="the person's name, or the company name (razão social)")
    document: Annotated[
        str, Field(min_length=11, max_length=18, description="CPF or CNPJ, digits or formatted")
    ]
    addresses: dict[AddressKind, AddressIn] = Field(
        default_factory=dict, description="registration (cadastral), billing, fiscal"
    )

    @model_validator(mode="after")
    def _required_by_kind(self) -> CustomerIn:
        # "Adicionar cliente": a person needs a birth date and a phone, a company a phone.
        if not self.phones:
            raise ValueError("give at least one phone number")
        if self.kind is CustomerKind.PERSON and self.birth_date is None:
            raise ValueError("a person (CPF) needs a birth_date")
        return self


class CustomerPatch(CustomerFields):
    kind: CustomerKind | None = None
    name: Text | None = None
    document: Annotated[str, Field(min_length=11, max_length=18)] | None = None
    phones: list[Annotated[str, Field(min_length=8, max_length=20)]] | None = None  # type: ignore[assignment]
    emails: list[str] | None = None  # type: ignore[assignment]
    contacts: list[ContactIn] | None = Field(None, max_length=20)  # type: ignore[assignment]
    active: bool | None = None  # type: ignore[assignment]


class CustomerOut(Out):
    id: int
    kind: CustomerKind
    name: str
    trade_name: str | None
    document: str | None
    birth_date: date | None
    phones: list[str]
    emails: list[str]
    group_name: str | None
    origin: str | None
    notes: str | None
    state_registration: str | None
    municipal_registration: str | None
    contacts: list[dict[str, Any]]
    must_read: str | None
    active: bool
    addresses: list[AddressOut] = []
    created_at: datetime
