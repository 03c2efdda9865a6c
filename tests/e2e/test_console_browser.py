"""The operator console in a real browser: Debian's Chromium, headless, driven by Playwright,
against a node run as a process (`aaa serve`: RADIUS worker, enforcer, admin API and console) on
PostgreSQL, with a NAS played by a CoA/Disconnect responder. RADIUS requests are real datagrams
(pyrad); what the console changes is checked on the wire: an Access-Accept, a CoA with the new
rate, a Disconnect-Request.

A failed test leaves a screenshot under test-results/ (tests/e2e/conftest.py)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from pyrad import packet

from tests import radius_client as rc
from tests.api_client import CPF2, person
from tests.conftest import SECRET, wait_for
from tests.dates import business_today
from tests.e2e.node import ADMIN_PASSWORD, ok, served_node
from tests.fakes.coa_responder import CoaResponder

SHOTS = os.environ.get("AAA_CONSOLE_SCREENSHOTS")  # a folder: also save the README's screenshots


@dataclass
class Node:
    url: str
    api: httpx.Client
    nas_side: CoaResponder
    radius: Any
    plan_id: int
    method_id: int

    def service(
        self, name: str, login: str, city: str = "Formiga", document: str | None = None
    ) -> dict[str, Any]:
        body = person(city=city, name=name, document=document or _cpf())
        customer = ok(self.api.post("/customers", json=body))
        return ok(self.api.post("/services", json={"customer_id": customer["id"], "plan_id": self.plan_id,
                                                   "login": login, "password": f"{login}-pass",
                                                   "billing_method_id": self.method_id}))  # fmt: skip

    def pap(self, login: str, password: str) -> int:
        return int(rc.send(self.radius, rc.pap(self.radius, login, password)).code)

    def online(self, login: str) -> str:
        session_id = uuid.uuid4().hex[:8]
        rc.send(
            self.radius,
            rc.accounting(self.radius, "Start", login, session_id, Framed_IP_Address="100.64.0.9"),
        )
        self.nas_side.online(login, session_id)
        return session_id


def _cpf() -> str:
    """A valid CPF of its own for each customer."""
    digits = [int(d) for d in str(uuid.uuid4().int)[:9]]
    for size in (9, 10):
        total = sum(d * w for d, w in zip(digits, range(size + 1, 1, -1), strict=True))
        digits.append(0 if total % 11 < 2 else 11 - total % 11)
    return "".join(map(str, digits))


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    with (
        CoaResponder(SECRET) as nas_side,
        served_node(tmp_path_factory.mktemp("console"), "aaa_console") as served,
    ):
        api = served.api
        ok(api.post("/nas", json={"name": "bras-1", "address": "127.0.0.1", "secret": SECRET,
                                  "coa_port": nas_side.port}))  # fmt: skip
        speed = {"download_kbps": 100_000, "upload_kbps": 50_000}
        plan = ok(api.post("/plans", json={"name": "Fibra 100", "price": "99.90", **speed}))
        method = ok(api.post("/billing-methods", json={"name": "Boleto", "total_suspension": True,
                                                       "total_suspension_days": 0}))  # fmt: skip
        radius = rc.client(served.auth_port, served.acct_port, SECRET)
        yield Node(served.url, api, nas_side, radius, plan["id"], method["id"])


def log_in(page: Page, node: Node, login: str = "admin", password: str = ADMIN_PASSWORD) -> None:
    page.goto(f"{node.url}/app/")
    expect(page).to_have_url(f"{node.url}/app/entrar?voltar=%2Fapp%2F")
    page.get_by_label("Login").fill(login)
    page.get_by_label("Senha").fill(password)
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("heading", name="Busca")).to_be_visible()


def shot(page: Page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / name), full_page=False)


def test_trust_unlock_from_the_search_lets_a_suspended_subscriber_in(node: Node, page: Page) -> None:
    service = node.service("João da Silva", "joao")
    due = (business_today() - timedelta(days=1)).isoformat()
    ok(
        node.api.post(
            f"/services/{service['id']}/charges", json={"kind": "other", "due_date": due, "amount": "99.90"}
        )
    )
    ok(node.api.post("/routines/suspension", json={"dry_run": False}))
    assert ok(node.api.get(f"/services/{service['id']}"))["status"] == "suspended_debt"
    assert node.pap("joao", "joao-pass") == packet.AccessReject

    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, node)
    page.get_by_label("Buscar cliente, serviço ou conexão").fill("joao")
    page.get_by_role("button", name="Buscar").click()
    expect(page.get_by_role("link", name="João da Silva")).to_be_visible()
    shot(page, "console-search.png")
    page.get_by_role("link", name="João da Silva").click()
    expect(page.get_by_role("heading", name="João da Silva")).to_be_visible()
    page.get_by_role("link", name="joao", exact=True).click()
    expect(page.locator("#situacao")).to_have_text("Suspenso por débito")
    page.locator("summary").get_by_text("Desbloqueio em confiança", exact=True).click()
    form = page.locator("#acao-desbloqueio-confianca")
    form.get_by_label("Até (data)").fill((business_today() + timedelta(days=2)).isoformat())
    form.get_by_label("Motivo").fill("cliente enviou o comprovante")
    form.get_by_role("button", name="Desbloqueio em confiança").click()
    expect(page.get_by_role("status")).to_contain_text("Desbloqueio em confiança concedido.")
    expect(page.locator("#motivo")).to_contain_text("desbloqueio em confiança")
    assert wait_for(lambda: node.pap("joao", "joao-pass") == packet.AccessAccept, timeout=10)


def test_custom_speed_on_an_online_subscriber_reaches_the_nas_and_the_page_shows_the_ack(
    node: Node, page: Page
) -> None:
    service = node.service("Maria Souza", "maria")
    node.online("maria")
    node.nas_side.received.clear()
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, node)
    page.goto(f"{node.url}/app/servicos/{service['id']}")
    expect(page.locator("#rede")).to_contain_text("100.64.0.9")
    page.locator("summary").get_by_text("Navegação customizada", exact=True).click()
    form = page.locator("#acao-navegacao-customizada")
    form.get_by_label("Download (Mbps)").fill("300")
    form.get_by_label("Upload (Mbps)").fill("150")
    form.get_by_role("button", name="Navegação customizada").click()
    expect(page.get_by_role("status")).to_contain_text("Navegação customizada aplicada.")
    sent = f"CoA enviado a bras-1 (127.0.0.1:{node.nas_side.port}): ACK"
    expect(page.locator("#rede")).to_contain_text(sent, timeout=15_000)
    shot(page, "console-service.png")
    coa = [r for r in node.nas_side.received if r.code == packet.CoARequest]
    assert coa and coa[-1].first("User-Name") == "maria"
    assert any("300M" in str(v) for values in coa[-1].attributes.values() for v in values), coa[-1].attributes


def test_derrubar_conexao_sends_a_disconnect_request(node: Node, page: Page) -> None:
    service = node.service("Ana Lima", "ana")
    node.online("ana")
    node.nas_side.received.clear()
    log_in(page, node)
    page.goto(f"{node.url}/app/servicos/{service['id']}")
    page.locator("#rede").get_by_role("button", name="Derrubar conexão").click()
    sent = f"Disconnect enviado a bras-1 (127.0.0.1:{node.nas_side.port}): ACK"
    expect(page.locator("#rede")).to_contain_text(sent, timeout=15_000)
    disconnects = [r for r in node.nas_side.received if r.code == packet.DisconnectRequest]
    assert disconnects and disconnects[-1].first("User-Name") == "ana"


def test_the_sign_up_creates_a_customer_and_a_service_that_authenticates(node: Node, page: Page) -> None:
    page.set_viewport_size({"width": 390, "height": 844})  # a technician's phone
    log_in(page, node)
    page.get_by_role("link", name="Novo cliente").click()
    page.get_by_label("Nome / razão social").fill("Pedro Álvares Cabral")
    page.get_by_label("CPF/CNPJ").fill("123.456.789-00")
    expect(page.locator("#documento-aviso")).to_have_text("CPF inválido.")
    page.get_by_label("CPF/CNPJ").fill(_cpf())
    expect(page.locator("#documento-aviso")).to_have_text("CPF válido.")
    expect(page.get_by_label("Login PPPoE")).to_have_value("pedro.cabral")
    page.get_by_label("Nascimento (pessoa física)").fill("1990-04-22")
    page.get_by_label("Telefone").fill("(37) 99999-1234")
    page.get_by_label("CEP").fill("35570-000")
    page.get_by_label("Logradouro").fill("Rua das Flores")
    page.get_by_label("Número").fill("100")
    page.get_by_label("Cidade").fill("Formiga")
    page.get_by_label("UF").fill("MG")
    page.get_by_label("Dia de vencimento").select_option("15")
    page.get_by_label("Valor (R$)").fill("150,00")
    page.get_by_label("Parcelas").fill("3")
    page.locator("#taxa_vencimento").fill((business_today() + timedelta(days=10)).isoformat())
    page.get_by_label("Mensalidades do carnê").fill("12")
    page.get_by_label("Primeiro vencimento do carnê").fill(
        (business_today() + timedelta(days=15)).isoformat()
    )
    page.get_by_label("Nome / razão social").scroll_into_view_if_needed()
    shot(page, "console-signup.png")
    page.get_by_role("button", name="Cadastrar cliente e serviço").click()
    expect(page.get_by_role("heading", name="Cadastro concluído")).to_be_visible()
    expect(page.locator("article")).to_contain_text("3 parcela(s): R$ 50,00")
    expect(page.locator("article")).to_contain_text("com 12 mensalidade(s)")
    password = page.locator("#senha-gerada").inner_text()
    assert wait_for(lambda: node.pap("pedro.cabral", password) == packet.AccessAccept, timeout=10)
    page.get_by_role("link", name="pedro.cabral").click()
    expect(page.locator("#situacao")).to_have_text("Habilitado")


def test_permissions_city_scope_and_csrf_hold_in_the_browser(node: Node, page: Page) -> None:
    mine = node.service("Carla Dias", "carla")
    theirs = node.service("Bruno Reis", "bruno", city="Arcos", document=CPF2)
    login, password = "atendente", "Atendente-Senha-Forte-1"
    ok(node.api.post("/operators", json={"login": login, "name": "Atendente", "password": password,
                                         "permissions": ["customers.read", "services.read", "services.speed"],
                                         "cities": ["Formiga"]}))  # fmt: skip
    log_in(page, node, login, password)
    page.goto(f"{node.url}/app/servicos/{mine['id']}")
    expect(page.locator("summary").get_by_text("Navegação customizada", exact=True)).to_be_visible()
    expect(page.locator("summary").get_by_text("Bloquear", exact=True)).to_have_count(0)
    expect(page.locator("summary").get_by_text("Cancelar", exact=True)).to_have_count(0)
    token = page.locator("#acao-navegacao-customizada input[name=csrf]").get_attribute("value")
    forged = page.request.post(
        f"{node.url}/app/servicos/{mine['id']}/acoes/bloquear",
        form={"motivo": "forjado", "csrf": token or ""},
    )
    assert forged.status == 403 and "Sem permissão" in forged.text()
    assert ok(node.api.get(f"/services/{mine['id']}"))["status"] == "enabled"

    page.goto(f"{node.url}/app/clientes/{theirs['customer_id']}")
    expect(page.get_by_role("heading", name="Não encontrado")).to_be_visible()

    page.goto(f"{node.url}/app/servicos/{mine['id']}")
    page.locator("summary").get_by_text("Navegação customizada", exact=True).click()
    form = page.locator("#acao-navegacao-customizada")
    form.locator("input[name=csrf]").evaluate("input => input.remove()")
    form.get_by_label("Download (Mbps)").fill("10")
    form.get_by_label("Upload (Mbps)").fill("10")
    form.get_by_role("button", name="Navegação customizada").click()
    expect(page.get_by_role("heading", name="Sem permissão")).to_be_visible()
    expect(page.locator("main")).to_contain_text("CSRF")
    assert ok(node.api.get(f"/services/{mine['id']}"))["custom_download_kbps"] is None


UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
    .filter(e => !e.labels || e.labels.length === 0).map(e => e.name || e.id)"""


def test_every_screen_labels_its_inputs_and_works_from_the_keyboard(node: Node, page: Page) -> None:
    service = node.service("Diego Teclado", "diego")
    log_in(page, node)
    page.keyboard.press("Tab")  # the brand link
    page.keyboard.press("Tab")  # the search box
    page.keyboard.type("diego")
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="diego", exact=True)).to_be_visible()
    screens = [
        f"/app/servicos/{service['id']}",
        f"/app/clientes/{service['customer_id']}",
        "/app/novo-cliente",
        "/app/conexoes",
        "/app/concentradores",
        "/app/busca?q=diego",
    ]
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 800})
        for path in screens:
            page.goto(f"{node.url}{path}")
            assert page.evaluate(UNLABELLED) == [], path
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, (path, width, overflow)  # wide tables scroll inside their box


def test_bloqueio_temporario_until_tomorrow_counts_the_isps_day(node: Node, page: Page) -> None:
    """A "Reativar em" of tomorrow means tomorrow in the ISP's time zone. Between 21:00 and
    midnight in São Paulo, UTC's date is already that day, and the date was refused as not in
    the future."""
    service = node.service("Paula Reis", "paula")
    tomorrow = (business_today() + timedelta(days=1)).isoformat()
    log_in(page, node)
    page.goto(f"{node.url}/app/servicos/{service['id']}")
    page.locator("summary").get_by_text("Bloqueio temporário", exact=True).click()
    form = page.locator("#acao-bloqueio-temporario")
    form.get_by_label("Motivo").fill("viagem do cliente")
    form.get_by_label("Reativar em").fill(tomorrow)
    form.get_by_role("button", name="Bloqueio temporário").click()
    expect(page.get_by_role("status")).to_contain_text("Bloqueio temporário aplicado.")
    stored = ok(node.api.get(f"/services/{service['id']}"))
    assert stored["status"] == "suspended_request" and stored["reenable_on"] == tomorrow
