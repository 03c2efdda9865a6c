"""Per-worker subscriber snapshots: the reason an Access-Request needs no SQL.

Entries live until the change feed says their subscriber changed; a session opened or closed
changes the entry's open sessions in place. Unknown logins are remembered for a short time so a
flood of bad logins cannot turn into a flood of queries.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from aaa import metrics
from aaa.policies.inputs import OpenSession, Subscriber

_HIT = metrics.child(metrics.CACHE_LOOKUPS, "hit")
_MISS = metrics.child(metrics.CACHE_LOOKUPS, "miss")
_NEGATIVE = metrics.child(metrics.CACHE_LOOKUPS, "negative")
_STALE = metrics.child(metrics.CACHE_LOOKUPS, "stale")  # served while the database was unreachable
_OPENED = metrics.child(metrics.CACHE_SESSION_UPDATES, "opened")
_CLOSED = metrics.child(metrics.CACHE_SESSION_UPDATES, "closed")
_ECHO = metrics.child(metrics.CACHE_SESSION_UPDATES, "stale_open_ignored")

# How long a worker remembers the sessions it saw closed: far longer than any feed poll or Redis
# delivery takes, so a late copy of a session's opening cannot count it again.
REMEMBER_CLOSED = 30.0
_FORGET_AT_ONCE = 64  # remembered closes dropped per call at most (no pause under a storm)

SessionKey = tuple[str, int, str]  # login, NAS, Acct-Session-Id


@dataclass(slots=True)
class Entry:
    subscriber: Subscriber | None  # None: the login does not exist
    sessions: tuple[OpenSession, ...]  # the login's open sessions, for Simultaneous-Use
    expires: float  # only for unknown logins


class SubscriberCache:
    def __init__(self, negative_ttl: float, clock: Callable[[], float] = time.monotonic):
        self._entries: dict[str, Entry] = {}
        # The last known snapshot of each invalidated login: served only when the database
        # cannot be reached to reload it (radius.database_down = "serve_from_cache").
        self._stale: dict[str, Entry] = {}
        self._negative_ttl = negative_ttl
        self._clock = clock
        # A worker hears of a session change more than once (its own commit at once, then the
        # feed poll; Redis and the poll), and a copy may come late: an opening read by a poll
        # before the Stop was applied here would count the closed session again. Each session
        # closed here lately, with its start, and each NAS's last Accounting-On/Off tell such a
        # copy from a new session (one that starts later).
        self._closed: dict[SessionKey, tuple[datetime, float]] = {}  # its start, when closed
        self._closed_order: deque[tuple[float, SessionKey]] = deque()
        self._nas_closed_until: dict[int, datetime] = {}

    def get(self, login: str) -> Entry | None:
        """A usable entry, or None when the login must be loaded from the database."""
        entry = self._entries.get(login)
        if entry is not None and entry.subscriber is None and entry.expires < self._clock():
            del self._entries[login]
            entry = None
        if entry is None:
            _MISS.inc()
        else:
            (_HIT if entry.subscriber else _NEGATIVE).inc()
        return entry

    def put(self, login: str, subscriber: Subscriber | None, sessions: tuple[OpenSession, ...]) -> Entry:
        entry = Entry(subscriber, sessions, self._clock() + self._negative_ttl)
        self._entries[login] = entry
        self._stale.pop(login, None)
        return entry

    def stale(self, login: str) -> Entry | None:
        """The snapshot this login had before its last invalidation, if it was a subscriber."""
        entry = self._stale.get(login)
        if entry is not None:
            _STALE.inc()
        return entry

    def fill(self, subscribers: dict[str, Subscriber], sessions: dict[str, tuple[OpenSession, ...]]) -> None:
        """Start-up: every subscriber at once, so a restarted worker does not query per login."""
        for login, subscriber in subscribers.items():
            self._entries[login] = Entry(subscriber, sessions.get(login, ()), 0.0)

    def invalidate(self, login: str, kind: str = "service") -> None:
        """Drop a login: its service or its open sessions changed; the next request reloads."""
        entry = self._entries.pop(login, None)
        if entry is not None:
            metrics.CACHE_INVALIDATIONS.labels(kind).inc()
            if entry.subscriber is not None:
                self._stale[login] = entry

    def session_opened(self, login: str, opened: OpenSession) -> None:
        """Accounting opened a session of ``login``: its snapshot counts it, in place (one not
        cached is loaded with its sessions at its next request). A late copy of the opening of
        a session already closed here is ignored."""
        if self._closed_already(login, opened):
            _ECHO.inc()
            return
        for entries in (self._entries, self._stale):
            entry = entries.get(login)
            if entry is not None and entry.subscriber is not None:
                kept = tuple(
                    s
                    for s in entry.sessions
                    if s.nas_id != opened.nas_id or s.acct_session_id != opened.acct_session_id
                )
                entry.sessions = (*kept, opened)
        _OPENED.inc()

    def session_closed(self, login: str, nas_id: int, acct_session_id: str) -> None:
        """A Stop (or the reaper) closed a session of ``login``: its snapshot no longer counts it."""
        key = (login, nas_id, acct_session_id)
        self._forget_closed()
        for entries in (self._entries, self._stale):
            entry = entries.get(login)
            if entry is not None and entry.sessions:
                kept = []
                for s in entry.sessions:
                    if s.nas_id != nas_id or s.acct_session_id != acct_session_id:
                        kept.append(s)
                    elif s.start_time is not None:
                        self._remember_closed(key, s.start_time)
                entry.sessions = tuple(kept)
        _CLOSED.inc()

    def _remember_closed(self, key: SessionKey, start: datetime) -> None:
        now = self._clock()
        known = self._closed.get(key)
        self._closed[key] = (max(start, known[0]) if known else start, now)
        self._closed_order.append((now, key))

    def _forget_closed(self) -> None:
        order, forget_before = self._closed_order, self._clock() - REMEMBER_CLOSED
        for _ in range(_FORGET_AT_ONCE):
            if not order or order[0][0] > forget_before:
                return
            at, key = order.popleft()
            known = self._closed.get(key)
            if known is not None and known[1] == at:  # not closed again since
                del self._closed[key]

    def _closed_already(self, login: str, opened: OpenSession) -> bool:
        """``opened`` started no later than a session of the same key closed here, or than its
        NAS's last Accounting-On/Off: a late copy of a change already superseded."""
        start = opened.start_time
        if start is None:
            return False
        closed = self._closed.get((login, opened.nas_id, opened.acct_session_id))
        if closed is not None and start <= closed[0]:
            return True
        until = self._nas_closed_until.get(opened.nas_id)
        return until is not None and start <= until

    def close_nas_sessions(self, nas_id: int, until: datetime) -> None:
        """Accounting-On/Off: the NAS's sessions started by ``until`` (or at an unknown time)
        are closed. They leave the snapshots in place, so the NAS's subscribers, all dialling
        again, are answered from memory; one started later stays counted."""
        self._nas_closed_until[nas_id] = max(until, self._nas_closed_until.get(nas_id, until))
        for entries in (self._entries, self._stale):
            for entry in entries.values():
                if any(s.nas_id == nas_id for s in entry.sessions):
                    entry.sessions = tuple(
                        s
                        for s in entry.sessions
                        if s.nas_id != nas_id or (s.start_time is not None and s.start_time > until)
                    )

    def clear(self) -> None:
        self._entries.clear()
        self._stale.clear()
        self._closed.clear()
        self._closed_order.clear()
        self._nas_closed_until.clear()

    def __len__(self) -> int:
        return len(self._entries)
