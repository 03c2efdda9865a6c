"""What stands before a password check: rate limits, the source lockout, and the hashing slots.

Per source address and per login, attempts a minute are limited (``limits``' moving window);
wrong passwords from one address beyond ``source_lockout_failures`` within the lockout window
lock that address out until the window has passed (audited when it starts). The per-login
lockout after wrong passwords in a row lives with the operator (``aaa.operators.service``),
so it holds across processes and nodes and an administrator can see and lift it.

Argon2 is built to be slow: each check takes tens of milliseconds of CPU. At most
``login_concurrency`` run at once; a login beyond that is answered 429 at once instead of
queueing on the API's thread pool, where it would starve every other request.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from limits import RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from aaa.errors import TooMany
from aaa.settings import ApiSettings


class LoginGuard:
    def __init__(self, settings: ApiSettings, redis_url: str = ""):
        # With Redis the limits hold across every API process and node; without, per process.
        storage = storage_from_string(redis_url) if redis_url else MemoryStorage()
        assert isinstance(storage, Storage)
        self._limiter = MovingWindowRateLimiter(storage)
        self._per_source = RateLimitItemPerMinute(settings.login_rate_per_source)
        self._per_login = RateLimitItemPerMinute(settings.login_rate_per_login)
        window = max(1, int(settings.lockout_minutes * 60))
        self._failures = RateLimitItemPerSecond(settings.source_lockout_failures, window)
        self.lockout_seconds = window
        self._slots = settings.login_concurrency

    def admit(self, source: str, login: str) -> None:
        """Raise TooMany when this attempt is over a limit (counted either way)."""
        if not self._limiter.test(self._failures, "login-failures", source):
            raise TooMany(
                f"too many wrong passwords from {source}; this address may try again in "
                f"{self.lockout_seconds // 60} minute(s)",
                retry_after=self.lockout_seconds,
            )
        if not self._limiter.hit(self._per_source, "login-source", source):
            raise TooMany(f"too many login attempts from {source}; wait a minute", retry_after=60)
        if not self._limiter.hit(self._per_login, "login-login", login.lower()):
            raise TooMany(f"too many login attempts for {login!r}; wait a minute", retry_after=60)

    def failed(self, source: str) -> bool:
        """Count a wrong password from ``source``; True when this one locks the address out."""
        self._limiter.hit(self._failures, "login-failures", source)
        return not self._limiter.test(self._failures, "login-failures", source)

    @contextmanager
    def hashing(self) -> Iterator[None]:
        """A slot for one password check (call on the event loop thread only)."""
        if self._slots <= 0:
            raise TooMany("too many logins at once; retry in a second", retry_after=1)
        self._slots -= 1
        try:
            yield
        finally:
            self._slots += 1
