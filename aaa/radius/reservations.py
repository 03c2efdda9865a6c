"""Accepts still waiting for their Accounting-Start, held against Simultaneous-Use in a worker.

Between an Access-Accept and the Start that records its session, the login looks offline: a
burst of requests from several CPEs would each be accepted. A worker therefore counts its own
recent accepts of a login as open sessions, until a Start for the same CPE (NAS, MAC, port)
shows up among the real ones or ``seconds`` pass. Accepts made by other workers or nodes are
not seen here; what gets through that way is ended by the enforcer (aaa.enforcement.surplus).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from aaa.policies.decide import cpe
from aaa.policies.inputs import OpenSession

_NONE: frozenset[str] = frozenset()


class Reservations:
    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.seconds = seconds
        self._clock = clock
        self._by_login: dict[str, list[_Place]] = {}
        self._swept = clock()

    def add(self, login: str, place: OpenSession, sessions: tuple[OpenSession, ...]) -> None:
        """Hold ``place`` (an accept; ``sessions``: the login's open sessions it was decided on).
        An accept of a CPE replaces that CPE's earlier place."""
        if self.seconds <= 0:
            return
        now = self._clock()
        if now - self._swept > self.seconds:
            self._sweep(now)
        replaced = (
            frozenset(s.acct_session_id for s in sessions if _same_cpe(s, place)) if sessions else _NONE
        )
        fresh = _Place(now + self.seconds, place, replaced)
        held = self._by_login.get(login)
        if held:
            here = cpe(place)
            self._by_login[login] = [p for p in held if cpe(p.session) != here] + [fresh]
        else:
            self._by_login[login] = [fresh]

    def with_open(self, login: str, sessions: tuple[OpenSession, ...]) -> tuple[OpenSession, ...]:
        """``sessions`` plus this worker's places still waiting for their Start."""
        held = self._by_login.get(login)
        if not held:
            return sessions
        now = self._clock()
        if sessions:
            waiting = [p for p in held if p.until > now and not any(p.started_by(s) for s in sessions)]
        else:  # the login is offline: its places wait for their Starts
            waiting = [p for p in held if p.until > now]
        if waiting:
            self._by_login[login] = waiting
        else:
            del self._by_login[login]
        return (*sessions, *(p.session for p in waiting))

    def _sweep(self, now: float) -> None:
        self._swept = now
        for login in list(self._by_login):
            live = [p for p in self._by_login[login] if p.until > now]
            if live:
                self._by_login[login] = live
            else:
                del self._by_login[login]


@dataclass(frozen=True, slots=True)
class _Place:
    until: float
    session: OpenSession
    replaced: frozenset[str]  # the CPE's sessions open at the accept: its redial ends them

    def started_by(self, other: OpenSession) -> bool:
        """``other`` is the session this place waited for: same CPE, not one it replaced."""
        return _same_cpe(other, self.session) and other.acct_session_id not in self.replaced


def _same_cpe(a: OpenSession, b: OpenSession) -> bool:
    return cpe(a) == cpe(b)
