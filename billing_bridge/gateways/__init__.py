"""Payment providers behind one interface: create an invoice's charge (boleto and/or PIX), cancel
it, and read the provider's own webhook into payments. ``provider_of`` picks the one configured."""

from __future__ import annotations

from billing_bridge.gateways.base import (
    ChargeRequest,
    IssuedCharge,
    Payment,
    Provider,
    ProviderDown,
    ProviderRefused,
    Unauthorized,
)

__all__ = [
    "ChargeRequest",
    "IssuedCharge",
    "Payment",
    "Provider",
    "ProviderDown",
    "ProviderRefused",
    "Unauthorized",
]
