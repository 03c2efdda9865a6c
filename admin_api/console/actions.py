"""The actions of the Serviço screen: each a small form with its required fields, the permission
the API's route for the same change requires, and the domain call it makes.

Form values are read and checked here, in Portuguese (``FormProblem`` names the field); what the
domain refuses comes back as a ``DomainError`` the page shows beside the action.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.datastructures import FormData

from aaa.audit.log import actor_of
from aaa.db.base import today_in, utcnow
from aaa.enforcement.kick import kick_service
from aaa.errors import Forbidden
from aaa.ipam.assignments import assign_fixed
from aaa.subscribers import customers, lifecycle, migration, overlays, plans
from aaa.subscribers import service as services
from aaa.tables.subscribers import Customer, Service
from aaa.vocabulary.subscribers import CustomerKind, MacBinding, ServiceStatus
from admin_api.console.web import Desk
from admin_api.deps import settings_of
from admin_api.routes.services import transfer_to
from billing_bridge.cancellation import cancel_service


class FormProblem(Exception):
    """A value the operator must fix, named by its field."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "text"  # text, textarea, date, mbps, select, checkbox, password, mac
    required: bool = True
    hint: str = ""
    options: tuple[tuple[str, str], ...] = ()  # select: (value, label)


@dataclass(frozen=True)
class Action:
    key: str
    label: str
    permission: str
    fields: tuple[Field, ...]
    run: Callable[[Desk, Service, dict[str, Any]], str | None]
    when: Callable[[Service], bool] = lambda service: service.status is not ServiceStatus.CANCELLED
    danger: bool = False
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


REASON = Field("motivo", "Motivo", "textarea", hint="fica no histórico do serviço")


def read(action: Action, form: FormData) -> dict[str, Any]:
    """The form's values by field, converted; the first missing or malformed one raises."""
    values: dict[str, Any] = {}
    for spec in action.fields:
        raw = form.get(spec.name)
        text = raw.strip() if isinstance(raw, str) else ""
        if spec.kind == "checkbox":
            values[spec.name] = text in ("on", "1", "sim", "true")
            continue
        if not text:
            if spec.required:
                raise FormProblem(spec.name, f"Preencha o campo “{spec.label}”.")
            values[spec.name] = None
            continue
        values[spec.name] = _convert(spec, text)
    return values


def _convert(spec: Field, text: str) -> Any:
    if spec.kind == "date":
        try:
            return date.fromisoformat(text) if "-" in text else datetime.strptime(text, "%d/%m/%Y").date()
        except ValueError:
            raise FormProblem(spec.name, f"“{spec.label}”: data inválida; use dd/mm/aaaa.") from None
    if spec.kind == "mbps":
        try:
            mbps = Decimal(text.replace(",", "."))
        except InvalidOperation:
            raise FormProblem(
                spec.name, f"“{spec.label}”: informe um número de Mbps, ex.: 50 ou 1,5."
            ) from None
        if not 0 < mbps <= 100_000:
            raise FormProblem(spec.name, f"“{spec.label}”: entre 0,001 e 100.000 Mbps.")
        return int(mbps * 1000)
    if spec.kind == "select" and spec.options and text not in {value for value, _ in spec.options}:
        raise FormProblem(spec.name, f"“{spec.label}”: escolha uma das opções.")
    return text


def end_of(desk: Desk, day: date | None) -> datetime | None:
    """A date on a form is the end of that local day, as in the API (``overlays.moment_of``)."""
    return None if day is None else overlays.moment_of(day, desk.zone)


def _enable(desk: Desk, service: Service, v: dict[str, Any]) -> str:
    lifecycle.change_status(desk.session, service, ServiceStatus.ENABLED, reason=v["motivo"])
    return "Serviço habilitado."


def _suspend_request(desk: Desk, service: Service, v: dict[str, Any]) -> str:
    lifecycle.change_status(
        desk.session,
        service,
        ServiceStatus.SUSPENDED_REQUEST,
        reason=v["motivo"],
        reenable_on=v["reativar_em"],
        today=today_in(desk.zone),
    )
    return "Bloqueio temporário aplicado."


def _block(desk: Desk, service: Service, v: dict[str, Any]) -> str:
    lifecycle.change_status(desk.session, service, ServiceStatus.BLOCKED_MANUAL, reason=v["motivo"])
    return "Serviço bloqueado."


def _trust(desk: Desk, service: Service, v: dict[str, Any]) -> str:
    overlays.trust_unlock(
        desk.session,
        service,
        until=end_of(desk, v["ate"]),
        reason=v["motivo"],
        now=utcnow(),
        settings=settings_of(desk.request).policy,
        granted_by=actor_of(desk.session).name,
    )
    return "Desbloqueio em confiança concedido."


def _custom_speed(desk: Desk, service: Service, v: dict[str, Any]) -> str:
    overlays.set_custom_speed(
        desk.session,
        service,
        download_kbps=v["download"],
        upload_kbps=v["upload"],
        until=end_of(desk, v["ate"]),
        now=utcnow(),
    )
    return "Navegação customizada aplicada."


def _trial(desk: Desk, service: Service, v: dict[str, Any]) -> str:
    plan = plans.get_plan(desk.session, int(v["plano"]))
    until = end_of(desk, v["ate"])
    assert until is not None  # a required field
    overlays.start_trial(desk.session, service, plan=plan, until=until, now=utcnow())
    return f"Degustação do plano {plan.name} iniciada."


def _bonus(desk: Desk, service: Service, v: dict[str, Any]) -> str:
    until = end_of(desk, v["ate"])
    assert until is not None  # a required field
    overlays.grant_bonus(desk.session, service, until=until, now=utcnow())
    return "Bônus concedido."


def _exempt(desk: Desk, service: Service, v: dict[str, Any]) -> str:
    overlays.set_exempt(desk.session, service, v["isento"])
    return "Serviço isento de cobrança." if v["isento"] else "Isenção retirada."


def _change_plan(desk: Desk, service: Service, v: dict[str, Any]) -> str:
    target = plans.get_plan(desk.session, int(v["plano"]))
    if plans.is_lower(service.plan, target):
        desk.who.require("services.plan_lower")
    plans.change_plan(desk.session, service, target, reason=v["motivo"], change_price=v["alterar_preco"])
    return f"Plano alterado para {target.name}."


def _password(desk: Desk, service: Service, v: dict[str, Any]) -> str:
    password = v["senha"] or services.generate_password()
    services.update_service(desk.session, service, password=password)
    return f"Nova senha: {password} (anote agora; ela não será mostrada de novo)."


def _mac(desk: Desk, service: Service, v: dict[str, Any]) -> str:
    services.update_service(desk.session, service, mac_binding=MacBinding(v["vinculo"]), mac=v["mac"])
    return "Vínculo de MAC atualizado."


def _kick(desk: Desk, service: Service, v: dict[str, Any]) -> str:
    _, count = kick_service(desk.session, service, v["motivo"] or "derrubar conexão pelo console")
    return f"Derrubar conexão: {count} conexão(ões) a derrubar."


def _cancel(desk: Desk, service: Service, v: dict[str, Any]) -> str:
    done = cancel_service(
        desk.session,
        service,
        reason=v["motivo"],
        now=utcnow(),
        zone=desk.zone,
        charge_loyalty_fine=v["multa"],
        cancel_pending=v["cancelar_faturas"],
    )
    fine = f" Multa de fidelidade: {done.fine.amount}." if done.fine else ""
    return f"Serviço cancelado.{fine}"


def _migrate(desk: Desk, service: Service, v: dict[str, Any]) -> str:
    plan = plans.get_plan(desk.session, int(v["plano"]))
    immediate = v["quando"] == "imediata"
    new = migration.migrate_plan(desk.session, service, plan, immediate=immediate, reason=v["motivo"])
    desk.session.flush()
    if immediate:
        return f"Migração imediata para {plan.name}: serviço {new.id} habilitado, este cancelado."
    return (
        f"Migração para {plan.name} agendada: serviço {new.id} aguarda a habilitação (após a visita técnica)."
    )


def _transfer(desk: Desk, service: Service, v: dict[str, Any]) -> str:
    target = _customer_named(desk, v["titular"])
    transfer_to(
        desk.session, service, target, reason=v["motivo"], transfer_debts=v["levar_debitos"], zone=desk.zone
    )
    return f"Troca de titularidade: o serviço agora é de {target.name} (cliente {target.id})."


def _customer_named(desk: Desk, text: str) -> Customer:
    """The new owner by CPF/CNPJ or by customer code, in the operator's cities."""
    digits = "".join(c for c in text if c.isdigit())
    if len(digits) in (11, 14):
        kind = CustomerKind.PERSON if len(digits) == 11 else CustomerKind.COMPANY
        found = customers.document_holder(desk.session, kind, digits, desk.scope)
        if found is None:
            raise FormProblem("titular", "Nenhum cliente com este CPF/CNPJ nas suas cidades.")
        return found
    if digits and digits == text.strip():
        return customers.get_customer(desk.session, int(digits), desk.scope)
    raise FormProblem("titular", "Informe o CPF/CNPJ ou o código do novo titular.")


def _fixed_ip(desk: Desk, service: Service, v: dict[str, Any]) -> str:
    row = assign_fixed(
        desk.session,
        service,
        now=utcnow(),
        subnet_id=int(v["subrede"]),
        address=v["endereco"],
        note=v["observacao"] or "",
    )
    return f"IP fixo {row.address}/{row.prefix_len} atribuído; vale a partir do próximo login."


def _held(service: Service) -> bool:
    return service.status in (ServiceStatus.SUSPENDED_DEBT, ServiceStatus.REDUCED_DEBT)


def _not(*statuses: ServiceStatus) -> Callable[[Service], bool]:
    return lambda service: service.status not in (ServiceStatus.CANCELLED, *statuses)


def catalogue(
    plan_options: tuple[tuple[str, str], ...], subnet_options: tuple[tuple[str, str], ...] = ()
) -> tuple[Action, ...]:
    """Every action, in the order the screen lists them; plans and fixed-IP subnets (pasta ›
    sub-rede) offered where one is chosen."""
    until = Field("ate", "Até (data)", "date")
    return (
        Action("habilitar", "Habilitar", "services.enable", (REASON,), _enable, _not(ServiceStatus.ENABLED)),
        Action(
            "bloqueio-temporario",
            "Bloqueio temporário",
            "services.suspend",
            (REASON, Field("reativar_em", "Reativar em", "date", required=False)),
            _suspend_request,
            _not(ServiceStatus.SUSPENDED_REQUEST),
        ),
        Action(
            "bloquear", "Bloquear", "services.suspend", (REASON,), _block, _not(ServiceStatus.BLOCKED_MANUAL)
        ),
        Action(
            "desbloqueio-confianca",
            "Desbloqueio em confiança",
            "services.unlock",
            (until, REASON),
            _trust,
            _held,
        ),
        Action(
            "navegacao-customizada",
            "Navegação customizada",
            "services.speed",
            (
                Field("download", "Download (Mbps)", "mbps"),
                Field("upload", "Upload (Mbps)", "mbps"),
                Field("ate", "Até (data)", "date", required=False, hint="vazio: sem data de fim"),
            ),
            _custom_speed,
        ),
        Action(
            "degustacao",
            "Degustação",
            "services.speed",
            (Field("plano", "Plano", "select", options=plan_options), until),
            _trial,
        ),
        Action("bonus", "Bônus", "services.unlock", (until,), _bonus),
        Action(
            "isentar",
            "Isentar",
            "services.unlock",
            (Field("isento", "Isento de cobrança", "checkbox"),),
            _exempt,
        ),
        Action(
            "alterar-plano",
            "Alterar plano",
            "services.migrate",
            (
                Field("plano", "Novo plano", "select", options=plan_options),
                Field("alterar_preco", "Usar o preço do novo plano", "checkbox"),
                REASON,
            ),
            _change_plan,
        ),
        Action(
            "migrar",
            "Migrar",
            "services.migrate",
            (
                Field("plano", "Novo plano", "select", options=plan_options),
                Field(
                    "quando",
                    "Migração",
                    "select",
                    options=(
                        ("imediata", "Imediata"),
                        ("nao-imediata", "Não imediata (após a visita técnica)"),
                    ),
                ),
                REASON,
            ),
            _migrate,
            lambda service: service.status is ServiceStatus.ENABLED,
        ),
        Action(
            "troca-titularidade",
            "Troca de titularidade",
            "services.transfer",
            (
                Field("titular", "Novo titular (CPF/CNPJ ou código do cliente)"),
                Field("levar_debitos", "Levar os débitos vencidos para o novo titular", "checkbox"),
                REASON,
            ),
            _transfer,
        ),
        Action(
            "ip-fixo",
            "IP fixo",
            "ipam.assign",
            (
                Field("subrede", "Pasta › sub-rede", "select", options=subnet_options),
                Field("endereco", "Endereço", required=False, hint="vazio: o próximo disponível da sub-rede"),
                Field("observacao", "Observação", required=False),
            ),
            _fixed_ip,
        ),
        Action(
            "trocar-senha",
            "Trocar senha",
            "services.write",
            (Field("senha", "Nova senha", "password", required=False, hint="vazio: gerar uma"),),
            _password,
        ),
        Action(
            "mac",
            "MAC",
            "services.write",
            (
                Field(
                    "vinculo",
                    "Vínculo",
                    "select",
                    options=tuple((m.value, label) for m, label in _MAC_LABELS.items()),
                ),
                Field("mac", "MAC", "mac", required=False, hint="ex.: AA:BB:CC:DD:EE:FF"),
            ),
            _mac,
        ),
        Action(
            "derrubar",
            "Derrubar conexão",
            "sessions.disconnect",
            (Field("motivo", "Motivo", "textarea", required=False),),
            _kick,
            danger=True,
        ),
        Action(
            "cancelar",
            "Cancelar",
            "services.cancel",
            (
                REASON,
                Field("multa", "Cobrar multa de fidelidade", "checkbox"),
                Field("cancelar_faturas", "Cancelar cobranças pendentes", "checkbox"),
            ),
            _cancel,
            danger=True,
        ),
    )


_MAC_LABELS = {
    MacBinding.OFF: "Sem vínculo",
    MacBinding.ENFORCE: "Exigir o MAC",
    MacBinding.LEARN: "Aprender no primeiro login",
}


def find(actions: tuple[Action, ...], key: str) -> Action:
    for action in actions:
        if action.key == key:
            return action
    raise Forbidden(f"ação desconhecida: {key}")
