"""The operator console over HTTP, in process (the browser tests are tests/e2e/test_console_browser.py):
its session cookie, CSRF, permissions and city scope, each attacked the way a forged request
would, and every screen rendered in Portuguese."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient

from tests.api_client import ADMIN_PASSWORD, CPF2, Api, admin_app, fixed_subnet, person


@pytest.fixture
def console(db_url: str) -> Iterator[tuple[TestClient, Api]]:
    with admin_app(db_url) as app, TestClient(app, client=("203.0.113.9", 50000)) as client:
        api = Api(TestClient(app, client=("203.0.113.7", 50000))).login("admin", ADMIN_PASSWORD)
        yield client, api


def log_in(client: TestClient, login: str, password: str) -> str:
    """Logs the browser in; returns the page's CSRF token."""
    answer = client.post("/app/entrar", data={"login": login, "senha": password}, follow_redirects=True)
    assert answer.status_code == 200, answer.text
    return csrf_of(answer.text)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
    assert found, html[:2000]
    return found.group(1)


def seed(api: Api, city: str = "Formiga", document: str | None = None, login: str = "joao") -> dict[str, Any]:
    plan = api.get("/plans")["items"]
    plan_id = plan[0]["id"] if plan else api.post("/plans", {"name": "Fibra 100", "price": "99.90",
                                                             "download_kbps": 100_000, "upload_kbps": 50_000},
                                                  expect=201)["id"]  # fmt: skip
    body = person(city=city, name="João da Silva")
    if document:
        body["document"] = document
    customer = api.post("/customers", body, expect=201)
    return api.post("/services", {"customer_id": customer["id"], "plan_id": plan_id, "login": login,
                                  "password": "senha-do-joao"}, expect=201)  # fmt: skip


def operator(api: Api, login: str, permissions: list[str], cities: list[str] | None = None) -> str:
    password = f"{login}-Senha-Forte-123"
    api.post("/operators", {"login": login, "name": login, "password": password, "permissions": permissions,
                            "cities": cities or []}, expect=201)  # fmt: skip
    return password


def test_pages_need_a_session_and_answer_in_portuguese(console: tuple[TestClient, Api]) -> None:
    client, api = console
    service = seed(api)
    away = client.get(f"/app/servicos/{service['id']}", follow_redirects=False)
    assert away.status_code == 303 and away.headers["location"].startswith("/app/entrar?voltar=")
    assert client.get("/", follow_redirects=False).headers["location"] == "/app/"
    wrong = client.post("/app/entrar", data={"login": "admin", "senha": "errada"})
    assert wrong.status_code == 401 and "Login ou senha incorretos." in wrong.text
    log_in(client, "admin", ADMIN_PASSWORD)
    cookie = next(c for c in client.cookies.jar if c.name == "aaa_console")
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.path == "/app"
    listed = client.get("/app/busca", params={"q": "joao"})  # the customer's name and the login
    assert "2 resultado(s)" in listed.text and "Cliente" in listed.text and "Serviço" in listed.text
    found = client.get("/app/busca", params={"q": "silva"}, follow_redirects=False)  # one: opened
    assert found.status_code == 303 and found.headers["location"] == f"/app/clientes/{service['customer_id']}"
    page = client.get(f"/app/servicos/{service['id']}")
    assert page.status_code == 200, page.text
    assert (
        "Habilitado" in page.text
        and "Bloqueio temporário" in page.text
        and "O próximo login recebe" in page.text
    )
    assert "R$ 99,90" in page.text and "Derrubar conexão" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    customer = client.get(f"/app/clientes/{service['customer_id']}")
    assert customer.status_code == 200 and "João da Silva" in customer.text and "Histórico" in customer.text
    for path in ("/app/conexoes", "/app/concentradores", "/app/novo-cliente", "/app/"):
        assert client.get(path).status_code == 200, path
    short = client.get("/app/busca", params={"q": "j"})
    assert short.status_code == 422 and "ao menos 2 caracteres" in short.text


def test_a_form_without_the_csrf_token_is_refused(console: tuple[TestClient, Api]) -> None:
    client, api = console
    service = seed(api)
    csrf = log_in(client, "admin", ADMIN_PASSWORD)
    action = f"/app/servicos/{service['id']}/acoes/bloquear"
    for forged in ({"motivo": "x"}, {"motivo": "x", "csrf": "0" * 64}):
        refused = client.post(action, data=forged)
        assert refused.status_code == 403 and "CSRF" in refused.text
    assert api.get(f"/services/{service['id']}")["status"] == "enabled"
    done = client.post(action, data={"motivo": "pedido do cliente", "csrf": csrf})
    assert done.status_code == 200 and "Serviço bloqueado." in done.text
    assert api.get(f"/services/{service['id']}")["status"] == "blocked_manual"
    entries = api.get("/audit", params={"service_id": service["id"]})["items"]
    assert any(e["actor"] == "operator:admin" and e["source"] == "203.0.113.9" for e in entries)


def test_an_action_the_operator_lacks_is_hidden_and_a_forged_post_gets_403(
    console: tuple[TestClient, Api],
) -> None:
    client, api = console
    service = seed(api)
    password = operator(api, "atendente", ["customers.read", "services.read", "services.speed"])
    csrf = log_in(client, "atendente", password)
    page = client.get(f"/app/servicos/{service['id']}").text
    assert "Navegação customizada" in page and "/acoes/bloquear" not in page and "/acoes/cancelar" not in page
    forged = client.post(f"/app/servicos/{service['id']}/acoes/cancelar", data={"motivo": "x", "csrf": csrf})
    assert forged.status_code == 403 and "Sem permissão" in forged.text
    assert api.get(f"/services/{service['id']}")["status"] == "enabled"
    bad = client.post(
        f"/app/servicos/{service['id']}/acoes/navegacao-customizada",
        data={"download": "muito", "upload": "10", "csrf": csrf},
    )
    assert bad.status_code == 422 and "informe um número de Mbps" in bad.text
    good = client.post(
        f"/app/servicos/{service['id']}/acoes/navegacao-customizada",
        data={"download": "300", "upload": "150", "csrf": csrf},
    )
    assert good.status_code == 200 and "Navegação customizada aplicada." in good.text
    assert api.get(f"/services/{service['id']}")["custom_download_kbps"] == 300_000


def test_a_city_limited_operator_cannot_open_another_citys_customer(console: tuple[TestClient, Api]) -> None:
    client, api = console
    mine = seed(api, city="Formiga", login="joao")
    theirs = seed(api, city="Arcos", document=CPF2, login="joao.arcos")
    everything = ["customers.read", "services.read", "sessions.read", "audit.read", "services.suspend"]
    password = operator(api, "formiga", everything, cities=["Formiga"])
    csrf = log_in(client, "formiga", password)
    assert client.get(f"/app/clientes/{mine['customer_id']}").status_code == 200
    for path in (f"/app/clientes/{theirs['customer_id']}", f"/app/servicos/{theirs['id']}",
                 f"/app/servicos/{theirs['id']}/rede"):  # fmt: skip
        answer = client.get(path)
        assert answer.status_code == 404 and "Não encontrado" in answer.text, path
    blocked = client.post(f"/app/servicos/{theirs['id']}/acoes/bloquear", data={"motivo": "x", "csrf": csrf})
    assert blocked.status_code == 404
    assert api.get(f"/services/{theirs['id']}")["status"] == "enabled"
    found = client.get("/app/busca", params={"q": "joao"})
    assert (
        f"/app/servicos/{theirs['id']}" not in found.text
        and f"/app/clientes/{theirs['customer_id']}" not in found.text
    )


def test_logout_ends_the_session_and_a_flagged_operator_changes_its_password_first(
    console: tuple[TestClient, Api],
) -> None:
    client, api = console
    csrf = log_in(client, "admin", ADMIN_PASSWORD)
    token = client.cookies.get("aaa_console")
    client.post("/app/sair", data={"csrf": csrf})
    client.cookies.set("aaa_console", token or "", path="/app")
    assert client.get("/app/", follow_redirects=False).status_code == 303  # the old cookie is dead
    client.cookies.clear()
    flagged = {
        "login": "novato",
        "name": "Novato",
        "password": "temporaria-123",
        "must_change_password": True,
    }
    api.post("/operators", {**flagged, "permissions": ["customers.read"]}, expect=201)
    first = client.post(
        "/app/entrar", data={"login": "novato", "senha": "temporaria-123"}, follow_redirects=False
    )
    assert first.status_code == 303 and first.headers["location"] == "/app/senha"
    assert (
        client.get("/app/busca", params={"q": "joao"}, follow_redirects=False).headers["location"]
        == "/app/senha"
    )
    page = client.get("/app/senha")
    assert "Antes de continuar, defina uma nova senha." in page.text
    new = "Nova-Senha-Do-Novato-42"
    changed = client.post(
        "/app/senha",
        data={"atual": "temporaria-123", "nova": new, "confirmacao": new, "csrf": csrf_of(page.text)},
        follow_redirects=True,
    )
    assert changed.status_code == 200 and "Busca" in changed.text


def test_migrate_transfer_and_fixed_ip_from_the_service_screen(console: tuple[TestClient, Api]) -> None:
    client, api = console
    service = seed(api)
    other = api.post("/customers", person(document=CPF2, name="Carla Nova"), expect=201)
    faster = api.post(
        "/plans", {"name": "Fibra 300", "price": "129.90", "download_kbps": 300_000, "upload_kbps": 150_000},
        expect=201,
    )  # fmt: skip
    subnet = fixed_subnet(api)
    csrf = log_in(client, "admin", ADMIN_PASSWORD)
    page = client.get(f"/app/servicos/{service['id']}").text
    assert "Pasta › sub-rede" in page and f"{subnet['cidr']}" in page

    ip = client.post(
        f"/app/servicos/{service['id']}/acoes/ip-fixo",
        data={"subrede": str(subnet["id"]), "endereco": "", "csrf": csrf},
    )
    assert ip.status_code == 200 and "IP fixo 100.64.0." in ip.text, ip.text[-3000:]
    assert api.get(f"/services/{service['id']}")["fixed_ipv4"].startswith("100.64.0.")

    unknown = client.post(
        f"/app/servicos/{service['id']}/acoes/troca-titularidade",
        data={"titular": "111.222.333-96", "motivo": "venda do imóvel", "csrf": csrf},
    )
    assert unknown.status_code == 422 and "Nenhum cliente com este CPF/CNPJ" in unknown.text
    moved = client.post(
        f"/app/servicos/{service['id']}/acoes/troca-titularidade",
        data={"titular": CPF2, "motivo": "venda do imóvel", "csrf": csrf},
    )
    assert moved.status_code == 200 and "agora é de Carla Nova" in moved.text
    assert api.get(f"/services/{service['id']}")["customer_id"] == other["id"]

    migrated = client.post(
        f"/app/servicos/{service['id']}/acoes/migrar",
        data={"plano": str(faster["id"]), "quando": "imediata", "motivo": "upgrade", "csrf": csrf},
    )
    assert migrated.status_code == 200 and "Migração imediata para Fibra 300" in migrated.text
    assert api.get(f"/services/{service['id']}")["status"] == "cancelled"


def test_an_idle_session_ends_and_the_login_page_is_rate_limited(db_url: str) -> None:
    import time

    with admin_app(db_url, api={"console_idle_minutes": 0.02, "login_rate_per_source": 5}) as app:
        client = TestClient(app, client=("203.0.113.10", 50000))
        log_in(client, "admin", ADMIN_PASSWORD)
        assert client.get("/app/", follow_redirects=False).status_code == 200
        time.sleep(1.5)  # 0.02 minutes without a page
        away = client.get("/app/", follow_redirects=False)
        assert away.status_code == 303 and "inatividade" in unquote(away.headers["location"])
        answers = [client.post("/app/entrar", data={"login": "admin", "senha": "errada"}) for _ in range(6)]
        assert answers[-1].status_code == 429 and "Muitas tentativas" in answers[-1].text


def test_malformed_and_unknown_console_addresses_get_portuguese_pages(
    console: tuple[TestClient, Api],
) -> None:
    client, _ = console
    log_in(client, "admin", ADMIN_PASSWORD)
    for path, status, title in (
        ("/app/servicos/abc", 422, "Endereço inválido"),
        ("/app/servicos/99999999999", 422, "Endereço inválido"),
        ("/app/servicos/424242", 404, "Não encontrado"),
        ("/app/nada-aqui", 404, "Página não encontrada"),
        ("/app/busca?q=joao&filtro=x", 422, "Endereço inválido"),
    ):
        answer = client.get(path)
        assert answer.status_code == status and title in answer.text, (
            path,
            answer.status_code,
            answer.text[:300],
        )
        assert answer.headers["content-type"].startswith("text/html")
    assert client.get("/api/v1/services/abc").headers["content-type"] == "application/problem+json"


def test_bad_sign_ups_and_filters_get_clear_errors_and_store_nothing(console: tuple[TestClient, Api]) -> None:
    client, api = console
    taken = seed(api)  # login "joao"
    csrf = log_in(client, "admin", ADMIN_PASSWORD)
    plan_id = str(api.get("/plans")["items"][0]["id"])
    good = {"csrf": csrf, "tipo": "person", "nome": "Rita Lee", "documento": CPF2, "nascimento": "1980-01-02",
            "telefone": "(37) 99999-0001", "logradouro": "Rua B", "cidade": "Formiga", "uf": "MG",
            "plano": plan_id, "login": "rita.lee", "vencimento": "10"}  # fmt: skip
    customers_before = api.get("/customers")["total"]
    for change, message in (
        ({"nome": ""}, "Preencha o campo “Nome”."),
        ({"documento": "123.456.789-00"}, "CPF inválido: confira os dígitos"),
        ({"login": taken["login"]}, f"o login {taken['login']} já está em uso"),
        ({"uf": "Minas"}, "“UF”: valor inválido"),
        ({"taxa_valor": "cem reais"}, "“Taxa de instalação”: valor inválido; ex.: 150,00."),
        ({"vencimento": "31"}, "“Vencimento”: de 1 a 28."),
    ):
        answer = client.post("/app/novo-cliente", data={**good, **change})
        assert answer.status_code == 422 and message in answer.text, (change, answer.text[-2000:])
    assert api.get("/customers")["total"] == customers_before  # a refused sign-up leaves nothing
    assert client.post("/app/novo-cliente", data=good).status_code == 201

    for query, message in (
        ({"ip": "banana"}, "is not an IP address"),
        ({"mac": "zz"}, "is not a MAC address"),
        ({"concentrador": "abc"}, "Concentrador inválido."),
    ):
        answer = client.get("/app/conexoes", params=query)
        assert answer.status_code == 422 and message in answer.text, (query, answer.text[-1500:])
