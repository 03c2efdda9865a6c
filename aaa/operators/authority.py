"""Who may grant what: the rules that keep an administrator from raising anyone above itself.

Pure functions over :class:`Rights`. Whoever manages an operator (creates it, edits its rights,
resets its password, deactivates or disconnects it, clones permissions onto it, mints or
revokes its keys) must already hold everything that operator holds before and after the
change: its permissions, its cities and superuser. So nobody grants what they do not hold, a
city-limited administrator cannot touch an operator of every city, only a superuser manages a
superuser, and an API key (never a superuser) acts within its own scopes. Nobody changes their
own rights.
"""

from __future__ import annotations

from dataclasses import dataclass

from aaa.errors import Forbidden


@dataclass(frozen=True)
class Rights:
    """What a principal or an operator holds. ``cities`` None: every city."""

    superuser: bool
    permissions: frozenset[str]
    cities: frozenset[str] | None

    @classmethod
    def of(
        cls, superuser: bool, permissions: frozenset[str] | set[str], cities: list[str] | tuple[str, ...]
    ) -> Rights:
        places = frozenset(" ".join(c.split()).lower() for c in cities if c.strip())
        return cls(superuser, frozenset(permissions), places or None)


def lacking(actor: Rights, wanted: Rights) -> list[str]:
    """What ``wanted`` holds that ``actor`` does not, in words (empty: ``actor`` covers it)."""
    if actor.superuser:
        return []
    missing = ["superuser"] if wanted.superuser else []
    missing += [f"permission {p!r}" for p in sorted(wanted.permissions - actor.permissions)]
    if actor.cities is not None:
        if wanted.cities is None:
            missing.append("every city")
        else:
            missing += [f"city {c!r}" for c in sorted(wanted.cities - actor.cities)]
    return missing


def check_manage(
    actor: Rights, actor_id: int, target_id: int | None, before: Rights | None, after: Rights, what: str
) -> None:
    """Raise Forbidden unless ``actor`` may take an operator from ``before`` (None: new) to
    ``after``. ``what`` names the action for the message ("edit operator 'ana'")."""
    if (after.superuser or (before is not None and before.superuser)) and not actor.superuser:
        raise Forbidden(f"only a superuser may {what}: it is a superuser or would become one")
    if target_id is not None and target_id == actor_id and before is not None and before != after:
        raise Forbidden(
            "nobody changes their own rights (permissions, roles, cities, superuser); "
            "ask another administrator"
        )
    if before is not None and (missing := lacking(actor, before)):
        raise Forbidden(f"cannot {what}: it holds what you do not ({', '.join(missing)})")
    if missing := lacking(actor, after):
        raise Forbidden(f"cannot {what}: nobody grants what they do not hold ({', '.join(missing)})")


def check_role(actor: Rights, permissions: list[str] | set[str], what: str) -> None:
    """A role carries only permissions its editor holds."""
    if missing := lacking(actor, Rights(False, frozenset(permissions), actor.cities)):
        raise Forbidden(f"cannot {what}: nobody grants what they do not hold ({', '.join(missing)})")
