"""NUL characters: PostgreSQL's text and JSONB cannot hold them, so input carrying one is refused
where it enters (SQLite would store what PostgreSQL refuses: both databases answer alike)."""

from __future__ import annotations

from typing import Any


def contains_nul(value: Any) -> bool:
    """True when any string in ``value`` (nested dicts and lists, keys included) holds a NUL."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(contains_nul(v) for v in value)
    return False
