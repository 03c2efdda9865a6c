"""The policy layers: a table over status × overlays × speed layers, properties over generated
subscribers, and the grant → live-change planning the enforcer relies on."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aaa.enforcement.targets import methods_for
from aaa.policies.decide import decide
from aaa.policies.decision import Outcome, RejectReason
from aaa.policies.grant import Action, Grant, grant_of, plan_change
from aaa.policies.inputs import (
    CustomSpeed,
    IspPolicy,
    PlanSpeed,
    PoolRef,
    Reduction,
    ReductionKind,
    RequestFacts,
    Subscriber,
    SuspendedAction,
    Trial,
    TrustUnlock,
)
from aaa.policies.ratelimit import RateLimit
from aaa.settings import PolicySettings
from aaa.snapshots import isp_policy
from aaa.tables.enforcement import Method
from aaa.vocabulary.ipam import PoolKind, PoolMode
from aaa.vocabulary.subscribers import ServiceStatus as S

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=9)
EARLIER = NOW - timedelta(seconds=1)
PLAN = PlanSpeed("100M", 100_000, 50_000)
FAST = PlanSpeed("300M", 300_000, 150_000)
SUB = Subscriber(1, "maria", "x", S.ENABLED, PLAN, status_since=datetime(2026, 11, 20, 3, 0, tzinfo=UTC))
FACTS = RequestFacts(1, None, None, 0, ())
ADDRESS_LIST = IspPolicy(suspended_action=SuspendedAction.ADDRESS_LIST)
BLOCKED_POOL = PoolRef(7, "bloqueados", PoolKind.IPV4, PoolMode.NAS)
POOL = IspPolicy(suspended_action=SuspendedAction.POOL, blocked_pool=BLOCKED_POOL)


def rate(d: object) -> str:
    return str(dict(d.attributes)["Mikrotik-Rate-Limit"])  # type: ignore[attr-defined]


# status, overlays, policy -> outcome, Mikrotik-Rate-Limit (rx/tx = upload/download), address list
TABLE = [
    ("plan", S.ENABLED, {}, IspPolicy(), "accept", "50M/100M", None),
    ("trial", S.ENABLED, {"trial": Trial(FAST, LATER)}, IspPolicy(), "accept", "150M/300M", None),
    ("trial ended", S.ENABLED, {"trial": Trial(FAST, EARLIER)}, IspPolicy(), "accept", "50M/100M", None),
    (
        "custom",
        S.ENABLED,
        {"custom": CustomSpeed(300_000, 150_000, LATER)},
        IspPolicy(),
        "accept",
        "150M/300M",
        None,
    ),
    (
        "custom no end",
        S.ENABLED,
        {"custom": CustomSpeed(20_000, 10_000)},
        IspPolicy(),
        "accept",
        "10M/20M",
        None,
    ),
    (
        "custom ended",
        S.ENABLED,
        {"custom": CustomSpeed(20_000, 10_000, EARLIER)},
        IspPolicy(),
        "accept",
        "50M/100M",
        None,
    ),
    (
        "custom over trial",
        S.ENABLED,
        {"trial": Trial(FAST, LATER), "custom": CustomSpeed(20_000, 10_000)},
        IspPolicy(),
        "accept",
        "10M/20M",
        None,
    ),
    ("reduced 30 %", S.REDUCED_DEBT, {}, IspPolicy(), "accept", "15M/30M", None),
    (
        "reduced custom",
        S.REDUCED_DEBT,
        {"custom": CustomSpeed(300_000, 150_000)},
        IspPolicy(),
        "accept",
        "45M/90M",
        None,
    ),
    (
        "reduced absolute",
        S.REDUCED_DEBT,
        {},
        IspPolicy(reduction=Reduction(ReductionKind.ABSOLUTE, download_kbps=1024, upload_kbps=512)),
        "accept",
        "512k/1024k",
        None,
    ),
    (
        "reduced absolute above plan",
        S.REDUCED_DEBT,
        {"custom": CustomSpeed(800, 400)},
        IspPolicy(reduction=Reduction(ReductionKind.ABSOLUTE, download_kbps=1024, upload_kbps=512)),
        "accept",
        "400k/800k",
        None,
    ),
    (
        "reduced, trust unlock",
        S.REDUCED_DEBT,
        {"trust": TrustUnlock(LATER, "promised")},
        IspPolicy(),
        "accept",
        "50M/100M",
        None,
    ),
    (
        "reduced, trust ended",
        S.REDUCED_DEBT,
        {"trust": TrustUnlock(EARLIER, "promised")},
        IspPolicy(),
        "accept",
        "15M/30M",
        None,
    ),
    ("suspended, reject", S.SUSPENDED_DEBT, {}, IspPolicy(), "reject", None, None),
    ("suspended, address list", S.SUSPENDED_DEBT, {}, ADDRESS_LIST, "accept", "512k/512k", "blocked"),
    (
        "suspended, list, slow custom",
        S.SUSPENDED_DEBT,
        {"custom": CustomSpeed(256, 128)},
        ADDRESS_LIST,
        "accept",
        "128k/256k",
        "blocked",
    ),
    ("suspended, pool", S.SUSPENDED_DEBT, {}, POOL, "accept", "512k/512k", None),
    (
        "suspended, trust unlock",
        S.SUSPENDED_DEBT,
        {"trust": TrustUnlock(LATER, "promised")},
        IspPolicy(),
        "accept",
        "50M/100M",
        None,
    ),
    ("suspended, bonus", S.SUSPENDED_DEBT, {"bonus_until": LATER}, IspPolicy(), "accept", "50M/100M", None),
    ("suspended, bonus ended", S.SUSPENDED_DEBT, {"bonus_until": EARLIER}, IspPolicy(), "reject", None, None),
    ("suspended, exempt", S.SUSPENDED_DEBT, {"exempt": True}, IspPolicy(), "accept", "50M/100M", None),
    (
        "blocked manually, trust",
        S.BLOCKED_MANUAL,
        {"trust": TrustUnlock(LATER, "x")},
        ADDRESS_LIST,
        "reject",
        None,
        None,
    ),
    (
        "customer's suspension, exempt",
        S.SUSPENDED_REQUEST,
        {"exempt": True},
        IspPolicy(),
        "reject",
        None,
        None,
    ),
    ("cancelled, bonus", S.CANCELLED, {"bonus_until": LATER}, ADDRESS_LIST, "reject", None, None),
    ("pending install", S.PENDING_INSTALL, {}, IspPolicy(), "reject", None, None),
    ("awaiting migration", S.AWAITING_MIGRATION, {}, IspPolicy(), "reject", None, None),
]


@pytest.mark.parametrize(
    ("status", "overlays", "policy", "outcome", "expected_rate", "address_list"),
    [row[1:] for row in TABLE],
    ids=[row[0] for row in TABLE],
)
def test_layers(
    status: S,
    overlays: dict[str, object],
    policy: IspPolicy,
    outcome: str,
    expected_rate: str | None,
    address_list: str | None,
) -> None:
    d = decide(replace(SUB, status=status, **overlays), FACTS, NOW, policy)  # type: ignore[arg-type]
    assert d.outcome.value == outcome
    if outcome == "accept":
        assert rate(d) == expected_rate
        assert dict(d.attributes).get("Mikrotik-Address-List") == address_list


def test_suspended_reject_names_the_debt() -> None:
    d = decide(replace(SUB, status=S.SUSPENDED_DEBT), FACTS, NOW)
    assert d.reject is RejectReason.SUSPENDED_DEBT
    assert d.reasons == ("status suspended_debt since 2026-11-20 03:00", "reject: suspended_debt")


def test_blocked_pool_replaces_the_fixed_address() -> None:
    sub = replace(SUB, status=S.SUSPENDED_DEBT, fixed=(("Framed-IP-Address", "100.64.0.7"),))
    d = decide(sub, FACTS, NOW, POOL)
    assert dict(d.attributes)["Framed-Pool"] == "bloqueados"
    assert "Framed-IP-Address" not in dict(d.attributes)
    server = replace(BLOCKED_POOL, mode=PoolMode.SERVER)
    d = decide(sub, FACTS, NOW, replace(POOL, blocked_pool=server))
    assert d.lease_from == (server,) and "Framed-Pool" not in dict(d.attributes)


def test_trace_reads_like_the_operator_thinks() -> None:
    sub = replace(
        SUB,
        status=S.REDUCED_DEBT,
        custom=CustomSpeed(300_000, 150_000, datetime(2026, 12, 2, 3, 0, tzinfo=UTC)),  # 00:00 in São Paulo
    )
    policy = isp_policy(PolicySettings(timezone="America/Sao_Paulo"))
    d = decide(sub, FACTS, NOW, policy)
    assert d.trace == (
        "status reduced_debt since 2026-11-20 → plan 100M 100M/50M"
        " → custom 300M/150M until the end of 2026-12-01 → reduced to 30 %: 90M/45M"
    )


def test_trial_and_trust_traces() -> None:
    sub = replace(
        SUB, status=S.SUSPENDED_DEBT, trial=Trial(FAST, LATER), trust=TrustUnlock(LATER, "paga sexta")
    )
    d = decide(sub, FACTS, NOW)
    assert d.reasons == (
        "status suspended_debt since 2026-11-20 03:00",
        "trust unlock until 2026-12-01 12:00 (paga sexta)",
        "plan 100M 100M/50M",
        "trial of plan 300M until 2026-12-01 12:00",
        "plan 300M 300M/150M",
    )


def test_isp_policy_from_settings() -> None:
    pools = [PoolRef(3, "bloqueados", PoolKind.IPV4, PoolMode.SERVER)]
    policy = isp_policy(PolicySettings(suspended_action="pool", blocked_pool="bloqueados"), pools)
    assert policy.blocked_pool == pools[0]
    unknown = isp_policy(PolicySettings(suspended_action="pool", blocked_pool="on-the-router"), pools)
    assert unknown.blocked_pool == PoolRef(0, "on-the-router", PoolKind.IPV4, PoolMode.NAS)


speeds = st.integers(1, 10_000_000)
moments = st.sampled_from([EARLIER, LATER])


@st.composite
def subscribers(draw: st.DrawFn) -> Subscriber:
    plan = PlanSpeed("p", draw(speeds), draw(speeds))
    return replace(
        SUB,
        status=draw(st.sampled_from(list(S))),
        plan=plan,
        trial=draw(st.none() | st.builds(Trial, st.builds(PlanSpeed, st.just("t"), speeds, speeds), moments)),
        custom=draw(st.none() | st.builds(CustomSpeed, speeds, speeds, st.none() | moments)),
        trust=draw(st.none() | st.builds(TrustUnlock, moments, st.just("r"))),
        bonus_until=draw(st.none() | moments),
        exempt=draw(st.booleans()),
    )


policies = st.builds(
    IspPolicy,
    suspended_action=st.sampled_from(list(SuspendedAction)),
    reduction=st.builds(Reduction, st.sampled_from(list(ReductionKind)), st.integers(1, 100), speeds, speeds),
)


@given(sub=subscribers(), policy=policies)
def test_properties(sub: Subscriber, policy: IspPolicy) -> None:
    d = decide(sub, FACTS, NOW, policy)
    lifted = sub.exempt or (sub.bonus_until == LATER) or (sub.trust is not None and sub.trust.until == LATER)
    if sub.status not in (S.ENABLED, S.REDUCED_DEBT, S.SUSPENDED_DEBT, S.REDUCED_MANUAL):
        assert d.outcome is Outcome.REJECT  # a cancelled (blocked, pending...) service is never accepted
    if d.outcome is Outcome.REJECT:
        return
    effective = decide(replace(sub, status=S.ENABLED), FACTS, NOW, policy)
    got, full = RateLimit.parse(rate(d)), RateLimit.parse(rate(effective))
    assert got.rx_rate <= full.rx_rate and got.tx_rate <= full.tx_rate  # never above the effective speed
    if sub.status is S.ENABLED or (lifted and sub.status is not S.REDUCED_MANUAL):  # nothing lifts it
        assert rate(d) == rate(effective) and "Mikrotik-Address-List" not in dict(d.attributes)
    if sub.status is S.SUSPENDED_DEBT and not lifted:
        assert policy.suspended_action is not SuspendedAction.REJECT
        assert got.tx_rate <= policy.blocked_download_kbps * 1000


# --- grants and live changes ---------------------------------------------------------------

BEFORE = Grant("50M/100M", None, ("Framed-IP-Address=100.64.0.7",))


@pytest.mark.parametrize(
    ("after", "action", "rate_", "add", "remove"),
    [
        (BEFORE, Action.IN_SYNC, None, None, None),
        (replace(BEFORE, rate="15M/30M"), Action.LIVE, "15M/30M", None, None),
        (
            replace(BEFORE, rate="512k/512k", address_list="blocked"),
            Action.LIVE,
            "512k/512k",
            "blocked",
            None,
        ),
        (replace(BEFORE, addresses=("Framed-Pool=bloqueados",)), Action.RECONNECT, None, None, None),
        (None, Action.RECONNECT, None, None, None),
    ],
)
def test_plan_change(
    after: Grant | None, action: Action, rate_: str | None, add: str | None, remove: str | None
) -> None:
    change = plan_change(BEFORE, after)
    assert (change.action, change.rate, change.add_list, change.remove_list) == (action, rate_, add, remove)


def test_leaving_an_address_list() -> None:
    change = plan_change(replace(BEFORE, address_list="blocked", rate="512k/512k"), BEFORE)
    assert (change.action, change.rate, change.remove_list) == (Action.LIVE, "50M/100M", "blocked")
    # Without the RouterOS API a CoA cannot take an address off a list: reconnect instead.
    assert methods_for(change, has_api=False) == ([Method.DISCONNECT], [])
    assert methods_for(change, has_api=True) == (
        [Method.API_ADDRESS_LIST, Method.COA],
        [Method.API_KICK, Method.DISCONNECT],
    )


def test_unknown_grant_sends_everything_live() -> None:
    change = plan_change(None, BEFORE)
    assert (change.action, change.rate) == (Action.LIVE, "50M/100M")
    assert methods_for(change, has_api=False) == ([Method.COA], [Method.DISCONNECT])


def test_grant_of_names_server_leases_by_pool() -> None:
    pool = PoolRef(1, "cgnat", PoolKind.IPV4, PoolMode.SERVER)
    d = decide(replace(SUB, plan=replace(SUB.plan, pools=(pool,))), FACTS, NOW)
    leased = replace(d, attributes=(*d.attributes, ("Framed-IP-Address", "100.64.0.9")))
    assert grant_of(leased) == grant_of(d) == Grant("50M/100M", None, ("lease:cgnat",))
    assert Grant.from_json(Grant("1M/1M", "blocked", ("a=b",)).to_json()) == Grant(
        "1M/1M", "blocked", ("a=b",)
    )
