"""Novo cliente (cadastro): the customer (CPF/CNPJ checked as typed), its address with CEP, the
first service (plan, a login suggested and checked as typed, a password generated and shown
once, due day, billing method), and an optional installation fee in instalments.

One form, one transaction: the same domain calls as POST /customers, POST /services and
POST /services/{id}/installation-fee, with the same permissions.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from starlette.datastructures import FormData

from aaa.db.base import today_in
from aaa.errors import DomainError, Invalid
from aaa.subscribers import customers, plans
from aaa.subscribers import service as services
from aaa.subscribers.documents import is_cnpj, is_cpf
from aaa.tables.subscribers import Customer
from aaa.vocabulary.subscribers import AddressKind, CustomerKind
from admin_api.console import words
from admin_api.console.web import BASE, Desk, Form, at
from admin_api.routes.customers import create as create_customer
from admin_api.schemas.customers import CustomerIn
from billing_bridge.instalments import carne, installation_fee
from billing_bridge.methods import list_methods

router = APIRouter(include_in_schema=False)
# The API body's fields (CustomerIn) as the form names and labels them, so a value the body
# refuses is shown beside the input it came from.
FIELDS = {
    "kind": ("tipo", "Tipo"),
    "name": ("nome", "Nome"),
    "document": ("documento", "CPF/CNPJ"),
    "birth_date": ("nascimento", "Nascimento"),
    "phones": ("telefone", "Telefone"),
    "emails": ("email", "E-mail"),
    "cep": ("cep", "CEP"),
    "street": ("logradouro", "Logradouro"),
    "number": ("numero", "Número"),
    "district": ("bairro", "Bairro"),
    "city": ("cidade", "Cidade"),
    "state": ("uf", "UF"),
}


class Problem(Exception):
    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name
        self.message = message


def _choices(desk: Desk) -> dict[str, Any]:
    found, _ = plans.list_plans(desk.session, limit=500)
    return {"plans": found, "methods": list_methods(desk.session)}


@router.get(f"{BASE}/novo-cliente", response_class=HTMLResponse)
def signup_page(desk: Desk = at("customers.write")) -> HTMLResponse:
    desk.who.require("services.write")
    return desk.render(
        "signup.html", values={"tipo": "person", "vencimento": "10"}, problem=None, **_choices(desk)
    )


@router.get(f"{BASE}/novo-cliente/documento", response_class=HTMLResponse)
def check_document(
    documento: str = Query("", max_length=30), tipo: str = Query("person", max_length=10),
    desk: Desk = at("customers.write"),
) -> HTMLResponse:  # fmt: skip
    """As typed: is it a valid CPF/CNPJ, and is it already a customer's (in the operator's cities:
    one of another city is reported only when the form is sent, without naming it)?"""
    digits = "".join(c for c in documento if c.isdigit())
    kind = "CNPJ" if tipo == "company" else "CPF"
    if not digits:
        return _hint("")
    valid = is_cnpj(digits) if tipo == "company" else is_cpf(digits)
    if not valid:
        return _hint(f"{kind} inválido.", bad=True)
    customer_kind = CustomerKind.COMPANY if tipo == "company" else CustomerKind.PERSON
    holder = customers.document_holder(desk.session, customer_kind, digits, desk.scope)
    if holder is not None:
        return _hint(f"{kind} já cadastrado: {holder.name} (cliente {holder.id}).", bad=True)
    return _hint(f"{kind} válido.")


@router.get(f"{BASE}/novo-cliente/login", response_class=HTMLResponse)
def check_login(
    login: str = Query("", max_length=253), nome: str = Query("", max_length=200),
    desk: Desk = at("services.write"),
) -> HTMLResponse:  # fmt: skip
    """As typed: a suggestion from the name while the login is empty; taken or free otherwise."""
    typed = login.strip()
    if not typed:
        suggestion = services.suggest_login(desk.session, nome) if nome.strip() else ""
        return desk.render(
            "_login_field.html",
            login=suggestion,
            hint="sugerido a partir do nome" if suggestion else "",
            bad=False,
        )
    if any(c.isspace() for c in typed):
        return desk.render("_login_field.html", login=typed, hint="O login não pode ter espaços.", bad=True)
    taken = services.login_holder(desk.session, typed) is not None
    hint = "Login já em uso." if taken else "Login disponível."
    return desk.render("_login_field.html", login=typed, hint=hint, bad=taken)


@router.post(f"{BASE}/novo-cliente", response_class=HTMLResponse)
def create(form: Form, desk: Desk = at("customers.write")) -> HTMLResponse:
    desk.who.require("services.write")
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf"}
    try:
        customer, service, password, fee, book = _create(desk, form)
    except Problem as exc:
        desk.session.rollback()
        return desk.render(
            "signup.html", 422, values=values, problem=(exc.field, exc.message), **_choices(desk)
        )
    except DomainError as exc:
        desk.session.rollback()
        problem = ("", f"{words.error_title(exc)}: {words.error_text(exc)}")
        return desk.render("signup.html", 422, values=values, problem=problem, **_choices(desk))
    return desk.render(
        "signup_done.html", 201, customer=customer, service=service, password=password, fee=fee, book=book
    )


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _create(desk: Desk, form: FormData) -> tuple[Customer, Any, str, list[Any], Any]:
    kind = CustomerKind.COMPANY if _text(form, "tipo") == "company" else CustomerKind.PERSON
    required = ["nome", "documento", "telefone", "logradouro", "cidade", "uf", "plano", "login"]
    if kind is CustomerKind.PERSON:
        required.append("nascimento")
    names = {
        "nome": "Nome",
        "documento": "CPF/CNPJ",
        "telefone": "Telefone",
        "logradouro": "Logradouro",
        "cidade": "Cidade",
        "uf": "UF",
        "plano": "Plano",
        "login": "Login",
        "nascimento": "Nascimento",
    }
    for name in required:
        if not _text(form, name):
            raise Problem(name, f"Preencha o campo “{names[name]}”.")
    address = {
        "cep": _text(form, "cep") or None,
        "street": _text(form, "logradouro"),
        "number": _text(form, "numero") or None,
        "complement": _text(form, "complemento") or None,
        "district": _text(form, "bairro") or None,
        "city": _text(form, "cidade"),
        "state": _text(form, "uf"),
    }
    body: dict[str, Any] = {
        "kind": kind,
        "name": _text(form, "nome"),
        "document": _text(form, "documento"),
        "phones": [_text(form, "telefone")],
        "emails": [e for e in [_text(form, "email")] if e],
        "addresses": {AddressKind.REGISTRATION: address},
    }
    if kind is CustomerKind.PERSON:
        body["birth_date"] = _date(form, "nascimento", "Nascimento")
    try:
        customer_in = CustomerIn.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = next((str(p) for p in reversed(first["loc"]) if str(p) in FIELDS), "")
        field_name, label = FIELDS.get(where, ("", "Cadastro"))
        raise Problem(field_name, f"“{label}”: valor inválido ({first['msg']}).") from None
    customer = create_customer(desk.session, customer_in, desk.scope)
    plan = plans.get_plan(desk.session, int(_text(form, "plano")))
    method_id = _text(form, "forma_cobranca")
    password = _text(form, "senha") or services.generate_password()
    due_day = _int(form, "vencimento", "Vencimento", 1, 28)
    service = services.add_service(
        desk.session,
        customer=customer,
        plan=plan,
        login=_text(form, "login"),
        password=password,
        due_day=due_day,
        billing_method_id=int(method_id) if method_id.isdigit() else None,
    )
    customers.set_address(desk.session, customer, AddressKind.INSTALLATION, address, service)
    fee: list[Any] = []
    if _text(form, "taxa_valor"):
        desk.who.require("finance.charge")
        fee = installation_fee(
            desk.session,
            service,
            amount=_money(form, "taxa_valor", "Taxa de instalação"),
            installments=_int(form, "taxa_parcelas", "Parcelas", 1, 24),
            first_due=_date(form, "taxa_vencimento", "Primeiro vencimento"),
        )
    book = None
    if _text(form, "carne_parcelas"):
        desk.who.require("finance.charge")
        book = carne(
            desk.session,
            service,
            first_due=_date(form, "carne_vencimento", "Primeiro vencimento do carnê"),
            installments=_int(form, "carne_parcelas", "Mensalidades do carnê", 1, 36),
            start=today_in(desk.zone),
        )
    desk.session.flush()
    return customer, service, password, fee, book


def _date(form: FormData, name: str, label: str) -> date:
    try:
        return date.fromisoformat(_text(form, name))
    except ValueError:
        raise Problem(name, f"“{label}”: data inválida; use dd/mm/aaaa.") from None


def _int(form: FormData, name: str, label: str, low: int, high: int) -> int:
    text = _text(form, name) or str(low)
    if not text.isdigit() or not low <= int(text) <= high:
        raise Problem(name, f"“{label}”: de {low} a {high}.")
    return int(text)


def _money(form: FormData, name: str, label: str) -> Decimal:
    text = _text(form, name).replace("R$", "").replace(".", "").replace(",", ".").strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise Problem(name, f"“{label}”: valor inválido; ex.: 150,00.") from None
    if value <= 0:
        raise Invalid("the installation fee must be more than zero")
    return value


def _hint(text: str, bad: bool = False) -> HTMLResponse:
    from html import escape

    css = "hint bad" if bad else "hint"
    return HTMLResponse(f'<small class="{css}" id="documento-aviso">{escape(text)}</small>')
