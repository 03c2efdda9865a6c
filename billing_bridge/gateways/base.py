"""What every provider adapter takes and gives, and how its calls fail."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol


class ProviderDown(Exception):
    """No answer, a timeout or a 5xx: try again later (counts against the circuit breaker)."""


class ProviderRefused(Exception):
    """The provider answered and said no (4xx), with its own message: retrying will not help."""


class Unauthorized(Exception):
    """A webhook whose credentials are not the configured ones."""


@dataclass(frozen=True)
class ChargeRequest:
    """One invoice as a provider charge: amounts in reais, rules from its billing method."""

    invoice_id: int
    customer_id: int
    customer_name: str
    document: str  # CPF (11) or CNPJ (14) digits; empty if unknown
    email: str
    amount: Decimal
    due_date: date
    description: str
    fine_percent: Decimal  # multa, once
    interest_percent_month: Decimal  # juros, per month
    discount: Decimal  # off when paid by discount_until
    discount_until: date | None


@dataclass(frozen=True)
class IssuedCharge:
    provider_id: str
    nosso_numero: str | None = None
    linha_digitavel: str | None = None
    barcode: str | None = None
    pix_payload: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Payment:
    """A provider's notice that money arrived for one of its charges."""

    external_id: str  # unique per payment at this provider (ours: "<provider>:<its id>")
    provider_id: str  # the charge it pays
    amount: Decimal
    paid_at: datetime | None
    raw: dict[str, object]


class Provider(Protocol):
    name: str

    def create(self, request: ChargeRequest) -> IssuedCharge: ...

    def cancel(self, provider_id: str) -> None: ...

    def payments(self, headers: Mapping[str, str], query: Mapping[str, str], body: bytes) -> list[Payment]:
        """The payments a webhook call carries (none for other events); Unauthorized when its
        credentials are wrong, ValueError when the body is not the provider's format."""
        ...
