"""What a session was given that enforcement can change, and how to get from one to another.

A ``Grant`` is recorded with each Access-Accept (auth log) and each successful enforcement, so
a later change is planned against what the NAS really has: a new rate or address list is a CoA
(or a RouterOS address-list edit), a new address cannot be changed live (RouterOS: "for such
changes a user must be disconnected first") and a subscriber who would now be rejected is
disconnected.
"""

from __future__ import annotations

from collections.abc import Iterable
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


# Reply attributes a NAS takes in a CoA-Request (RFC 5176 §3.6, RouterOS /radius incoming); a
# change to any other custom reply attribute needs a new session.
LIVE_ATTRIBUTES = frozenset(
    {
        "Session-Timeout",
        "Idle-Timeout",
        "Filter-Id",
        "Acct-Interim-Interval",
        "Mikrotik-Rate-Limit",
        "Mikrotik-Address-List",
    }
)


@dataclass(frozen=True, slots=True)
class Grant:
    rate: str | None
    address_list: str | None
    addresses: tuple[str, ...]  # "Framed-IP-Address=100.64.0.7", "lease:cgnat" (server-mode pool)
    extras: tuple[str, ...] = ()  # custom reply attributes, "Session-Timeout=3600", sorted

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "rate": self.rate,
            "address_list": self.address_list,
            "addresses": list(self.addresses),
        }
        if self.extras:
            found["extras"] = list(self.extras)
        return found

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Grant:
        return cls(
            data.get("rate"),
            data.get("address_list"),
            tuple(data.get("addresses") or ()),
            tuple(data.get("extras") or ()),
        )


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
        None if rate is None else str(rate),
        None if listed is None else str(listed),
        tuple(addresses),
        tuple(sorted(f"{name}={value}" for name, value in decision.custom)),
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
    attributes: tuple[tuple[str, str], ...] = ()  # custom reply attributes to send as they are


def plan_change(before: Grant | None, after: Grant | None) -> LiveChange:
    """From what the session has (None: unknown) to what the decision gives now (None: reject)."""
    if after is None:
        return LiveChange(Action.RECONNECT, "the subscriber would be rejected now")
    if before is None:
        return LiveChange(
            Action.LIVE,
            "what the session was given is not known",
            after.rate,
            after.address_list,
            attributes=_pairs(e for e in after.extras if _name(e) in LIVE_ATTRIBUTES),
        )
    if before.addresses != after.addresses:
        old, new = ", ".join(before.addresses) or "none", ", ".join(after.addresses) or "none"
        return LiveChange(Action.RECONNECT, f"addresses change ({old} → {new}); only a new session gets them")
    gone = sorted(set(before.extras) - set(after.extras))
    came = sorted(set(after.extras) - set(before.extras))
    fixed = [e for e in (*gone, *came) if _name(e) not in LIVE_ATTRIBUTES]
    if fixed or any(_name(e) not in {_name(c) for c in came} for e in gone):
        # A CoA can set an attribute, never take one away, and only some can change live.
        what = ", ".join([*(f"-{e}" for e in gone), *(f"+{e}" for e in came)])
        return LiveChange(Action.RECONNECT, f"reply attributes change ({what}); only a new session gets them")
    rate = after.rate if after.rate != before.rate else None
    add = after.address_list if after.address_list != before.address_list else None
    remove = (
        before.address_list if before.address_list and before.address_list != after.address_list else None
    )
    if rate is None and add is None and remove is None and not came:
        return LiveChange(Action.IN_SYNC, "the session already has what the decision gives")
    changes = [f"rate {before.rate} → {rate}"] if rate else []
    changes += [f"address list +{add}"] if add else []
    changes += [f"address list -{remove}"] if remove else []
    changes += [f"reply attribute {e}" for e in came]
    return LiveChange(Action.LIVE, ", ".join(changes), rate, add, remove, _pairs(came))


def _name(extra: str) -> str:
    return extra.split("=", 1)[0]


def _pairs(extras: Iterable[str]) -> tuple[tuple[str, str], ...]:
    return tuple((name, value) for name, _, value in (e.partition("=") for e in extras))
