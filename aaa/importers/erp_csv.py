"""ERP exports (CSV) into import records: one documented layout, and presets that rename the
columns of common exports onto it (docs/cutover.md has the layout and the presets).

Files (comma or semicolon separated, UTF-8 or Latin-1, a header line):
- customers: ``codigo`` (the ERP's customer id), ``nome``, ``tipo`` (PF/PJ, F/J), ``cpf_cnpj``,
  ``telefone``, ``email``, ``cep``, ``logradouro``, ``numero``, ``complemento``, ``bairro``,
  ``cidade``, ``uf``;
- services: ``login``, ``senha``, ``cliente`` (the customer's ``codigo``), ``plano`` (a plan of
  this system, by name), ``status``, ``vencimento`` (due day), ``forma_cobranca`` (billing method
  by name), ``ip``, ``mac``, ``valor``;
- charges (open ones): ``login``, ``vencimento`` (dd/mm/aaaa or aaaa-mm-dd), ``valor`` (1.234,56
  or 1234.56), ``descricao``, ``id``.

Statuses: active → enabled; blocked by hand → blocked_manual; suspended or in arrears (IXC's
FA/CA, MK-Auth's bloqueado = sim) →
suspended_debt, kept only as a report line if no overdue charge of the login comes with the import
(the first suspension routine would enable it again); cancelled → not imported.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from aaa.importers.source import Problem, Source, SourceCharge, SourceCustomer, SourceService
from aaa.vocabulary.search import only_digits

# preset → file → {our column: their column}
PRESETS: dict[str, dict[str, dict[str, str]]] = {
    "generic": {"customers": {}, "services": {}, "charges": {}},
    # MK-Auth: sis_cliente (one row per login, the customer's data on it) and sis_lanc.
    "mkauth": {
        "customers": {
            "codigo": "login",
            "nome": "nome",
            "tipo": "pessoa",
            "cpf_cnpj": "cpf_cnpj",
            "telefone": "celular",
            "email": "email",
            "cep": "cep",
            "logradouro": "endereco",
            "numero": "numero",
            "complemento": "complemento",
            "bairro": "bairro",
            "cidade": "cidade",
            "uf": "estado",
        },
        "services": {
            "login": "login",
            "senha": "senha",
            "cliente": "login",
            "plano": "plano",
            "status": "bloqueado",
            "vencimento": "venc",
            "ip": "ip",
            "mac": "mac",
            "forma_cobranca": "tipo_cob",
        },
        "charges": {
            "login": "login",
            "vencimento": "datavenc",
            "valor": "valor",
            "descricao": "obs",
            "id": "id",
        },
    },
    # IXC Soft: cliente, radusuarios joined with the contract's plan, fn_areceber.
    "ixc": {
        "customers": {
            "codigo": "id",
            "nome": "razao",
            "tipo": "tipo_pessoa",
            "cpf_cnpj": "cnpj_cpf",
            "telefone": "telefone_celular",
            "email": "email",
            "cep": "cep",
            "logradouro": "endereco",
            "numero": "numero",
            "complemento": "complemento",
            "bairro": "bairro",
            "cidade": "cidade",
            "uf": "uf",
        },
        "services": {
            "login": "login",
            "senha": "senha",
            "cliente": "id_cliente",
            "plano": "plano",
            "status": "status_internet",
            "vencimento": "dia_vencimento",
            "ip": "ip",
            "mac": "mac",
        },
        "charges": {
            "login": "login",
            "vencimento": "data_vencimento",
            "valor": "valor",
            "descricao": "obs",
            "id": "id",
        },
    },
}

_ENABLED = {"ativo", "a", "s", "sim", "n", "nao", "não", "enabled", "liberado", "0"}
_BLOCKED = {"bloqueado", "cm", "blocked", "bloqueio manual", "1", "sim_manual"}
_DEBT = {"suspenso", "fa", "ca", "suspenso por debito", "suspenso por débito", "debito", "atraso"}
_CANCELLED = {"cancelado", "d", "i", "cancelled", "desativado", "inativo"}


def _table(content: str) -> list[dict[str, str]]:
    if not content.strip():
        return []
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(content[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [
        {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        for row in csv.DictReader(io.StringIO(content), dialect=dialect)
    ]


def _renamed(rows: list[dict[str, str]], mapping: dict[str, str]) -> list[dict[str, str]]:
    if not mapping:
        return rows
    return [{ours: row.get(theirs, "") for ours, theirs in mapping.items()} for row in rows]


def text_of(data: bytes) -> str:
    """UTF-8, else Latin-1 (what older ERPs export)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def money(text: str) -> Decimal:
    cleaned = text.replace("R$", "").strip()
    if "," in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an amount (1.234,56 or 1234.56)") from None
    return value.quantize(Decimal("0.01"))


def day(text: str) -> date:
    for pattern in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date (dd/mm/aaaa)")


def status_of(text: str, preset: str) -> str | None:
    """Our status for theirs; None: cancelled (not imported)."""
    value = text.strip().lower()
    if preset == "mkauth":  # bloqueado: sim / nao (MK-Auth blocks for debt)
        return "suspended_debt" if value in ("sim", "s") else "enabled"
    if value in _CANCELLED:
        return None
    if value in _DEBT:
        return "suspended_debt"
    if value in _BLOCKED:
        return "blocked_manual"
    if value in _ENABLED or not value:
        return "enabled"
    raise ValueError(f"status {text!r} is not known (ativo, bloqueado, suspenso, cancelado)")


def read(
    customers: str, services: str, charges: str, *, preset: str = "generic", today: date | None = None
) -> Source:
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r} ({', '.join(PRESETS)})")
    names = PRESETS[preset]
    source = Source(name=f"erp:{preset}")
    today = today or date.today()
    seen_customers: set[str] = set()
    for number, row in enumerate(_renamed(_table(customers), names["customers"]), start=2):
        key = row.get("codigo", "")
        if not key or not row.get("nome"):
            source.problems.append(Problem("customer", key or f"line {number}", "needs codigo and nome"))
            continue
        if key in seen_customers:
            continue  # MK-Auth: one line per login; the customer is the same
        seen_customers.add(key)
        document = only_digits(row.get("cpf_cnpj", "")) or None
        kind = (
            "company"
            if (row.get("tipo", "").upper()[:1] == "J" or (document and len(document) == 14))
            else "person"
        )
        address = tuple(
            (ours, row[theirs])
            for ours, theirs in (
                ("cep", "cep"),
                ("street", "logradouro"),
                ("number", "numero"),
                ("complement", "complemento"),
                ("district", "bairro"),
                ("city", "cidade"),
                ("state", "uf"),
            )
            if row.get(theirs)
        )
        complete = {"street", "city", "state"} <= {field for field, _ in address}
        source.customers.append(
            SourceCustomer(
                key=f"erp:{key}",
                name=row["nome"][:200],
                document=document,
                kind=kind,
                phones=tuple(p for p in (row.get("telefone", ""),) if p),
                emails=tuple(e for e in (row.get("email", ""),) if e),
                address=address if complete else (),
            )
        )
        if address and not complete:
            source.notes.append(
                Problem("customer", key, "address left out: it needs logradouro, cidade and uf")
            )
    open_by_login: dict[str, list[SourceCharge]] = {}
    for number, row in enumerate(_renamed(_table(charges), names["charges"]), start=2):
        login = row.get("login", "")
        key = row.get("id") or f"{login}|{row.get('vencimento')}|{row.get('valor')}"
        try:
            due, amount = day(row.get("vencimento", "")), money(row.get("valor", ""))
            charge = SourceCharge(key, login, due, amount, row.get("descricao", "")[:200])
        except ValueError as exc:
            source.problems.append(Problem("charge", f"line {number}", str(exc)))
            continue
        if charge.amount <= 0:
            source.problems.append(Problem("charge", key, "the amount must be more than zero"))
            continue
        source.charges.append(charge)
        open_by_login.setdefault(login, []).append(charge)
    for number, row in enumerate(_renamed(_table(services), names["services"]), start=2):
        login = row.get("login", "")
        if not login or not row.get("senha"):
            source.problems.append(Problem("service", login or f"line {number}", "needs login and senha"))
            continue
        try:
            status = status_of(row.get("status", ""), preset)
            due_day = int(row["vencimento"]) if row.get("vencimento", "").isdigit() else None
            price = money(row["valor"]) if row.get("valor") else None
        except ValueError as exc:
            source.problems.append(Problem("service", login, str(exc)))
            continue
        if status is None:
            source.notes.append(Problem("service", login, "cancelled in the ERP: not imported"))
            continue
        if status == "suspended_debt" and not any(c.due_date < today for c in open_by_login.get(login, [])):
            source.notes.append(
                Problem(
                    "service",
                    login,
                    "suspended for debt without an overdue charge in the import: "
                    "the first suspension routine will enable it again",
                )
            )
        source.services.append(
            SourceService(
                key=login,
                customer_key=f"erp:{row.get('cliente', '')}",
                plan_key=row.get("plano") or None,
                password=row["senha"],
                status=status,
                simultaneous_use=1,
                mac=row.get("mac") or None,
                fixed_ipv4=row.get("ip") or None,
                due_day=due_day if due_day and 1 <= due_day <= 28 else None,
                billing_method=row.get("forma_cobranca") or None,
                price=price,
            )
        )
    return source
