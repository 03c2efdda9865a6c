"""Logins are unique whatever their case, on SQLite and PostgreSQL: the API refuses a second
spelling and names the holder; a database that already has such a pair is reported by the
migration, not merged, and gets the index once the pair is renamed."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import text

from aaa.db.migrate import downgrade, upgrade
from tests.api_client import CPF2, person
from tests.conftest import make_service
from tests.integration.test_api import setup_service


def test_a_second_spelling_of_a_login_is_refused(api: Any) -> None:
    ana = setup_service(api, login="Ana.Souza")
    customer = api.post("/customers", person(CPF2), expect=201)["id"]
    body = {"customer_id": customer, "plan_id": ana["plan_id"], "login": "ana.souza"}
    detail = api.post("/services", body, expect=409)["detail"]
    assert f"already used by service {ana['id']}" in detail and "as 'Ana.Souza'" in detail
    assert api.patch(f"/services/{ana['id']}", {"login": "ANA.SOUZA"})["login"] == "ANA.SOUZA"  # itself


def test_the_migration_reports_existing_pairs_and_merges_nothing(
    db_url: str, factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with factory.begin() as s:
        make_service(s, login="ana")
        make_service(s, login="bob")
    downgrade(db_url, "0012")  # before logins were unique whatever their case
    with factory.begin() as s:
        s.execute(text("UPDATE service SET login = 'ANA' WHERE login = 'bob'"))
    with caplog.at_level(logging.WARNING):
        upgrade(db_url)
    said = " ".join(r.getMessage() for r in caplog.records)
    assert "'ana'" in said and "'ANA'" in said and "rename all but one" in said
    assert not has_index(factory)
    with factory() as s:
        assert sorted(s.scalars(text("SELECT login FROM service"))) == ["ANA", "ana"]  # both kept
    with factory.begin() as s:
        s.execute(text("UPDATE service SET login = 'carla' WHERE login = 'ANA'"))
    downgrade(db_url, "0012")
    upgrade(db_url)
    assert has_index(factory)


def has_index(factory: Any) -> bool:
    """Expression indexes by name (SQLAlchemy's reflection skips them on SQLite)."""
    with factory() as s:
        if s.get_bind().dialect.name == "sqlite":
            query = (
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'uq_service_login_lower'"
            )
        else:
            query = "SELECT count(*) FROM pg_indexes WHERE indexname = 'uq_service_login_lower'"
        return bool(s.execute(text(query)).scalar_one())
