"""decide(subscriber, facts, now) -> Decision: the whole answer to an authenticated request.

Credentials are verified before this is called; a decision never depends on which of
login or password was wrong.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, time, timedelta
from typing import Protocol

from aaa.policies.decision import Decision, Outcome, RejectReason
from aaa.policies.inputs import (
    IspPolicy,
    PlanSpeed,
    PoolRef,
    ReplyAttribute,
    RequestFacts,
    Subscriber,
    SuspendedAction,
)
from aaa.policies.ratelimit import RateLimit, kbps_text
from aaa.vocabulary.attributes import POOL_NAME_ATTRIBUTE, pool_kind_of
from aaa.vocabulary.ipam import PoolKind, PoolMode
from aaa.vocabulary.subscribers import MacBinding, ServiceStatus

_RADIUS_SPELLING = re.compile(r"(?:[0-9A-F]{2}:){5}[0-9A-F]{2}")  # RouterOS's Calling-Station-Id
_NOT_HEX = re.compile(r"[^0-9A-Fa-f]+")
_DEBT = frozenset({ServiceStatus.SUSPENDED_DEBT, ServiceStatus.REDUCED_DEBT})
_SERVING = _DEBT | {ServiceStatus.ENABLED, ServiceStatus.REDUCED_MANUAL}  # every other status is rejected
DEFAULT_POLICY = IspPolicy()
_POOL_KINDS = tuple(PoolKind)  # iterating the Enum class itself costs a microsecond a request


class Line(Protocol):
    """A request or a session, by where it comes from: NAS, Calling-Station-Id, NAS port."""

    @property
    def nas_id(self) -> int: ...
    @property
    def calling_station_id(self) -> str | None: ...
    @property
    def nas_port_id(self) -> str | None: ...


Cpe = tuple[int, str | None, str | None]  # NAS, normalized MAC, NAS port


def cpe(line: Line) -> Cpe:
    """The CPE behind a request or session: the same one redialling on the same NAS port
    replaces its old session (which the NAS stops itself)."""
    return cpe_at(line.nas_id, line.calling_station_id, line.nas_port_id)


def cpe_at(nas_id: int, calling_station_id: str | None, nas_port_id: str | None) -> Cpe:
    """``cpe`` of a request not yet made into facts."""
    return (nas_id, normalize_mac(calling_station_id), nas_port_id)


def normalize_mac(value: str | None) -> str | None:
    """AA:BB:CC:DD:EE:FF from any common spelling (aa-bb-.., aabb.ccdd.eeff); else as given."""
    if not value:
        return None
    if _RADIUS_SPELLING.fullmatch(value):  # most requests, in a tenth of the time
        return value
    digits = _NOT_HEX.sub("", value).upper()
    if len(digits) != 12 or len(value) > 17:
        return value.strip().upper()
    return f"{digits[:2]}:{digits[2:4]}:{digits[4:6]}:{digits[6:8]}:{digits[8:10]}:{digits[10:]}"


def reject(reason: RejectReason, *trace: str, flags: frozenset[str] = frozenset()) -> Decision:
    return Decision(Outcome.REJECT, reasons=(*trace, f"reject: {reason.value}"), reject=reason, flags=flags)


def decide(
    sub: Subscriber, facts: RequestFacts, now: datetime, policy: IspPolicy = DEFAULT_POLICY
) -> Decision:
    """Layers in order: status (and what lifts a debt status), MAC binding, simultaneous use,
    speed (plan → trial → custom → reduced or blocked), addresses."""
    mac = normalize_mac(facts.calling_station_id)
    flags = set()
    if sub.mac and mac and sub.mac != mac:
        flags.add("mac_differs")
    if sub.nas_port_id and facts.nas_port_id and sub.nas_port_id != facts.nas_port_id:
        flags.add("interface_differs")
    frozen_flags = frozenset(flags)

    if sub.status not in _SERVING:
        return reject(RejectReason.NOT_ENABLED, f"status {sub.status.value}", flags=frozen_flags)
    reasons: list[str] = []
    action = facts.nas_suspended_action or sub.suspended_action
    if action is not None and action is not policy.suspended_action:
        policy = replace(policy, suspended_action=action)  # the NAS's, else the billing method's
    held = sub.status if sub.status in _DEBT else None
    if sub.status is ServiceStatus.REDUCED_MANUAL:  # an operator's choice: nothing lifts it
        held = sub.status
        reasons.append(f"status reduced_manual{_since(sub.status_since, policy)}")
    elif held is not None:
        reasons.append(f"status {held.value}{_since(sub.status_since, policy)}")
        lifted = _lifted(sub, now, policy)
        if lifted:
            reasons.append(lifted)
            held = None
        elif held is ServiceStatus.SUSPENDED_DEBT and policy.suspended_action is SuspendedAction.REJECT:
            return reject(RejectReason.SUSPENDED_DEBT, *reasons, flags=frozen_flags)

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
        here = (facts.nas_id, mac, facts.nas_port_id)
        others = [s for s in facts.open_sessions if cpe(s) != here]
        if len(others) >= sub.simultaneous_use:
            return reject(
                RejectReason.SIMULTANEOUS_USE,
                f"{len(others)} open session(s), limit {sub.simultaneous_use}",
                flags=frozen_flags,
            )

    rate, plan = speed(sub, now, policy, held, reasons)
    attributes: list[tuple[str, object]] = [("Mikrotik-Rate-Limit", rate)]
    blocked = held is ServiceStatus.SUSPENDED_DEBT
    if blocked and policy.suspended_action is SuspendedAction.ADDRESS_LIST:
        attributes.append(("Mikrotik-Address-List", policy.blocked_address_list))
    if blocked and policy.suspended_action is SuspendedAction.POOL and policy.blocked_pool is not None:
        lease_from = _blocked_pool(policy.blocked_pool, attributes, reasons)
    else:
        lease_from = _addresses(sub, facts, attributes, reasons)
    if facts.interim_interval:
        attributes.append(("Acct-Interim-Interval", facts.interim_interval))
    custom = (
        _custom(attributes, (*plan.reply_attributes, *sub.reply_attributes), reasons)
        if plan.reply_attributes or sub.reply_attributes  # most logins have none: no tuple built
        else ()
    )
    if learn:
        reasons.append(f"MAC {learn} learned")
    return Decision(
        Outcome.ACCEPT,
        tuple(attributes),
        tuple(reasons),
        learn_mac=learn,
        flags=frozen_flags,
        lease_from=lease_from,
        custom=custom,
    )


def _custom(
    attributes: list[tuple[str, object]], wanted: tuple[ReplyAttribute, ...], reasons: list[str]
) -> tuple[tuple[str, str], ...]:
    """The plan's then the service's reply attributes, with FreeRADIUS's reply operators:
    ``=`` adds unless the reply has it already, ``:=`` replaces, ``+=`` adds another."""
    added: list[tuple[str, str]] = []
    for name, op, value in wanted:
        if op == ":=":
            attributes[:] = [a for a in attributes if a[0] != name]
            added = [a for a in added if a[0] != name]
        elif op == "=" and any(a[0] == name for a in attributes):
            continue
        attributes.append((name, value))
        added.append((name, value))
    if added:
        reasons.append("reply attributes " + ", ".join(f"{name}={value}" for name, value in added))
    return tuple(added)


def speed(
    sub: Subscriber, now: datetime, policy: IspPolicy, held: ServiceStatus | None, reasons: list[str]
) -> tuple[str, PlanSpeed]:
    """plan → trial → custom → reduced (``reduced_debt``) or blocked (``suspended_debt``), as
    the Mikrotik-Rate-Limit text; and the plan in effect (the trial's while it lasts)."""
    plan = sub.plan
    if sub.trial is not None and now < sub.trial.until:
        reasons.append(plan.speed_text())
        plan = sub.trial.plan
        reasons.append(f"trial of plan {plan.name} until {_until(sub.trial.until, policy)}")
    reasons.append(plan.speed_text())
    if sub.custom is None and held is None:  # the plan as it is: its text is made once
        return plan.rate_text(), plan
    rate = plan.rate_limit()
    down, up = plan.download_kbps, plan.upload_kbps
    custom = sub.custom
    if custom is not None and (custom.until is None or now < custom.until):
        down, up = custom.download_kbps, custom.upload_kbps
        until = f" until {_until(custom.until, policy)}" if custom.until else ""
        reasons.append(f"custom {kbps_text(down, up)}{until}")
        rate = RateLimit(up * 1000, down * 1000)
    if held is ServiceStatus.REDUCED_DEBT or held is ServiceStatus.REDUCED_MANUAL:
        reduction = sub.reduction or policy.reduction
        down, up = reduction.apply(down, up)
        reasons.append(f"reduced to {reduction.describe()}: {kbps_text(down, up)}")
        rate = RateLimit(up * 1000, down * 1000)
    elif held is ServiceStatus.SUSPENDED_DEBT:
        down = min(down, policy.blocked_download_kbps)
        up = min(up, policy.blocked_upload_kbps)
        reasons.append(f"blocked ({policy.suspended_action.value}) at {kbps_text(down, up)}")
        rate = RateLimit(up * 1000, down * 1000)
    return rate.render(), plan


def _lifted(sub: Subscriber, now: datetime, policy: IspPolicy) -> str | None:
    """Why a debt status does not apply now, if something lifts it."""
    if sub.exempt:
        return "exempt from charges"
    if sub.bonus_until is not None and now < sub.bonus_until:
        return f"bonus until {_until(sub.bonus_until, policy)}"
    if sub.trust is not None and now < sub.trust.until:
        return f"trust unlock until {_until(sub.trust.until, policy)} ({sub.trust.reason})"
    return None


def _until(moment: datetime, policy: IspPolicy) -> str:
    """An end at local midnight is what an operator entered as a date: "the end of" that day."""
    local = moment.astimezone(policy.zone)
    if local.time() == time(0):
        return f"the end of {(local - timedelta(days=1)):%Y-%m-%d}"
    return f"{local:%Y-%m-%d %H:%M}"


def _since(moment: datetime | None, policy: IspPolicy) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(policy.zone)
    return f" since {local:%Y-%m-%d}" if local.time() == time(0) else f" since {local:%Y-%m-%d %H:%M}"


def _blocked_pool(
    pool: PoolRef, attributes: list[tuple[str, object]], reasons: list[str]
) -> tuple[PoolRef, ...]:
    """The blocked pool replaces every other address: the walled garden is routed by address."""
    if pool.mode is PoolMode.NAS:
        attributes.append((POOL_NAME_ATTRIBUTE[pool.kind], pool.name))
        reasons.append(f"blocked pool {pool.name} (the NAS allocates)")
        return ()
    reasons.append(f"lease from blocked pool {pool.name}")
    return (pool,)


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
    for kind in _POOL_KINDS:
        if kind in covered:
            continue
        pool = _pool_of(kind, sub.plan.pools) or _pool_of(kind, facts.nas_pools)
        if pool is None:
            continue
        if pool.mode is PoolMode.NAS:
            attributes.append((POOL_NAME_ATTRIBUTE[kind], pool.name))
            reasons.append(f"{kind.value} pool {pool.name} (the NAS allocates)")
        else:
            leases.append(pool)
            reasons.append(f"{kind.value} lease from pool {pool.name}")
    return tuple(leases)


def _pool_of(kind: PoolKind, pools: tuple[PoolRef, ...]) -> PoolRef | None:
    for pool in pools:
        if pool.kind is kind:
            return pool
    return None
