"""Accepts still waiting for their Accounting-Start, held against Simultaneous-Use in a worker.

Between an Access-Accept and the Start that records its session, the login looks offline: a
burst of requests from several CPEs would each be accepted. A worker therefore counts its own
recent accepts of a login as open sessions, until a Start for the same CPE (NAS, MAC, port)
shows up among the real ones or ``seconds`` pass. Accepts made by other workers or nodes are
not seen here; what gets through that way is ended by the enforcer (aaa.enforcement.surplus).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from aaa.policies.decide import cpe
from aaa.policies.inputs import OpenSession
from aaa.radius.dedup import EXPIRE_AT_ONCE

# A place is a tuple of plain values: (until, NAS id, MAC, NAS port, the CPE's session ids open
# at the accept, which its redial ends). The collector stops tracking such tuples once it has
# seen them, so the places held (one per login accepted in the last ``seconds``: tens of
# thousands under load) add nothing to its pauses, where objects would be walked by each one.
_Place = tuple[float, int, str | None, str | None, tuple[str, ...]]
Cpe = tuple[int, str | None, str | None]


class Reservations:
    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.seconds = seconds
        self._clock = clock
        self._by_login: dict[str, tuple[_Place, ...]] = {}
        # (until, login) of every place held, oldest first: what expires is found at the
        # front, a little at each accept, never by walking every login held at once.
        self._expiry: deque[tuple[float, str]] = deque()

    def add(self, login: str, place: OpenSession, sessions: tuple[OpenSession, ...]) -> None:
        """Hold ``place`` (an accept; ``sessions``: the login's open sessions it was decided on).
        An accept of a CPE replaces that CPE's earlier place."""
        if self.seconds <= 0:
            return
        now = self._clock()
        self._expire(now)
        here = cpe(place)
        replaced = tuple(s.acct_session_id for s in sessions if cpe(s) == here) if sessions else ()
        fresh = (now + self.seconds, *here, replaced)
        held = self._by_login.get(login)
        if held:
            self._by_login[login] = (*(p for p in held if p[1:4] != here), fresh)
        else:
            self._by_login[login] = (fresh,)
        self._expiry.append((fresh[0], login))

    def with_open(self, login: str, sessions: tuple[OpenSession, ...]) -> tuple[OpenSession, ...]:
        """``sessions`` plus this worker's places still waiting for their Start."""
        held = self._by_login.get(login)
        if not held:
            return sessions
        now = self._clock()
        if sessions:
            started = [(cpe(s), s.acct_session_id) for s in sessions]
            waiting = tuple(p for p in held if p[0] > now and not _started(p, started))
        else:  # the login is offline: its places wait for their Starts
            waiting = tuple(p for p in held if p[0] > now)
        if waiting:
            self._by_login[login] = waiting
        else:
            del self._by_login[login]
        return (*sessions, *(OpenSession(p[1], "", p[2], p[3]) for p in waiting))

    def _expire(self, now: float) -> None:
        """At most EXPIRE_AT_ONCE places (see aaa.radius.dedup): places past their time that
        are still held are not counted (``with_open``)."""
        expiry = self._expiry
        for _ in range(EXPIRE_AT_ONCE):
            if not expiry or expiry[0][0] > now:
                return
            login = expiry.popleft()[1]
            held = self._by_login.get(login)
            if held is None:
                continue
            live = tuple(p for p in held if p[0] > now)
            if live:
                self._by_login[login] = live
            else:
                del self._by_login[login]


def _started(place: _Place, sessions: list[tuple[Cpe, str]]) -> bool:
    """One of ``sessions`` is the session ``place`` waited for: same CPE, not one it replaced."""
    return any(where == place[1:4] and session_id not in place[4] for where, session_id in sessions)
