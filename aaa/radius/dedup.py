"""Retransmission detection (RFC 5080 §2.2.2): same source, Identifier and Authenticator."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

Key = tuple[str, int, int, bytes]
PENDING = b""  # the request is being processed; a retransmission is ignored meanwhile
# Expired entries removed per request: far more than the one each request adds, so the store
# keeps up under load and catches up after a pause without walking its whole backlog at once.
EXPIRE_AT_ONCE = 64


class ReplyCache:
    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic):
        self._ttl = ttl
        self._clock = clock
        self._entries: OrderedDict[Key, tuple[float, bytes]] = OrderedDict()
        # No entry expires before this: entries are kept in the order their expiry was set, all
        # with the same ttl, so the oldest's expiry only grows. Requests before it skip the scan.
        self._none_before = 0.0

    def begin(self, key: Key) -> bytes | None:
        """None: new request (now marked pending). Otherwise the cached reply or PENDING."""
        now = self._clock()
        self._expire(now)
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        self._entries[key] = (now + self._ttl, PENDING)
        if entry is not None:  # expired, not yet removed: it goes to the back like a new one
            self._entries.move_to_end(key)
        return None

    def finish(self, key: Key, reply: bytes) -> None:
        self._entries[key] = (self._clock() + self._ttl, reply)
        self._entries.move_to_end(key)

    def forget(self, key: Key) -> None:
        """The request failed without a reply; let the NAS's retransmission try again."""
        self._entries.pop(key, None)

    def _expire(self, now: float) -> None:
        """A few expired entries per request: after a quiet spell, the replies of the busy one
        before it go over many requests, not all within the first one (a stall)."""
        if now < self._none_before:
            return
        entries = self._entries
        for _ in range(EXPIRE_AT_ONCE):
            if not entries:
                self._none_before = now + self._ttl  # what is added from now on
                return
            key, (expires, _) = next(iter(entries.items()))
            if expires > now:
                self._none_before = expires
                return
            del entries[key]

    def __len__(self) -> int:
        return len(self._entries)
