"""The console's Portuguese: the operators' words for statuses, reasons and results, and the
translation of the decision trace and of domain errors into sentences an attendant reads.

Pure functions and tables; the domain keeps its English identifiers (they are the API's values
and the auth log's text), the console shows these words instead.
"""

from __future__ import annotations

import re

from aaa.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, TooMany, Unauthenticated

STATUS = {
    "pending_install": "Aguardando instalação",
    "enabled": "Habilitado",
    "suspended_debt": "Suspenso por débito",
    "reduced_debt": "Reduzido por débito",
    "reduced_manual": "Reduzido manual",
    "suspended_request": "Bloqueio temporário",
    "blocked_manual": "Bloqueado",
    "awaiting_migration": "Aguardando migração",
    "cancelled": "Cancelado",
}
# Pico's colours by how an attendant should read the badge.
STATUS_TONE = {
    "enabled": "ok",
    "pending_install": "info",
    "awaiting_migration": "info",
    "reduced_debt": "warn",
    "reduced_manual": "warn",
    "suspended_request": "warn",
    "suspended_debt": "bad",
    "blocked_manual": "bad",
    "cancelled": "off",
}
REJECT = {
    "unknown_login": "login inexistente",
    "wrong_password": "senha incorreta",
    "unsupported_method": "método de autenticação não suportado",
    "service_not_enabled": "serviço não habilitado",
    "suspended_debt": "suspenso por débito",
    "simultaneous_use": "limite de conexões simultâneas",
    "sessions_unknown": "conexões simultâneas não verificadas (banco indisponível)",
    "mac_mismatch": "MAC diferente do cadastrado",
    "subscriber_unavailable": "dados do assinante indisponíveis",
    "pool_exhausted": "pool de endereços esgotado",
    "no_such_pool": "pool de endereços inexistente",
}
METHOD = {
    "coa": "CoA",
    "disconnect": "Disconnect",
    "api_kick": "API RouterOS (derrubar)",
    "api_address_list": "API RouterOS (address-list)",
    "none": "nada a enviar",
}
RESULT = {
    "ack": "ACK",
    "nak": "NAK",
    "timeout": "sem resposta",
    "error": "erro",
    "in_sync": "já estava em vigor",
    "circuit_open": "concentrador em falha, não tentado",
    "gone": "a conexão já havia caído",
}
STATE = {"pending": "pendente", "running": "em execução", "done": "concluído", "failed": "falhou"}
CLOSED_BY = {
    "stop": "Stop do concentrador",
    "nas_reboot": "reinício do concentrador",
    "reaper": "sem Interim (encerrada pelo servidor)",
    "reconciler": "conciliação",
    "replaced": "substituída por nova conexão",
}
KIND = {"person": "Pessoa física", "company": "Pessoa jurídica"}
ADDRESS_KIND = {
    "registration": "Cadastral",
    "installation": "Instalação",
    "billing": "Cobrança",
    "fiscal": "Fiscal",
}
MAC_BINDING = {"off": "Sem vínculo", "enforce": "Exigir o MAC", "learn": "Aprender no primeiro login"}
HIT = {"customer": "Cliente", "service": "Serviço", "session": "Conexão"}
WHY = {
    "name, phone or e-mail": "nome, telefone ou e-mail",
    "former login": "login anterior",
    "name": "nome",
    "document": "CPF/CNPJ",
    "phone": "telefone",
    "e-mail": "e-mail",
    "login": "login",
    "address": "IP",
    "MAC": "MAC",
    "IP": "IP",
}
ERROR_TITLE: dict[type[DomainError], str] = {
    Invalid: "Dados inválidos",
    NotFound: "Não encontrado",
    Conflict: "Não foi possível",
    Unauthenticated: "Entre novamente",
    Forbidden: "Sem permissão",
    TooMany: "Muitas tentativas",
}

# The decision trace (aaa.policies.decide), line by line.
_TRACE: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^reject: (\w+)$"), "recusado: {reject}"),
    (re.compile(r"^status (\w+)(.*)$"), "situação {status}{1}"),
    (re.compile(r"^trial of plan (.+) until (.+)$"), "degustação do plano {0} até {1}"),
    (re.compile(r"^plan (.+)$"), "plano {0}"),
    (re.compile(r"^custom (.+)$"), "navegação customizada {0}"),
    (re.compile(r"^reduced to (.+)$"), "velocidade reduzida a {0}"),
    (re.compile(r"^MAC (.+) learned$"), "MAC {0} aprendido"),
    (re.compile(r"^reply attributes (.+)$"), "atributos adicionais {0}"),
    (re.compile(r"^trust unlock (.+)$"), "desbloqueio em confiança {0}"),
    (re.compile(r"^bonus (.+)$"), "bônus {0}"),
]
_WORDS = [(" until ", " até "), (" since ", " desde "), ("fixed ", "fixo ")]

# Domain errors the console's actions meet most, in the attendant's words; anything else is
# shown as the domain says it, under a Portuguese title.
_ERRORS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"^the session ended after inactivity"),
        "a sessão terminou por inatividade; entre novamente",
    ),
    (re.compile(r"^the token has expired"), "a sessão expirou; entre novamente"),
    (re.compile(r"^the token is not valid|^not a console session"), "sessão encerrada; entre novamente"),
    (re.compile(r"^operator '([^']+)' is inactive"), "o operador {0} está inativo"),
    (re.compile(r"^(\w+) (\d+) does not exist$"), "o registro {1} não existe ou não é da sua cidade"),
    (
        re.compile(r"^login '([^']+)' is already used by service (\d+)"),
        "o login {0} já está em uso (serviço {1})",
    ),
    (
        re.compile(r"^CPF/CNPJ already registered for a customer of another city"),
        "CPF/CNPJ já cadastrado para um cliente de outra cidade",
    ),
    (re.compile(r"^CPF/CNPJ already registered for customer (\d+)"), "CPF/CNPJ já cadastrado (cliente {0})"),
    (
        re.compile(r"^give a registration address in one of your cities: (.+)$"),
        "informe um endereço cadastral em uma das suas cidades: {0}",
    ),
    (re.compile(r"^(CPF|CNPJ) .* is invalid"), "{0} inválido: confira os dígitos"),
    (re.compile(r"^CEP .* is invalid"), "CEP inválido: são 8 dígitos (00000-000)"),
    (re.compile(r"has no open session"), "o serviço não tem conexão aberta"),
    (re.compile(r"this action needs the permission '([\w.]+)'"), "esta ação exige a permissão {0}"),
    (
        re.compile(r"only a service suspended for debt", re.I),
        "só um serviço suspenso por débito pode ser desbloqueado",
    ),
    (re.compile(r"trust unlock .* used", re.I), "o desbloqueio em confiança já foi usado no período"),
]


def trace_line(line: str) -> str:
    for pattern, template in _TRACE:
        found = pattern.match(line)
        if found:
            groups = [_soften(g) for g in found.groups()]
            first = found.group(1)
            return template.format(
                *groups, reject=REJECT.get(first, first), status=STATUS.get(first, first).lower()
            )
    return _soften(line)


def _soften(text: str) -> str:
    for english, portuguese in _WORDS:
        text = text.replace(english, portuguese)
    return text


def error_title(exc: DomainError) -> str:
    return next((t for cls, t in ERROR_TITLE.items() if isinstance(exc, cls)), "Não foi possível")


def error_text(exc: DomainError | str) -> str:
    message = str(exc)
    for pattern, template in _ERRORS:
        found = pattern.search(message)
        if found:
            return template.format(*found.groups())
    return message


def hit_detail(kind: str, detail: str) -> str:
    """A search result's detail (aaa.search) in the operators' words."""
    if kind == "customer":
        return KIND.get(detail, detail)
    if kind == "service" and " · " in detail:
        owner, status = detail.rsplit(" · ", 1)
        return f"{owner} · {STATUS.get(status, status)}"
    return detail.replace("online since", "online desde")


FIELD = {
    "status": "situação",
    "plan_id": "plano",
    "custom_download_kbps": "download customizado",
    "custom_upload_kbps": "upload customizado",
    "custom_until": "fim da navegação customizada",
    "trial_plan_id": "degustação",
    "trial_until": "fim da degustação",
    "trust_until": "desbloqueio em confiança",
    "bonus_until": "bônus",
    "mac": "MAC",
    "mac_binding": "vínculo de MAC",
    "password": "senha",
    "login": "login",
    "simultaneous_use": "conexões simultâneas",
    "fixed_ipv4": "IP fixo",
}


def cause(text: str) -> str:
    """Why a change was sent to the NAS (aaa.enforcement.outbox): the fields that changed."""
    if text.startswith("changed: "):
        fields = text.removeprefix("changed: ").split(", ")
        return "alterado: " + ", ".join(FIELD.get(f, f) for f in fields)
    return text
