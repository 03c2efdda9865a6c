"""decide(subscriber, facts, now) -> Decision: the whole answer to an authenticated request.

Credentials are verified before this is called; a decision never depends on which of
login or password was wrong.
"""

from __future__ import annotations

import re
from datetime import datetime

from aaa.ipam.attributes import POOL_NAME_ATTRIBUTE, pool_kind_of
from aaa.ipam.types import PoolKind, PoolMode
from aaa.policies.model import Decision, Outcome, PoolRef, RejectReason, RequestFacts, Subscriber
from aaa.subscribers.types import MacBinding, ServiceStatus

_HEX = re.compile(r"[0-9A-Fa-f]")


def normalize_mac(value: str | None) -> str | None:
    """AA:BB:CC:DD:EE:FF from any common spelling (aa-bb-.., aabb.ccdd.eeff); else as given."""
    if not value:
        return None
    digits = "".join(_HEX.findall(value))
    if len(digits) != 12 or len(value) > 17:
        return value.strip().upper()
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2)).upper()


def reject(reason: RejectReason, *trace: str, flags: frozenset[str] = frozenset()) -> Decision:
    return Decision(Outcome.REJECT, reasons=(*trace, f"reject: {reason.value}"), reject=reason, flags=flags)


def decide(sub: Subscriber, facts: RequestFacts, now: datetime) -> Decision:
    mac = normalize_mac(facts.calling_station_id)
    flags = set()
    if sub.mac and mac and sub.mac != mac:
        flags.add("mac_differs")
    if sub.nas_port_id and facts.nas_port_id and sub.nas_port_id != facts.nas_port_id:
        flags.add("interface_differs")
    frozen_flags = frozenset(flags)

    if sub.status is not ServiceStatus.ENABLED:
        return reject(RejectReason.NOT_ENABLED, f"status {sub.status.value}", flags=frozen_flags)

    learn = None
    if sub.mac_binding is not MacBinding.OFF:
        if sub.mac is None and sub.mac_binding is MacBinding.LEARN and mac:
            learn = mac
        elif sub.mac is None or mac != sub.mac:
            return reject(
                RejectReason.MAC_MISMATCH,
                f"MAC {mac or 'absent'} is not the registered {sub.mac or 'none'}",
                flags=frozen_flags,
            )

    if sub.simultaneous_use > 0:
        if facts.open_sessions is None:
            return reject(RejectReason.SESSIONS_UNKNOWN, "open sessions unknown", flags=frozen_flags)
        # The same CPE redialling on the same NAS port replaces its old session; the NAS
        # sends that session's Stop itself, so it does not count against the limit.
        others = [
            s
            for s in facts.open_sessions
            if not (
                s.nas_id == facts.nas_id
                and normalize_mac(s.calling_station_id) == mac
                and s.nas_port_id == facts.nas_port_id
            )
        ]
        if len(others) >= sub.simultaneous_use:
            return reject(
                RejectReason.SIMULTANEOUS_USE,
                f"{len(others)} open session(s), limit {sub.simultaneous_use}",
                flags=frozen_flags,
            )

    rate = sub.plan.rate_limit().render()
    attributes: list[tuple[str, object]] = [("Mikrotik-Rate-Limit", rate)]
    reasons = [f"plan {sub.plan.name} {rate}"]
    lease_from = _addresses(sub, facts, attributes, reasons)
    if facts.interim_interval:
        attributes.append(("Acct-Interim-Interval", facts.interim_interval))
    if learn:
        reasons.append(f"MAC {learn} learned")
    return Decision(
        Outcome.ACCEPT,
        tuple(attributes),
        tuple(reasons),
        learn_mac=learn,
        flags=frozen_flags,
        lease_from=lease_from,
    )


def _addresses(
    sub: Subscriber, facts: RequestFacts, attributes: list[tuple[str, object]], reasons: list[str]
) -> tuple[PoolRef, ...]:
    """Fixed addresses first; for each kind they leave open, the plan's pool, else the NAS's:
    its name for the NAS to allocate from, or a lease the server takes."""
    covered = set()
    for attribute, value in sub.fixed:
        attributes.append((attribute, value))
        reasons.append(f"fixed {value}")
        covered.add(pool_kind_of(attribute))
    leases = []
    for kind in PoolKind:
        if kind in covered:
            continue
        pool = next((p for p in sub.pools if p.kind is kind), None) or next(
            (p for p in facts.nas_pools if p.kind is kind), None
        )
        if pool is None:
            continue
        if pool.mode is PoolMode.NAS:
            attributes.append((POOL_NAME_ATTRIBUTE[kind], pool.name))
            reasons.append(f"{kind.value} pool {pool.name} (the NAS allocates)")
        else:
            leases.append(pool)
            reasons.append(f"{kind.value} lease from pool {pool.name}")
    return tuple(leases)
