"""decide(): every branch as a table row, plus properties over generated inputs."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aaa.policies.decide import decide, normalize_mac
from aaa.policies.decision import Decision, Outcome, RejectReason
from aaa.policies.inputs import OpenSession, PlanSpeed, RequestFacts, Subscriber
from aaa.vocabulary.messages import MESSAGES
from aaa.vocabulary.subscribers import MacBinding, ServiceStatus

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
PLAN = PlanSpeed("Fibra 100M", 100_000, 50_000)
SUB = Subscriber(service_id=1, login="maria", password="x", status=ServiceStatus.ENABLED, plan=PLAN)
MAC = "AA:BB:CC:DD:EE:01"
FACTS = RequestFacts(
    nas_id=1, calling_station_id=MAC, nas_port_id="ether2", interim_interval=300, open_sessions=()
)


def other_session(**kw: object) -> OpenSession:
    base = {
        "nas_id": 2,
        "acct_session_id": "81a00001",
        "calling_station_id": "AA:BB:CC:DD:EE:99",
        "nas_port_id": "ether3",
    }
    return OpenSession(**{**base, **kw})  # type: ignore[arg-type]


def test_plain_accept() -> None:
    assert decide(SUB, FACTS, NOW) == Decision(
        Outcome.ACCEPT,
        (("Mikrotik-Rate-Limit", "50M/100M"), ("Acct-Interim-Interval", 300)),
        ("plan Fibra 100M 100M/50M",),
    )


def test_fixed_ip_and_burst() -> None:
    plan = PlanSpeed("Fibra 300M", 300_000, 150_000, 400_000, 200_000, None, None, 8)
    d = decide(replace(SUB, plan=plan, fixed=(("Framed-IP-Address", "100.64.10.2"),)), FACTS, NOW)
    assert d.attributes == (
        ("Mikrotik-Rate-Limit", "150M/300M 200M/400M 150M/300M 8/8"),
        ("Framed-IP-Address", "100.64.10.2"),
        ("Acct-Interim-Interval", 300),
    )
    assert d.trace == "plan Fibra 300M 300M/150M → fixed 100.64.10.2"


def test_interim_zero_is_not_sent() -> None:
    d = decide(SUB, replace(FACTS, interim_interval=0), NOW)
    assert all(name != "Acct-Interim-Interval" for name, _ in d.attributes)


NOT_SERVING = [
    s for s in ServiceStatus if s.value not in ("enabled", "suspended_debt", "reduced_debt", "reduced_manual")
]


@pytest.mark.parametrize("status", NOT_SERVING)
def test_statuses_without_service_are_rejected(status: ServiceStatus) -> None:
    d = decide(replace(SUB, status=status), FACTS, NOW)
    assert d.outcome is Outcome.REJECT and d.reject is RejectReason.NOT_ENABLED
    assert d.reasons == (f"status {status.value}", "reject: service_not_enabled")


# binding, registered MAC, request MAC -> outcome, learned MAC
MAC_TABLE = [
    (MacBinding.OFF, None, MAC, Outcome.ACCEPT, None),
    (MacBinding.OFF, "AA:BB:CC:DD:EE:02", MAC, Outcome.ACCEPT, None),
    (MacBinding.ENFORCE, MAC, MAC, Outcome.ACCEPT, None),
    (MacBinding.ENFORCE, MAC, "aa-bb-cc-dd-ee-01", Outcome.ACCEPT, None),
    (MacBinding.ENFORCE, "AA:BB:CC:DD:EE:02", MAC, Outcome.REJECT, None),
    (MacBinding.ENFORCE, None, MAC, Outcome.REJECT, None),
    (MacBinding.ENFORCE, MAC, None, Outcome.REJECT, None),
    (MacBinding.LEARN, None, MAC, Outcome.ACCEPT, MAC),
    (MacBinding.LEARN, None, None, Outcome.REJECT, None),
    (MacBinding.LEARN, MAC, MAC, Outcome.ACCEPT, None),
    (MacBinding.LEARN, "AA:BB:CC:DD:EE:02", MAC, Outcome.REJECT, None),
]


@pytest.mark.parametrize(("binding", "registered", "given_mac", "outcome", "learned"), MAC_TABLE)
def test_mac_binding(
    binding: MacBinding, registered: str | None, given_mac: str | None, outcome: Outcome, learned: str | None
) -> None:
    d = decide(
        replace(SUB, mac_binding=binding, mac=registered), replace(FACTS, calling_station_id=given_mac), NOW
    )
    assert d.outcome is outcome
    assert d.learn_mac == learned
    if outcome is Outcome.REJECT:
        assert d.reject is RejectReason.MAC_MISMATCH


def test_flags_for_the_auth_log() -> None:
    d = decide(replace(SUB, mac="AA:BB:CC:DD:EE:02", nas_port_id="ether9"), FACTS, NOW)
    assert d.outcome is Outcome.ACCEPT
    assert d.flags == frozenset({"mac_differs", "interface_differs"})
    assert decide(replace(SUB, mac=MAC, nas_port_id="ether2"), FACTS, NOW).flags == frozenset()


# limit, open sessions -> outcome
SIM_TABLE = [
    (1, (), Outcome.ACCEPT),
    (1, (other_session(),), Outcome.REJECT),
    (2, (other_session(),), Outcome.ACCEPT),
    (2, (other_session(), other_session(acct_session_id="2")), Outcome.REJECT),
    (0, (other_session(), other_session(acct_session_id="2")), Outcome.ACCEPT),  # 0 = no limit
    # the same CPE redialling on the same NAS and port does not count against itself
    (1, (other_session(nas_id=1, calling_station_id=MAC, nas_port_id="ether2"),), Outcome.ACCEPT),
    (
        1,
        (other_session(nas_id=1, calling_station_id="aa:bb:cc:dd:ee:01", nas_port_id="ether2"),),
        Outcome.ACCEPT,
    ),
    (1, (other_session(nas_id=1, calling_station_id=MAC, nas_port_id="ether3"),), Outcome.REJECT),
    (1, (other_session(nas_id=2, calling_station_id=MAC, nas_port_id="ether2"),), Outcome.REJECT),
]


@pytest.mark.parametrize(("limit", "sessions", "outcome"), SIM_TABLE)
def test_simultaneous_use(limit: int, sessions: tuple[OpenSession, ...], outcome: Outcome) -> None:
    d = decide(replace(SUB, simultaneous_use=limit), replace(FACTS, open_sessions=sessions), NOW)
    assert d.outcome is outcome
    if outcome is Outcome.REJECT:
        assert d.reject is RejectReason.SIMULTANEOUS_USE


def test_unknown_sessions_fail_closed() -> None:
    d = decide(SUB, replace(FACTS, open_sessions=None), NOW)
    assert d.reject is RejectReason.SESSIONS_UNKNOWN
    assert (
        decide(replace(SUB, simultaneous_use=0), replace(FACTS, open_sessions=None), NOW).outcome
        is Outcome.ACCEPT
    )


def test_status_is_checked_before_mac_and_sessions() -> None:
    sub = replace(
        SUB, status=ServiceStatus.BLOCKED_MANUAL, mac_binding=MacBinding.ENFORCE, mac="AA:BB:CC:DD:EE:02"
    )
    assert (
        decide(sub, replace(FACTS, open_sessions=(other_session(),)), NOW).reject is RejectReason.NOT_ENABLED
    )


def test_unknown_login_and_wrong_password_read_the_same() -> None:
    assert RejectReason.UNKNOWN_LOGIN.message_key == RejectReason.WRONG_PASSWORD.message_key
    assert "login ou senha" in MESSAGES[RejectReason.WRONG_PASSWORD.message_key]
    keys = {reason.message_key for reason in RejectReason}
    assert keys == set(MESSAGES)  # every reject has a message, and every message a reject


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("AA:BB:CC:DD:EE:01", "AA:BB:CC:DD:EE:01"),
        ("aa-bb-cc-dd-ee-01", "AA:BB:CC:DD:EE:01"),
        ("aabb.ccdd.ee01", "AA:BB:CC:DD:EE:01"),
        ("AABBCCDDEE01", "AA:BB:CC:DD:EE:01"),
        ("aa:bb:cc:dd:ee:0f", "AA:BB:CC:DD:EE:0F"),
        (" AA:BB:CC:DD:EE:0F", "AA:BB:CC:DD:EE:0F"),
        ("10.0.0.5", "10.0.0.5"),
        ("", None),
        (None, None),
    ],
)
def test_normalize_mac(raw: str | None, normal: str | None) -> None:
    assert normalize_mac(raw) == normal


statuses = st.sampled_from(list(ServiceStatus))
sessions = st.lists(
    st.builds(
        OpenSession,
        st.integers(1, 3),
        st.text(min_size=1, max_size=4),
        st.sampled_from([MAC, "AA:BB:CC:DD:EE:02", None]),
        st.sampled_from(["ether2", "ether3", None]),
    ),
    max_size=4,
).map(tuple)


@given(
    status=statuses,
    limit=st.integers(0, 3),
    open_=sessions,
    binding=st.sampled_from(list(MacBinding)),
    registered=st.sampled_from([None, MAC, "AA:BB:CC:DD:EE:02"]),
)
def test_properties(
    status: ServiceStatus,
    limit: int,
    open_: tuple[OpenSession, ...],
    binding: MacBinding,
    registered: str | None,
) -> None:
    sub = replace(SUB, status=status, simultaneous_use=limit, mac_binding=binding, mac=registered)
    d = decide(sub, replace(FACTS, open_sessions=open_), NOW)
    if status not in (ServiceStatus.ENABLED, ServiceStatus.REDUCED_DEBT, ServiceStatus.REDUCED_MANUAL):
        assert d.outcome is Outcome.REJECT  # e.g. a cancelled service is never accepted
    if d.outcome is Outcome.ACCEPT:
        expected = "50M/100M" if status is ServiceStatus.ENABLED else "15M/30M"  # 30 % when reduced
        assert d.reject is None and dict(d.attributes)["Mikrotik-Rate-Limit"] == expected
        assert limit == 0 or len(open_) < limit or any(s.nas_id == 1 for s in open_)
    else:
        assert d.reject is not None and d.attributes == () and d.reasons[-1] == f"reject: {d.reject.value}"
