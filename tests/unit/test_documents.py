"""CPF and CNPJ check digits (python-stdnum) plus the project's one extra rule."""

from __future__ import annotations

import re

import pytest

from aaa.errors import Invalid
from aaa.subscribers.documents import is_cnpj, is_cpf, normalize_document
from aaa.vocabulary.subscribers import CustomerKind


def test_valid_documents_are_stored_compact() -> None:
    assert normalize_document(CustomerKind.PERSON, "529.982.247-25") == "52998224725"
    assert normalize_document(CustomerKind.COMPANY, "11.222.333/0001-81") == "11222333000181"


def test_the_alphanumeric_cnpj_of_2026_is_accepted_upper_case() -> None:
    assert is_cnpj("12.ABC.345/01DE-35")
    assert normalize_document(CustomerKind.COMPANY, "12.abc.345/01de-35") == "12ABC34501DE35"
    assert not is_cnpj("12.ABC.345/01DE-36")


@pytest.mark.parametrize("value", ["111.111.111-11", "000.000.000-00", "99999999999"])
def test_one_repeated_digit_is_not_a_cpf(value: str) -> None:
    assert not is_cpf(value)


@pytest.mark.parametrize("value", ["11111111111111", "00.000.000/0000-00"])
def test_one_repeated_digit_is_not_a_cnpj(value: str) -> None:
    assert not is_cnpj(value)


def test_a_wrong_kind_or_check_digit_says_what_is_wrong() -> None:
    with pytest.raises(Invalid, match=re.escape("CPF '529.982.247-24' is invalid")):
        normalize_document(CustomerKind.PERSON, "529.982.247-24")
    with pytest.raises(Invalid, match=re.escape("CNPJ '529.982.247-25' is invalid")):
        normalize_document(CustomerKind.COMPANY, "529.982.247-25")
