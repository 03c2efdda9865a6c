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
    def message(self) -> str:
        """The Reply-Message. Unknown login and wrong password read the same on purpose."""
        return _MESSAGES[self]


_MESSAGES = {
    RejectReason.UNKNOWN_LOGIN: "Authentication failed: invalid login or password",
    RejectReason.WRONG_PASSWORD: "Authentication failed: invalid login or password",
    RejectReason.UNSUPPORTED_METHOD: "Authentication failed: unsupported authentication method",
    RejectReason.NOT_ENABLED: "Service not enabled",
    RejectReason.SUSPENDED_DEBT: "Service suspended for an overdue payment; please contact your provider",
    RejectReason.SIMULTANEOUS_USE: "Simultaneous use limit reached",
    RejectReason.SESSIONS_UNKNOWN: "Simultaneous use cannot be checked now, try again",
    RejectReason.MAC_MISMATCH: "Equipment (MAC address) not authorized for this login",
    RejectReason.UNAVAILABLE: "Subscriber data unavailable, try again",
    RejectReason.POOL_EXHAUSTED: "No address available, try again later",
    RejectReason.NO_SUCH_POOL: "No address pool configured for this access",
}


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    attributes: tuple[tuple[str, Any], ...] = ()
    reasons: tuple[str, ...] = ()
    reject: RejectReason | None = None
    learn_mac: str | None = None  # MAC binding "learn": register this MAC
    lease_from: tuple[PoolRef, ...] = ()  # server-mode pools: the server leases an address from each
    flags: frozenset[str] = field(default_factory=frozenset)  # "mac_differs", "interface_differs"

    @property
    def trace(self) -> str:
        return " → ".join(self.reasons)
