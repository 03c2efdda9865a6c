"""What enforcing one outbox row means: for each open session of the service, what it has,
what the decision gives now, and how to get there on its NAS (database reads only)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from aaa.accounting.models import AcctSession, AuthLog, AuthResult
from aaa.enforcement.models import EnforcementAttempt, Method, Result
from aaa.nas.models import Nas, VendorProfile
from aaa.policies.decide import decide
from aaa.policies.grant import Action, Grant, LiveChange, grant_of, plan_change
from aaa.policies.model import RequestFacts, isp_policy
from aaa.settings import PolicySettings
from aaa.subscribers.models import Service
from aaa.subscribers.snapshot import load_pools, load_subscriber

# How long after an Access-Accept its Accounting-Start may arrive and still belong to it.
_ACCEPT_TO_START = timedelta(seconds=60)


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

    @property
    def has_api(self) -> bool:
        return self.vendor is VendorProfile.MIKROTIK and bool(self.api_username) and self.host is not None


@dataclass(frozen=True, slots=True)
class SessionTarget:
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
    if change.rate or (change.add_list and not has_api):
        primary.append(Method.COA)
    return primary, [*kick, Method.DISCONNECT]


def load_targets(
    session: Session, service_id: int, settings: PolicySettings, now: datetime
) -> list[SessionTarget]:
    """One target per open session of the service (none: nothing is online)."""
    sessions = session.scalars(
        select(AcctSession).where(AcctSession.service_id == service_id, AcctSession.stop_time.is_(None))
    ).all()
    if not sessions:
        return []
    service = session.get(Service, service_id)
    pools = load_pools(session)
    policy = isp_policy(settings, pools.values())
    subscriber = load_subscriber(session, service.login) if service and service.login else None
    nases = {n.id: n for n in session.scalars(select(Nas).where(Nas.id.in_({s.nas_id for s in sessions})))}
    targets = []
    for acct in sessions:
        nas = nases[acct.nas_id]
        after = None
        if subscriber is not None:
            nas_pools = tuple(
                pools[i] for i in (nas.ipv4_pool_id, nas.ipv6_pool_id, nas.ipv6_pd_pool_id) if i is not None
            )
            facts = RequestFacts(acct.nas_id, acct.calling_station_id, acct.nas_port_id, 0, (), nas_pools)
            after = grant_of(decide(subscriber, facts, now, policy))
        change = plan_change(known_grant(session, acct), after)
        targets.append(
            SessionTarget(
                service_id, acct.login, nas_target(nas), acct.acct_session_id, acct.framed_ip, change, after
            )
        )
    return targets


def known_grant(session: Session, acct: AcctSession) -> Grant | None:
    """What the session has: the last change we applied to it, else what its Access-Accept gave."""
    applied = session.scalar(
        select(EnforcementAttempt.granted)
        .where(
            EnforcementAttempt.service_id == acct.service_id,
            EnforcementAttempt.nas_id == acct.nas_id,
            EnforcementAttempt.acct_session_id == acct.acct_session_id,
            EnforcementAttempt.result == Result.ACK,
            EnforcementAttempt.method.in_((Method.COA, Method.API_ADDRESS_LIST)),
        )
        .order_by(EnforcementAttempt.id.desc())
        .limit(1)
    )
    if applied:
        return Grant.from_json(applied)
    started = acct.start_time or acct.last_update
    accepted = session.scalar(
        select(AuthLog.granted)
        .where(
            AuthLog.login == acct.login,
            AuthLog.nas_id == acct.nas_id,
            AuthLog.result == AuthResult.ACCEPT,
            AuthLog.time <= started + _ACCEPT_TO_START,
        )
        .order_by(AuthLog.time.desc(), AuthLog.id.desc())
        .limit(1)
    )
    return Grant.from_json(accepted) if accepted else None
