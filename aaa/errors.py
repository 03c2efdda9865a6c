"""Domain errors. They carry no transport: the CLI, the API and RADIUS each map them once."""

from __future__ import annotations


class DomainError(Exception):
    """Base class; the message says what is wrong and what to do about it."""


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    pass


class Invalid(DomainError):
    pass


class Unauthenticated(DomainError):
    """No valid credentials (missing, wrong, expired or revoked token)."""


class Forbidden(DomainError):
    """Authenticated, but missing the permission the action needs."""


class TooMany(DomainError):
    """Refused for now (a rate limit, a lockout, every slot busy); ``retry_after`` in seconds."""

    def __init__(self, message: str, retry_after: int = 60):
        super().__init__(message)
        self.retry_after = retry_after
