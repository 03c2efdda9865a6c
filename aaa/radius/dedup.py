"""Retransmission detection (RFC 5080 §2.2.2): same source, Identifier and Authenticator."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

Key = tuple[str, int, int, bytes]
PENDING = b""  # the request is being processed; a retransmission is ignored meanwhile


class ReplyCache:
    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic):
        self._ttl = ttl
        self._clock = clock
        self._entries: OrderedDict[Key, tuple[float, bytes]] = OrderedDict()

    def begin(self, key: Key) -> bytes | None:
        """None: new request (now marked pending). Otherwise the cached reply or PENDING."""
        self._expire()
        entry = self._entries.get(key)
        if entry is not None:
            return entry[1]
        self._entries[key] = (self._clock() + self._ttl, PENDING)
        return None

    def finish(self, key: Key, reply: bytes) -> None:
        self._entries[key] = (self._clock() + self._ttl, reply)
        self._entries.move_to_end(key)

    def forget(self, key: Key) -> None:
        """The request failed without a reply; let the NAS's retransmission try again."""
        self._entries.pop(key, None)

    def _expire(self) -> None:
        now = self._clock()
        entries = self._entries
        while entries:
            key, (expires, _) = next(iter(entries.items()))
            if expires > now:
                break
            del entries[key]

    def __len__(self) -> int:
        return len(self._entries)
