"""What a session was given that enforcement can change, and how to get from one to another.

A ``Grant`` is recorded with each Access-Accept (auth log) and each successful enforcement, so
a later change is planned against what the NAS really has: a new rate or address list is a CoA
(or a RouterOS address-list edit), a new address cannot be changed live (RouterOS: "for such
changes a user must be disconnected first") and a subscriber who would now be rejected is
disconnected.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from aaa.policies.decision import Decision, Outcome
from aaa.vocabulary.attributes import LEASE_ATTRIBUTE

ADDRESS_ATTRIBUTES = frozenset(
    {
        "Framed-IP-Address",
        "Framed-Route",
        "Framed-Pool",
        "Framed-IPv6-Prefix",
        "Framed-IPv6-Pool",
        "Delegated-IPv6-Prefix",
        "Delegated-IPv6-Prefix-Pool",
    }
)


@dataclass(frozen=True, slots=True)
class Grant:
    rate: str | None
    address_list: str | None
    addresses: tuple[str, ...]  # "Framed-IP-Address=100.64.0.7", "lease:cgnat" (server-mode pool)

    def to_json(self) -> dict[str, Any]:
        return {"rate": self.rate, "address_list": self.address_list, "addresses": list(self.addresses)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Grant:
        return cls(data.get("rate"), data.get("address_list"), tuple(data.get("addresses") or ()))


def grant_of(decision: Decision) -> Grant | None:
    """None for a reject."""
    if decision.outcome is not Outcome.ACCEPT:
        return None
    values = dict(decision.attributes)
    leased = {LEASE_ATTRIBUTE[pool.kind] for pool in decision.lease_from}  # named by their pool
    addresses = sorted(
        f"{name}={value}"
        for name, value in decision.attributes
        if name in ADDRESS_ATTRIBUTES and name not in leased
    )
    addresses += [f"lease:{pool.name}" for pool in decision.lease_from]
    rate, listed = values.get("Mikrotik-Rate-Limit"), values.get("Mikrotik-Address-List")
    return Grant(
        None if rate is None else str(rate), None if listed is None else str(listed), tuple(addresses)
    )


class Action(StrEnum):
    IN_SYNC = "in_sync"  # nothing to send
    LIVE = "live"  # CoA (rate, address list) and/or address-list edits
    RECONNECT = "reconnect"  # only a new session can carry it: Disconnect


@dataclass(frozen=True, slots=True)
class LiveChange:
    action: Action
    why: str
    rate: str | None = None  # the new Mikrotik-Rate-Limit to send
    add_list: str | None = None  # address list the session's address joins
    remove_list: str | None = None  # address list the session's address leaves


def plan_change(before: Grant | None, after: Grant | None) -> LiveChange:
    """From what the session has (None: unknown) to what the decision gives now (None: reject)."""
    if after is None:
        return LiveChange(Action.RECONNECT, "the subscriber would be rejected now")
    if before is None:
        return LiveChange(
            Action.LIVE, "what the session was given is not known", after.rate, after.address_list
        )
    if before.addresses != after.addresses:
        old, new = ", ".join(before.addresses) or "none", ", ".join(after.addresses) or "none"
        return LiveChange(Action.RECONNECT, f"addresses change ({old} → {new}); only a new session gets them")
    rate = after.rate if after.rate != before.rate else None
    add = after.address_list if after.address_list != before.address_list else None
    remove = (
        before.address_list if before.address_list and before.address_list != after.address_list else None
    )
    if rate is None and add is None and remove is None:
        return LiveChange(Action.IN_SYNC, "the session already has what the decision gives")
    changes = [f"rate {before.rate} → {rate}"] if rate else []
    changes += [f"address list +{add}"] if add else []
    changes += [f"address list -{remove}"] if remove else []
    return LiveChange(Action.LIVE, ", ".join(changes), rate, add, remove)
