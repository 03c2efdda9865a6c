"""Accepts still waiting for their Accounting-Start, held against Simultaneous-Use in a worker.

Between an Access-Accept and the Start that records its session, the login looks offline: a
burst of requests from several CPEs would each be accepted. A worker therefore counts its own
recent accepts of a login as open sessions, until a Start for the same CPE (NAS, MAC, port)
shows up among the real ones or ``seconds`` pass. Accepts made by other workers or nodes are
not seen here; what gets through that way is ended by the enforcer (aaa.enforcement.surplus).

Every accept passes through here, so the common cases cost no objects: a CPE dialling again
replaces its own place, and the request's own CPE is never counted against it (a redial
replaces its session), so a login whose only place is this CPE's gets nothing added.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from aaa.policies.decide import Cpe, cpe
from aaa.policies.inputs import OpenSession
from aaa.radius.dedup import EXPIRE_AT_ONCE

# A place is a tuple of plain values: (until, NAS id, MAC, NAS port, the CPE's session ids open
# at the accept, which its redial ends). The collector stops tracking such tuples once it has
# seen them, so the places held (one per login accepted in the last ``seconds``: tens of
# thousands under load) add nothing to its pauses, where objects would be walked by each one.
# A login's places are in the order they were taken, so the first one expires first.
_Place = tuple[float, int, str | None, str | None, tuple[str, ...]]


class Reservations:
    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.seconds = seconds
        self._clock = clock
        # Every login holding places (an empty tuple: none left, until its next look).
        self._by_login: dict[str, tuple[_Place, ...]] = {}
        # (when, login): when each held login is looked at next, oldest first. One entry per
        # login, not per accept: a login accepted again and again costs the queue nothing, and
        # what expires is found at the front, a little at each accept, never by walking every
        # login held at once.
        self._expiry: deque[tuple[float, str]] = deque()

    def add(self, login: str, here: Cpe, sessions: tuple[OpenSession, ...]) -> None:
        """Hold a place for an accept of the CPE ``here`` (``sessions``: the login's open
        sessions it was decided on). An accept of a CPE replaces that CPE's earlier place."""
        if self.seconds <= 0:
            return
        now = self._clock()
        self._expire(now)
        replaced = tuple(s.acct_session_id for s in sessions if cpe(s) == here) if sessions else ()
        fresh = (now + self.seconds, *here, replaced)
        held = self._by_login.get(login)
        if held is None:
            self._by_login[login] = (fresh,)
            self._expiry.append((fresh[0], login))
        elif len(held) == 1 and held[0][1:4] == here:  # the same CPE again: the usual redial
            self._by_login[login] = (fresh,)
        else:
            self._by_login[login] = (*(p for p in held if p[1:4] != here), fresh)

    def with_open(
        self, login: str, sessions: tuple[OpenSession, ...], here: Cpe | None = None
    ) -> tuple[OpenSession, ...]:
        """``sessions`` plus this worker's places still waiting for their Start, but for the
        places of the CPE ``here`` (the request's own, which its redial replaces)."""
        held = self._by_login.get(login)
        if not held:
            return sessions
        now = self._clock()
        if sessions:
            started = [(cpe(s), s.acct_session_id) for s in sessions]
            waiting = tuple(p for p in held if p[0] > now and not _started(p, started))
        elif held[0][0] > now:  # offline, and the oldest place is live: all of them wait
            waiting = held
        else:
            waiting = tuple(p for p in held if p[0] > now)
        if waiting is not held:
            self._by_login[login] = waiting
        counted = [p for p in waiting if p[1:4] != here]
        if not counted:
            return sessions
        return (*sessions, *(OpenSession(p[1], "", p[2], p[3]) for p in counted))

    def _expire(self, now: float) -> None:
        """Look at up to EXPIRE_AT_ONCE logins due (see aaa.radius.dedup): one with no place
        left is dropped, one with places still live is looked at again ``seconds`` later.
        Places past their time that are still held are not counted (``with_open``)."""
        expiry, by_login = self._expiry, self._by_login
        for _ in range(EXPIRE_AT_ONCE):
            if not expiry or expiry[0][0] > now:
                return
            login = expiry.popleft()[1]
            held = by_login.get(login)
            if held is None:
                continue
            if not held or held[-1][0] <= now:  # the newest place is the last to expire
                del by_login[login]
                continue
            if held[0][0] <= now:
                by_login[login] = tuple(p for p in held if p[0] > now)
            expiry.append((now + self.seconds, login))


def _started(place: _Place, sessions: list[tuple[Cpe, str]]) -> bool:
    """One of ``sessions`` is the session ``place`` waited for: same CPE, not one it replaced."""
    return any(where == place[1:4] and session_id not in place[4] for where, session_id in sessions)
