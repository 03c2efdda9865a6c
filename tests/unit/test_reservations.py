"""A worker's accepts held against Simultaneous-Use until their Starts arrive."""

from __future__ import annotations

import gc

from aaa.policies.decide import Cpe
from aaa.policies.inputs import OpenSession
from aaa.radius.dedup import EXPIRE_AT_ONCE
from aaa.radius.reservations import Reservations


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def place(mac: str, port: str = "ether2") -> OpenSession:
    return OpenSession(1, "", mac, port)


def cpe(mac: str, port: str = "ether2") -> Cpe:
    return (1, mac, port)


def test_places_wait_for_their_starts_and_a_cpe_holds_one() -> None:
    clock = Clock()
    held = Reservations(15, clock)
    held.add("maria", cpe("AA:BB:CC:00:00:01"), ())
    held.add("maria", cpe("AA:BB:CC:00:00:01"), ())  # the same CPE redialling
    held.add("maria", cpe("AA:BB:CC:00:00:02"), ())
    assert [s.calling_station_id for s in held.with_open("maria", ())] == [
        "AA:BB:CC:00:00:01",
        "AA:BB:CC:00:00:02",
    ]
    started = OpenSession(1, "s-1", "AA:BB:CC:00:00:01", "ether2")
    assert held.with_open("maria", (started,)) == (started, place("AA:BB:CC:00:00:02"))
    clock.now += 16
    assert held.with_open("maria", (started,)) == (started,)
    assert held.with_open("joao", ()) == ()


def test_the_session_a_redial_replaces_is_not_its_start() -> None:
    held = Reservations(15, Clock())
    old = OpenSession(1, "old", "AA:BB:CC:00:00:01", "ether2")
    held.add("maria", cpe("AA:BB:CC:00:00:01"), (old,))
    assert held.with_open("maria", (old,)) == (old, place("AA:BB:CC:00:00:01"))
    new = OpenSession(1, "new", "AA:BB:CC:00:00:01", "ether2")
    assert held.with_open("maria", (new,)) == (new,)


def test_held_places_are_nothing_for_the_collector_to_walk() -> None:
    held = Reservations(15, Clock())
    for n in range(100):
        held.add(f"cli{n}", cpe("AA:BB:CC:00:00:01"), ())
    gc.collect()  # a place, then the tuple of a login's places (once its places are untracked)
    gc.collect()
    assert not any(gc.is_tracked(places) or gc.is_tracked(places[0]) for places in held._by_login.values())


def test_nothing_is_held_when_reservations_are_off() -> None:
    held = Reservations(0, Clock())
    held.add("maria", cpe("AA:BB:CC:00:00:01"), ())
    assert held.with_open("maria", ()) == ()


def test_expired_places_go_as_accepts_come_a_few_at_a_time() -> None:
    clock = Clock()
    held = Reservations(15, clock)
    for n in range(100):
        held.add(f"cli{n}", cpe("AA:BB:CC:00:00:01"), ())
    clock.now += 16
    held.add("maria", cpe("AA:BB:CC:00:00:01"), ())
    assert len(held._by_login) == 100 - EXPIRE_AT_ONCE + 1  # not the whole backlog at once
    assert held.with_open("cli99", ()) == ()  # past its time: not counted while still held
    held.add("joao", cpe("AA:BB:CC:00:00:01"), ())
    assert sorted(held._by_login) == ["joao", "maria"]


def test_the_requests_own_cpe_is_not_counted_against_it() -> None:
    held = Reservations(15, Clock())
    held.add("maria", cpe("AA:BB:CC:00:00:01"), ())
    held.add("maria", cpe("AA:BB:CC:00:00:02"), ())
    assert held.with_open("maria", (), cpe("AA:BB:CC:00:00:01")) == (place("AA:BB:CC:00:00:02"),)
    assert held.with_open("maria", (), cpe("AA:BB:CC:00:00:02")) == (place("AA:BB:CC:00:00:01"),)
    assert len(held.with_open("maria", (), cpe("AA:BB:CC:00:00:03"))) == 2


def test_a_login_accepted_again_and_again_is_queued_once() -> None:
    clock = Clock()
    held = Reservations(15, clock)
    for _ in range(10):
        held.add("maria", cpe("AA:BB:CC:00:00:01"), ())
        clock.now += 1.2  # each accept within the place's 15 s
    assert len(held._expiry) == 1
    clock.now = 116.0  # maria's first look is due; her newest place lives until 125.8
    held.add("joao", cpe("AA:BB:CC:00:00:01"), ())
    assert [login for _, login in held._expiry] == ["maria", "joao"]  # maria looked at again later
    assert len(held.with_open("maria", ())) == 1
    clock.now = 126.0
    assert held.with_open("maria", ()) == ()  # past its time: not counted
    clock.now = 132.0  # joao's and maria's looks are due: both dropped
    held.add("ana", cpe("AA:BB:CC:00:00:01"), ())
    assert sorted(held._by_login) == ["ana"]


def test_a_login_whose_places_started_is_not_queued_twice() -> None:
    clock = Clock()
    held = Reservations(15, clock)
    held.add("maria", cpe("AA:BB:CC:00:00:01"), ())
    started = OpenSession(1, "s-1", "AA:BB:CC:00:00:01", "ether2")
    assert held.with_open("maria", (started,)) == (started,)
    held.add("maria", cpe("AA:BB:CC:00:00:02"), (started,))
    assert len(held._expiry) == 1
    assert held.with_open("maria", (started,)) == (started, place("AA:BB:CC:00:00:02"))
    clock.now += 16
    held.add("joao", cpe("AA:BB:CC:00:00:01"), ())
    assert "maria" not in held._by_login
