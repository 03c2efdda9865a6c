"""Sessions of the operator console: a session token held in an HttpOnly cookie, ended by logout,
by its lifetime (``api.token_ttl_hours``) or by ``api.console_idle_minutes`` without a page.

The token is an ordinary session token (the API's ``authenticate`` reads the rights anew on every
request, so a revoked operator or a removed permission counts at once); this module adds the idle
clock and the CSRF token that every form and htmx request of that session must carry.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from aaa.errors import Unauthenticated
from aaa.operators.service import Principal, authenticate, open_session, revoke
from aaa.tables.operators import ConsoleSession, Operator, TokenKind

CONSOLE = "console"  # the token's name: sessions of the console, apart from the API's logins
# A page within this of the last one does not write: the clock is minutes, not seconds.
_SEEN_GRANULARITY = timedelta(seconds=30)


def open_console_session(session: Session, operator: Operator, ttl: timedelta, now: datetime) -> str:
    token, row = open_session(session, operator, ttl)
    row.name = CONSOLE
    session.add(ConsoleSession(token_id=row.id, seen_at=now))
    session.flush()
    return token


def resume(session: Session, token: str, now: datetime, idle: timedelta) -> Principal:
    """The operator behind a console cookie; an idle session is ended here (revoked), so the
    same cookie never works again."""
    who = authenticate(session, token, now)
    seen = session.get(ConsoleSession, who.token_id)
    if seen is None or who.kind is not TokenKind.SESSION:
        raise Unauthenticated("not a console session; log in again")
    if now - seen.seen_at > idle:
        revoke(session, who.token_id)
        raise Unauthenticated("the session ended after inactivity; log in again")
    if now - seen.seen_at > _SEEN_GRANULARITY:
        seen.seen_at = now
    return who


def csrf_token(token: str) -> str:
    """The session's CSRF token: derived from the session token by a one-way function, so it
    needs no storage and reveals nothing of the cookie; a page of another site cannot read it."""
    return hashlib.sha256(b"isp-aaa console csrf\x00" + token.encode()).hexdigest()


def csrf_matches(token: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(csrf_token(token), given)
