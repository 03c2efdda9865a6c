"""The attendant's search box through the API, on SQLite and PostgreSQL: names without accents
or case, CPF/CNPJ and phones with or without punctuation, e-mail, PPPoE login, IP (fixed or of
an online session), MAC; typed results; the operator's cities only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tests.api_client import CNPJ, CPF, CPF2, fixed_subnet, person
from tests.conftest import make_nas
from tests.integration.test_enforcement import go_online

PLAN = {"name": "Fibra", "price": "99.90", "download_kbps": 100_000, "upload_kbps": 50_000}


def found(api: Any, q: str) -> list[tuple[str, str]]:
    return [(hit["kind"], hit["label"]) for hit in api.get("/search", params={"q": q})["items"]]


def world(api: Any, factory: sessionmaker[Session]) -> dict[str, Any]:
    plan = api.post("/plans", PLAN, expect=201)["id"]
    joao = api.post(
        "/customers",
        person(CPF, name="João Souza", phones=["(37) 98888-1234"], emails=["Joao.Souza@Example.com"]),
        expect=201,
    )
    padaria = api.post(
        "/customers",
        person(
            CNPJ,
            kind="company",
            name="Padaria Bom Preço LTDA",
            trade_name="Pão Quente",
            phones=["3333-4444"],
            emails=[],
        ),
        expect=201,
    )
    longe = api.post("/customers", person(CPF2, city="Arcos", name="João de Arcos"), expect=201)
    ana = api.post(
        "/services",
        {"customer_id": joao["id"], "plan_id": plan, "login": "ana.souza", "mac": "aa-bb-cc-00-11-22"},
        expect=201,
    )
    subnet = fixed_subnet(api)
    api.post(
        f"/services/{ana['id']}/addresses", {"subnet_id": subnet["id"], "address": "100.64.0.9"}, expect=201
    )
    pao = api.post(
        "/services", {"customer_id": padaria["id"], "plan_id": plan, "login": "padaria"}, expect=201
    )
    with factory.begin() as s:
        nas_id = make_nas(s)
    go_online(factory, "padaria", nas_id, "81a0000f", "100.65.3.4")
    return {"joao": joao, "padaria": padaria, "longe": longe, "ana": ana, "pao": pao}


def test_one_box_finds_customers_services_and_sessions(api: Any, factory: sessionmaker[Session]) -> None:
    w = world(api, factory)
    assert found(api, "joao souza") == [("customer", "João Souza")]
    assert sorted(found(api, "JOÃO")) == [("customer", "João Souza"), ("customer", "João de Arcos")]
    assert found(api, "bom preco") == [("customer", "Padaria Bom Preço LTDA")]
    assert found(api, "pao quente") == [("customer", "Padaria Bom Preço LTDA")]
    for document in ("529.982.247-25", "52998224725"):
        hits = api.get("/search", params={"q": document})["items"]
        assert [(h["kind"], h["id"], h["why"]) for h in hits] == [("customer", w["joao"]["id"], "document")]
    assert found(api, "11.222.333/0001-81") == [("customer", "Padaria Bom Preço LTDA")]
    assert found(api, "(37) 98888-1234") == [("customer", "João Souza")]
    assert found(api, "joao.souza@example.com") == [("customer", "João Souza")]
    assert found(api, "ANA.SOUZA") == [("service", "ana.souza")]
    assert found(api, "ana.") == [("service", "ana.souza")]  # a login's beginning
    assert found(api, "100.64.0.9") == [("service", "ana.souza")]  # its fixed IP
    assert found(api, "100.65.3.4") == [("session", "padaria")]  # online with this address
    assert found(api, "AABB.CC00.1122") == [("service", "ana.souza")]
    hit = api.get("/search", params={"q": "100.64.0.9"})["items"][0]
    assert (hit["customer_id"], hit["service_id"], hit["why"]) == (w["joao"]["id"], w["ana"]["id"], "address")
    assert api.get("/search", params={"q": "x"}, expect=422)
    assert api.get("/search", params={"q": "ninguém"})["items"] == []


def test_the_search_stays_in_the_operator_s_cities(api: Any, factory: sessionmaker[Session]) -> None:
    world(api, factory)
    api.post(
        "/operators",
        {
            "login": "formiga",
            "name": "Formiga",
            "password": "operator-password-1",
            "permissions": ["customers.read", "services.read", "sessions.read"],
            "cities": ["Formiga"],
        },
        expect=201,
    )
    city = api.login("formiga", "operator-password-1")
    assert found(city, "joao") == [("customer", "João Souza")]  # not João de Arcos
    reader = "customers.read"
    api.post(
        "/operators",
        {"login": "leitor", "name": "L", "password": "operator-password-1", "permissions": [reader]},
        expect=201,
    )
    names_only = api.login("leitor", "operator-password-1")
    assert found(names_only, "ana.souza") == []  # services need services.read


def test_the_migration_indexes_the_search_line(api: Any, factory: sessionmaker[Session]) -> None:
    """A trigram index on PostgreSQL (pg_trgm), a plain one on SQLite; and a customer's line."""
    made = api.post("/customers", person(CPF, name="Zé Ninguém", phones=["(37) 3322-1100"]), expect=201)
    with factory() as s:
        if s.get_bind().dialect.name == "sqlite":
            query = "SELECT sql FROM sqlite_master WHERE name = 'ix_customer_search_trgm'"
            assert "search_text" in s.execute(text(query)).scalar_one()
        else:
            query = "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_customer_search_trgm'"
            assert "gin_trgm_ops" in s.execute(text(query)).scalar_one()
        line = s.execute(
            text("SELECT search_text FROM customer WHERE id = :i"), {"i": made["id"]}
        ).scalar_one()
    assert line.startswith("ze ninguem 52998224725 3733221100")


def test_what_looks_like_a_mac_and_what_does_not() -> None:
    from aaa.search import _mac

    assert _mac("AABB.CC00.1122") == _mac("aa-bb-cc-00-11-22") == "AA:BB:CC:00:11:22"
    assert _mac("aabbcc001122") == "AA:BB:CC:00:11:22"
    assert _mac("553799990000") is None  # a phone number with the country code
    assert _mac("cliente65432@example.com") is None  # an e-mail with 12 hex letters in it
