"""What enforcing one outbox row means: for each open session of the service, what it has,
what the decision gives now, and how to get there on its NAS (database reads only)."""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from aaa.enforcement.surplus import Keep, surplus
from aaa.ipam.pools import load_pools
from aaa.nas.directory import pools_of
from aaa.policies.decide import decide
from aaa.policies.grant import Action, Grant, LiveChange, grant_of, plan_change
from aaa.policies.inputs import RequestFacts
from aaa.settings import PolicySettings
from aaa.snapshots import isp_policy, load_subscribers
from aaa.tables.accounting import AcctSession, AuthLog, AuthResult
from aaa.tables.enforcement import EnforcementAttempt, Method, Result
from aaa.tables.nas import Nas, VendorProfile

# How long after an Access-Accept its Accounting-Start may arrive and still belong to it, and how
# far before the earliest session of a batch accepts are read.
_ACCEPT_TO_START = timedelta(seconds=60)
_ACCEPT_WINDOW = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class NasTarget:
    id: int
    name: str
    host: str | None  # None: the NAS is registered as a network, no single address to send to
    secret: str
    coa_port: int
    vendor: VendorProfile
    api_port: int
    api_username: str | None
    api_password: str | None
    api_tls: bool = False
    api_tls_verify: bool = False

    @property
    def has_api(self) -> bool:
        return self.vendor is VendorProfile.MIKROTIK and bool(self.api_username) and self.host is not None


@dataclass(frozen=True, slots=True)
class SessionTarget:
    row_id: int  # the acct_session row
    service_id: int
    login: str
    nas: NasTarget
    acct_session_id: str
    framed_ip: str | None
    change: LiveChange
    after: Grant | None


def nas_target(nas: Nas) -> NasTarget:
    network = ipaddress.ip_network(nas.address, strict=False)
    host = str(network.network_address) if network.num_addresses == 1 else None
    return NasTarget(
        nas.id,
        nas.name,
        host,
        nas.secret,
        nas.coa_port,
        nas.vendor,
        nas.api_port,
        nas.api_username,
        nas.api_password,
        nas.api_tls,
        nas.api_tls_verify,
    )


def methods_for(change: LiveChange, has_api: bool) -> tuple[list[Method], list[Method]]:
    """(every method the change needs, the fallbacks tried in order if one of them fails).

    A fallback forces a new login (RouterOS API kick, else Disconnect-Request), which carries the
    whole new decision. An address list cannot be left through CoA, so without the API that is a
    reconnect from the start."""
    kick = [Method.API_KICK] if has_api else []
    if change.action is Action.RECONNECT or (change.remove_list and not has_api):
        return [Method.DISCONNECT], kick
    primary = []
    if has_api and (change.add_list or change.remove_list):
        primary.append(Method.API_ADDRESS_LIST)
    if change.rate or change.attributes or (change.add_list and not has_api):
        primary.append(Method.COA)
    return primary, [*kick, Method.DISCONNECT]


def load_targets(
    session: Session,
    service_ids: Collection[int],
    settings: PolicySettings,
    now: datetime,
    disconnect: Keep = "newest",
) -> dict[int, list[SessionTarget]]:
    """One target per open session of each service (an empty list: nothing is online). A batch
    costs a fixed number of queries, however many services it holds. Sessions over the
    service's Simultaneous-Use limit (``disconnect``: the newest or the oldest) are ended."""
    targets: dict[int, list[SessionTarget]] = {service_id: [] for service_id in service_ids}
    sessions = session.scalars(
        select(AcctSession)
        .where(AcctSession.service_id.in_(service_ids), AcctSession.stop_time.is_(None))
        .order_by(AcctSession.id)
    ).all()
    if not sessions:
        return targets
    pools = load_pools(session)
    policy = isp_policy(settings, pools.values())
    subscribers = load_subscribers(session, service_ids)
    nases = {n.id: n for n in session.scalars(select(Nas).where(Nas.id.in_({s.nas_id for s in sessions})))}
    grants = known_grants(session, sessions)
    by_service: dict[int, list[AcctSession]] = {}
    for acct in sessions:
        assert acct.service_id is not None
        by_service.setdefault(acct.service_id, []).append(acct)
    over: set[int] = set()
    for service_id, rows in by_service.items():
        subscriber = subscribers.get(service_id)
        if subscriber is not None:
            over |= surplus(rows, subscriber.simultaneous_use, disconnect)
    for acct in sessions:
        assert acct.service_id is not None
        nas = nases[acct.nas_id]
        after = None
        subscriber = subscribers.get(acct.service_id)
        if subscriber is not None and subscriber.login == acct.login:
            facts = RequestFacts(
                acct.nas_id,
                acct.calling_station_id,
                acct.nas_port_id,
                0,
                (),
                pools_of(nas, pools),
                nas.suspended_action,
            )
            after = grant_of(decide(subscriber, facts, now, policy))
        change = plan_change(grants.get(acct.id), after)
        if acct.id in over:
            limit = subscribers[acct.service_id].simultaneous_use
            change = LiveChange(Action.RECONNECT, f"over the Simultaneous-Use limit of {limit}")
        targets[acct.service_id].append(
            SessionTarget(
                acct.id,
                acct.service_id,
                acct.login,
                nas_target(nas),
                acct.acct_session_id,
                acct.framed_ip,
                change,
                after,
            )
        )
    return targets


def known_grants(session: Session, sessions: Sequence[AcctSession]) -> dict[int, Grant]:
    """What each session has, by its row id: the last change we applied to it, else what its
    Access-Accept gave (the newest accept for that login on that NAS before the session started)."""
    keys = {(s.service_id, s.nas_id, s.acct_session_id): s.id for s in sessions}
    applied: dict[int, Grant] = {}
    rows = session.execute(
        select(
            EnforcementAttempt.service_id,
            EnforcementAttempt.nas_id,
            EnforcementAttempt.acct_session_id,
            EnforcementAttempt.granted,
        )
        .where(
            EnforcementAttempt.service_id.in_({s.service_id for s in sessions}),
            EnforcementAttempt.acct_session_id.in_({s.acct_session_id for s in sessions}),
            EnforcementAttempt.result == Result.ACK,
            EnforcementAttempt.method.in_((Method.COA, Method.API_ADDRESS_LIST)),
        )
        .order_by(EnforcementAttempt.id)
    )
    for service_id, nas_id, acct_session_id, granted in rows:
        row_id = keys.get((service_id, nas_id, acct_session_id))
        if row_id is not None and granted:
            applied[row_id] = Grant.from_json(granted)  # the newest wins
    rest = [s for s in sessions if s.id not in applied]
    if not rest:
        return applied
    bounds = {s.id: (s.start_time or s.last_update) + _ACCEPT_TO_START for s in rest}
    accepts: dict[tuple[str, int], list[tuple[datetime, Any]]] = {}
    for login, nas_id, at, granted in session.execute(
        select(AuthLog.login, AuthLog.nas_id, AuthLog.time, AuthLog.granted)
        .where(
            AuthLog.login.in_({s.login for s in rest}),
            AuthLog.result == AuthResult.ACCEPT,
            AuthLog.time >= min(bounds.values()) - _ACCEPT_WINDOW,
            AuthLog.time <= max(bounds.values()),
        )
        .order_by(AuthLog.time, AuthLog.id)
    ):
        accepts.setdefault((login, nas_id), []).append((at, granted))
    for acct in rest:
        found = accepts.get((acct.login, acct.nas_id), [])
        before = [granted for at, granted in found if at <= bounds[acct.id]]
        if before and before[-1]:
            applied[acct.id] = Grant.from_json(before[-1])
    return applied
