"""Dropped requests, said at WARNING with the fix, without flooding the log.

A NAS that gets no answer is silent on its side; the only place the cause shows is here. The
first drop of each (source address, cause) is logged at once with what to do about it; later
ones within ``window`` seconds are counted and said in one summary line when the next one comes
after the window.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("aaa.radius.drops")

_FIX = {
    "unknown_nas": "no NAS registered for this address (aaa nas add --name NAME --address {source} ...)",
    "missing_message_authenticator": "{detail}: RouterOS before 7.15 does not send it; set "
    "require_message_authenticator=no (or auto) for this NAS, or upgrade it",
    "bad_message_authenticator": "its Message-Authenticator does not verify: the shared secret differs "
    "between the NAS and this server (compare /radius secret with the NAS's, or rotate it)",
    "bad_authenticator": "its Request Authenticator does not verify: the shared secret differs between "
    "the NAS and this server (compare /radius secret with the NAS's, or rotate it)",
    "proxy_state_without_ma": "Proxy-State without Message-Authenticator (BlastRADIUS): make the proxy "
    "send Message-Authenticator, or set radius.limit_proxy_state = false",
}


class DropLog:
    def __init__(self, window: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.window = window
        self._clock = clock
        self._seen: dict[tuple[str, str], tuple[float, int]] = {}  # (source, cause) -> (said at, since)

    def dropped(self, source: str, cause: str, detail: str, extra: dict[str, Any] | None = None) -> None:
        """``extra``: the log record's extras (the packet's correlation id)."""
        fix = _FIX.get(cause)
        if fix is None:  # malformed packets and the like: counted in metrics, logged at DEBUG
            return
        now = self._clock()
        key = (source, cause)
        said = self._seen.get(key)
        if said is not None and now - said[0] < self.window:
            self._seen[key] = (said[0], said[1] + 1)
            return
        if len(self._seen) > 10_000:
            self._seen.clear()
        self._seen[key] = (now, 0)
        more = f" ({said[1]} more since the last line)" if said is not None and said[1] else ""
        text = fix.format(source=source, detail=detail)
        log.warning("request from %s dropped: %s%s", source, text, more, extra=extra)
