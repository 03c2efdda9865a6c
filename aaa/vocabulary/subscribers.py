"""Subscriber enums, free of any database import (policies use them)."""

from __future__ import annotations

from enum import StrEnum


class CustomerKind(StrEnum):
    PERSON = "person"
    COMPANY = "company"


class ServiceStatus(StrEnum):
    """One state machine for the subscription (ARCHITECTURE.md, "Service status")."""

    PENDING_INSTALL = "pending_install"
    ENABLED = "enabled"
    SUSPENDED_DEBT = "suspended_debt"
    REDUCED_DEBT = "reduced_debt"
    REDUCED_MANUAL = "reduced_manual"  # Reduzido manual: an operator's choice; no routine undoes it
    SUSPENDED_REQUEST = "suspended_request"
    BLOCKED_MANUAL = "blocked_manual"
    AWAITING_MIGRATION = "awaiting_migration"
    CANCELLED = "cancelled"


class MacBinding(StrEnum):
    OFF = "off"
    ENFORCE = "enforce"
    LEARN = "learn"  # the first login's Calling-Station-Id becomes the registered MAC


class AddressKind(StrEnum):
    REGISTRATION = "registration"  # cadastral
    INSTALLATION = "installation"
    BILLING = "billing"  # cobrança
    FISCAL = "fiscal"


class Technology(StrEnum):
    FIBER = "fiber"
    RADIO = "radio"
    CABLE = "cable"
    DSL = "dsl"
    OTHER = "other"


class BillingMode(StrEnum):
    """Competência do financeiro: which month a due date pays for."""

    ADVANCE = "advance"  # pré-pago: the month the due date falls in
    POSTPAID = "postpaid"  # pós-pago: the month before


class SuspendedAction(StrEnum):
    """What a subscriber suspended for debt gets: the ISP's default ([policy]), or its billing
    method's, or its NAS's (the NAS wins: it knows what it can do)."""

    REJECT = "reject"  # Access-Reject with a Reply-Message
    ADDRESS_LIST = "address_list"  # accepted, in the blocked firewall address list, at the blocked rate
    POOL = "pool"  # accepted with an address from the blocked pool, at the blocked rate
