"""CPF and CNPJ: normalisation and check digits, from python-stdnum (which also knows the
alphanumeric CNPJ the Receita Federal issues from July 2026, e.g. 12.ABC.345/01DE-35).

One rule is ours: a number made of one repeated digit (111.111.111-11) passes the check-digit
sums but is not a valid document; stdnum accepts it, we refuse it.
"""

from __future__ import annotations

from stdnum.br import cnpj, cpf

from aaa.errors import Invalid
from aaa.vocabulary.search import only_digits
from aaa.vocabulary.subscribers import CustomerKind


def _repeated(compact: str) -> bool:
    return len(set(compact)) == 1


def is_cpf(value: str) -> bool:
    return cpf.is_valid(value) and not _repeated(cpf.compact(value))


def is_cnpj(value: str) -> bool:
    return cnpj.is_valid(value) and not _repeated(cnpj.compact(value))


def normalize_document(kind: CustomerKind, value: str) -> str:
    """The document as stored (digits; a new CNPJ's letters upper-case), or Invalid naming what
    is wrong: a person has a CPF, a company a CNPJ."""
    if kind is CustomerKind.PERSON:
        if not is_cpf(value):
            raise Invalid(f"CPF {value!r} is invalid: it needs 11 digits with valid check digits")
        return cpf.compact(value)
    if not is_cnpj(value):
        raise Invalid(
            f"CNPJ {value!r} is invalid: it needs 14 characters (digits, or letters and digits in the "
            "new format) with valid check digits"
        )
    return cnpj.compact(value)


def normalize_cep(value: str) -> str:
    cep = only_digits(value)
    if len(cep) != 8:
        raise Invalid(f"CEP {value!r} is invalid: it has 8 digits (00000-000)")
    return cep


def format_document(value: str | None) -> str:
    """A stored CPF/CNPJ as people write it (529.982.247-25, 11.222.333/0001-81)."""
    if not value:
        return ""
    return cpf.format(value) if len(value) == 11 else cnpj.format(value) if len(value) == 14 else value
