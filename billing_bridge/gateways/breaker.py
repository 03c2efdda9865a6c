"""A provider that keeps failing is left alone for a while: its charges wait, nothing blocks."""

from __future__ import annotations

import logging
import time

log = logging.getLogger(__name__)


class Breaker:
    def __init__(self, failures: int, seconds: float):
        self.failures, self.seconds = failures, seconds
        self._count = 0
        self._open_until = 0.0

    def allows(self) -> bool:
        return time.monotonic() >= self._open_until

    def failed(self, name: str) -> None:
        self._count += 1
        if self._count >= self.failures:
            self._open_until, self._count = time.monotonic() + self.seconds, 0
            log.warning("%s: %d failures in a row; no calls for %.0f s", name, self.failures, self.seconds)

    def succeeded(self) -> None:
        self._count = 0
