"""What a decision produces: accept with attributes, or reject with a reason and its message."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from aaa.policies.inputs import PoolRef


class Outcome(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"


class RejectReason(StrEnum):
    """Why a request was rejected. The value is the auth-log text and a bounded metric label."""

    UNKNOWN_LOGIN = "unknown_login"
    WRONG_PASSWORD = "wrong_password"
    UNSUPPORTED_METHOD = "unsupported_method"
    NOT_ENABLED = "service_not_enabled"
    SUSPENDED_DEBT = "suspended_debt"
    SIMULTANEOUS_USE = "simultaneous_use"
    SESSIONS_UNKNOWN = "sessions_unknown"
    MAC_MISMATCH = "mac_mismatch"
    UNAVAILABLE = "subscriber_unavailable"
    POOL_EXHAUSTED = "pool_exhausted"
    NO_SUCH_POOL = "no_such_pool"

    @property
    def message_key(self) -> str:
        """Which Reply-Message text it gets (``policy.messages``): an unknown login and a wrong
        password share one, so a reject never tells which logins exist."""
        if self is RejectReason.UNKNOWN_LOGIN or self is RejectReason.WRONG_PASSWORD:
            return "invalid_credentials"
        return self.value


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    attributes: tuple[tuple[str, Any], ...] = ()
    reasons: tuple[str, ...] = ()
    reject: RejectReason | None = None
    learn_mac: str | None = None  # MAC binding "learn": register this MAC
    lease_from: tuple[PoolRef, ...] = ()  # server-mode pools: the server leases an address from each
    flags: frozenset[str] = field(default_factory=frozenset)  # "mac_differs", "interface_differs"
    custom: tuple[tuple[str, str], ...] = ()  # the custom reply attributes it carries (also in attributes)

    @property
    def trace(self) -> str:
        return " → ".join(self.reasons)
