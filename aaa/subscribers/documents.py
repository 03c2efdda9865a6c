"""CPF and CNPJ: normalisation and check digits (Receita Federal's modulo-11 rules)."""

from __future__ import annotations

from aaa.errors import Invalid
from aaa.vocabulary.subscribers import CustomerKind


def digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def _check_digit(numbers: str, weights: range | list[int]) -> str:
    total = sum(int(n) * w for n, w in zip(numbers, weights, strict=True))
    rest = total % 11
    return "0" if rest < 2 else str(11 - rest)


def is_cpf(value: str) -> bool:
    cpf = digits(value)
    if len(cpf) != 11 or cpf == cpf[0] * 11:  # 000.000.000-00 etc. pass the sums but are invalid
        return False
    first = _check_digit(cpf[:9], range(10, 1, -1))
    second = _check_digit(cpf[:9] + first, range(11, 1, -1))
    return cpf[9:] == first + second


_CNPJ_WEIGHTS = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]


def is_cnpj(value: str) -> bool:
    cnpj = digits(value)
    if len(cnpj) != 14 or cnpj == cnpj[0] * 14:
        return False
    first = _check_digit(cnpj[:12], _CNPJ_WEIGHTS)
    second = _check_digit(cnpj[:12] + first, [6, *_CNPJ_WEIGHTS])
    return cnpj[12:] == first + second


def normalize_document(kind: CustomerKind, value: str) -> str:
    """The document's digits, or Invalid naming what is wrong: a person has a CPF, a company a CNPJ."""
    if kind is CustomerKind.PERSON:
        if not is_cpf(value):
            raise Invalid(f"CPF {value!r} is invalid: it needs 11 digits with valid check digits")
    elif not is_cnpj(value):
        raise Invalid(f"CNPJ {value!r} is invalid: it needs 14 digits with valid check digits")
    return digits(value)


def normalize_cep(value: str) -> str:
    cep = digits(value)
    if len(cep) != 8:
        raise Invalid(f"CEP {value!r} is invalid: it has 8 digits (00000-000)")
    return cep
