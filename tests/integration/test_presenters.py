"""Lists cost a constant number of statements, however many rows they show: the presenters
batch what each row needs (addresses held, customer addresses, roles) instead of asking per row."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event

from tests.api_client import Api, person

CPFS = [
    "52601815906", "08301661305", "18609139034", "99603082430", "62819482112",
    "99351819019", "93786579741", "54323194897", "75749118606", "25276018987",
]  # fmt: skip


@contextmanager
def counted() -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", count)


def _statements(api: Api, path: str) -> int:
    with counted() as statements:
        api.get(path)
    return len(statements)


def test_lists_cost_the_same_for_five_rows_and_for_fifty(api: Api) -> None:
    plan = api.post(
        "/plans",
        {"name": "Fibra", "download_kbps": 100_000, "upload_kbps": 50_000, "price": "99.90"},
        expect=201,
    )
    folder = api.post("/ipam/folders", {"name": "Fixos"}, expect=201)
    subnet = api.post(
        "/ipam/subnets", {"folder_id": folder["id"], "cidr": "100.64.0.0/24", "purpose": "fixed"}, expect=201
    )
    customers = [api.post("/customers", person(cpf), expect=201) for cpf in CPFS]
    for n in range(50):
        service = api.post(
            "/services",
            {"customer_id": customers[n % 10]["id"], "plan_id": plan["id"], "login": f"cliente{n}"},
            expect=201,
        )
        if n % 2:
            api.post(f"/services/{service['id']}/addresses", {"subnet_id": subnet["id"]}, expect=201)
    for n in range(8):
        api.post(
            "/operators",
            {"login": f"atendente{n}", "name": f"Atendente {n}", "password": "uma-senha-longa-1"},
            expect=201,
        )

    for path in ("/services", "/customers", "/operators"):
        few, many = _statements(api, f"{path}?limit=5"), _statements(api, f"{path}?limit=50")
        assert few == many, f"{path}: {few} statements for 5 rows, {many} for 50"
        assert many <= 12, f"{path}: {many} statements"
    listed = api.get("/services?limit=50")["items"]
    assert sum(1 for s in listed if s["fixed_ipv4"]) == 25
    assert all(s["addresses"] == ([] if s["fixed_ipv4"] is None else s["addresses"]) for s in listed)
