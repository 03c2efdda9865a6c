"""The audit log's flush hook: every flush that adds, changes or deletes an audited row (a model
declaring ``__audit__``) writes one entry per row with the before and after of each changed
column (secrets masked), attributed to the session's actor. Derived from the ORM's own change
tracking, so no code path can forget it. Installed by the composition root (FLUSH_HOOKS).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, inspect
from sqlalchemy.orm import Session

from aaa.audit.log import actor_of, entry_row, plain
from aaa.tables.audit import AuditEntry
from aaa.vocabulary.audit import Audited

MASKED = "***"
_SECRET_FIELDS = frozenset({"password", "password_hash", "secret", "token_hash", "api_password"})
_SKIP_FIELDS = frozenset({"id", "created_at", "updated_at", "failed_logins"})  # lockouts: explicit entries


def after_flush(session: Session, _context: object) -> None:
    actor = actor_of(session)
    rows = []
    for objects, action in (
        (session.new, "created"),
        (session.dirty, "updated"),
        (session.deleted, "deleted"),
    ):
        for obj in objects:
            audited = getattr(type(obj), "__audit__", None)
            if not isinstance(audited, Audited):
                continue
            changes = _diff(obj, action)
            if not changes:
                continue
            customer_id, service_id = audited.owners(obj)
            rows.append(
                entry_row(
                    actor,
                    entity=audited.entity,
                    entity_id=obj.id,
                    action=action,
                    customer_id=customer_id,
                    service_id=service_id,
                    changes=changes,
                    note=None,
                )
            )
    if rows:
        session.connection().execute(insert(AuditEntry), rows)


def creation_rows(session: Session, created: list[tuple[Any, int]]) -> list[dict[str, Any]]:
    """The entries the flush hook would write for new rows that are inserted without the ORM
    (an import's chunk): (object as built, its new id) each. Insert them with the rows."""
    actor = actor_of(session)
    rows = []
    for obj, new_id in created:
        audited = getattr(type(obj), "__audit__", None)
        assert isinstance(audited, Audited)
        obj.id = new_id
        customer_id, service_id = audited.owners(obj)
        rows.append(
            entry_row(
                actor,
                entity=audited.entity,
                entity_id=new_id,
                action="created",
                customer_id=customer_id,
                service_id=service_id,
                changes=_created(obj),
                note=None,
            )
        )
    return rows


def _created(obj: Any) -> dict[str, list[Any]]:
    """``_diff(obj, "created")`` for a row built but never flushed: its set columns, read from the
    instance's own values (the attribute history would say the same, at ten times the cost)."""
    audited = _audited_columns(type(obj))
    changes: dict[str, list[Any]] = {}
    for key, value in inspect(obj).dict.items():
        if value is None or key not in audited:
            continue
        changes[key] = [None, MASKED if key in _SECRET_FIELDS else plain(value)]
    return changes


_AUDITED_COLUMNS: dict[type, frozenset[str]] = {}


def _audited_columns(model: type) -> frozenset[str]:
    """The column attributes of ``model`` an audit entry shows (an import asks 100,000 times)."""
    found = _AUDITED_COLUMNS.get(model)
    if found is None:
        mapper: Any = inspect(model)
        found = frozenset(attr.key for attr in mapper.column_attrs) - _SKIP_FIELDS
        _AUDITED_COLUMNS[model] = found
    return found


def _diff(obj: Any, action: str) -> dict[str, list[Any]]:
    state = inspect(obj)
    changes: dict[str, list[Any]] = {}
    for attr in state.mapper.column_attrs:
        if attr.key in _SKIP_FIELDS:
            continue
        history = state.attrs[attr.key].history
        if action == "created":
            before, after = None, _first(history.added, state.dict.get(attr.key))
        elif action == "deleted":
            before, after = _first(history.deleted or history.unchanged, None), None
        elif history.has_changes():
            before, after = _first(history.deleted, None), _first(history.added, None)
        else:
            continue
        if before == after:
            continue
        if attr.key in _SECRET_FIELDS:
            before, after = (MASKED if before else None), (MASKED if after else None)
        changes[attr.key] = [plain(before), plain(after)]
    for rel in state.mapper.relationships:
        if not rel.uselist or rel.secondary is None:
            continue
        history = state.attrs[rel.key].history
        if history.has_changes() or (action == "created" and history.added):
            before = sorted(o.id for o in (*history.unchanged, *history.deleted))
            after = sorted(o.id for o in (*history.unchanged, *history.added))
            if before != after:
                changes[rel.key] = [before, after]
    return changes


def _first(values: Any, default: Any) -> Any:
    return values[0] if values else default
