"""Boleto check digits against the published Banco do Brasil example, the due factor across its
2025 rollover, and return files parsed field by field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billing_bridge import cnab
from billing_bridge.boleto import (
    BancoDoBrasil,
    barcode,
    barcode_of,
    bb_boleto,
    due_date_of,
    due_factor,
    formatted,
    itf_svg,
    linha_digitavel,
)
from tests.fakes.cnab_files import Title, cnab240, cnab400_bb

# Banco do Brasil's classic example (convênio 050094, carteira 31, R$ 1,00 due 31/12/2007),
# reproduced by every boleto library: barcode and linha digitável.
BB_BARCODE = "00193373700000001000500940144816060680935031"
BB_LINHA = "00190.50095 40144.816069 06809.350314 3 37370000000100"
TWO = Decimal("2.00")


def test_the_published_banco_do_brasil_example_is_reproduced() -> None:
    agreement = BancoDoBrasil("050094", "31", "1606", "06809350")
    slip = bb_boleto(agreement, 1448, date(2007, 12, 31), Decimal("1.00"))
    assert slip.nosso_numero == "05009401448"
    assert slip.barcode == BB_BARCODE and slip.linha == BB_LINHA
    assert barcode_of(BB_LINHA) == BB_BARCODE


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("00191.50095 40144.816069 06809.350314 3 37370000000100", "field 1"),
        ("00190.50095 40144.816068 06809.350314 3 37370000000100", "field 2"),
        ("00190.50095 40144.816069 06809.350315 3 37370000000100", "field 3"),
        ("00190.50095 40144.816069 06809.350314 4 37370000000100", "general check digit"),
        ("00190.50095 40144.816069 06809.350314 3 3737000000010", "47 digits"),
    ],
)
def test_a_mistyped_linha_digitavel_names_the_field(typed: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        barcode_of(typed)


def test_due_factor_rolls_over_in_2025() -> None:
    assert due_factor(date(2000, 7, 3)) == "1000"
    assert due_factor(date(2025, 2, 21)) == "9999"
    assert due_factor(date(2025, 2, 22)) == "1000"  # FEBRABAN: the factor starts again
    assert due_factor(date(2026, 12, 10)) == "1656"
    assert due_date_of("1656", near=date(2026, 12, 3)) == date(2026, 12, 10)
    assert due_date_of("3737", near=date(2007, 12, 1)) == date(2007, 12, 31)


def test_seven_digit_convenio_boleto_and_its_barcode_image() -> None:
    agreement = BancoDoBrasil("1234567", "17")
    slip = bb_boleto(agreement, 42, date(2026, 12, 10), Decimal("99.90"))
    assert slip.nosso_numero == "12345670000000042"
    assert slip.barcode[19:] == "000000" + "12345670000000042" + "17"
    assert barcode_of(slip.linha) == slip.barcode
    assert agreement.sequence_of(slip.nosso_numero) == 42
    assert agreement.sequence_of("76543210000000042") is None
    svg = itf_svg(slip.barcode)
    assert svg.startswith("<svg") and svg.count("<rect") > 44  # bars, not text
    with pytest.raises(ValueError, match=r"99\.999\.999,99"):
        barcode("001", date(2026, 12, 10), Decimal("100000000.00"), "0" * 25)
    assert formatted(linha_digitavel(BB_BARCODE)) == BB_LINHA


def test_cnab_240_and_400_are_read_field_by_field() -> None:
    titles = [
        Title(
            "12345670000000042", "06", Decimal("99.90"), Decimal("101.90"), date(2026, 12, 11), Decimal("2")
        ),
        Title("12345670000000043", "02", Decimal("50.00"), Decimal("0"), date(2026, 12, 11)),
    ]
    for content, layout in ((cnab240("001", titles, date(2026, 12, 12)), "cnab240"),
                            (cnab400_bb("1234567", titles, date(2026, 12, 12)), "cnab400")):  # fmt: skip
        parsed = cnab.parse(content)
        assert (parsed.layout, parsed.bank, parsed.problems) == (layout, "001", [])
        paid, entry = parsed.lines
        assert paid.nosso_numero == "12345670000000042" and paid.paid and not entry.paid
        assert (paid.face_value, paid.amount_paid, paid.fees) == (
            Decimal("99.90"),
            Decimal("101.90"),
            Decimal("2"),
        )
        assert paid.paid_on == date(2026, 12, 11)
    broken = cnab240("001", titles, date(2026, 12, 12)).split(b"\r\n")
    broken[2] = broken[2][:200]
    parsed = cnab.parse(b"\r\n".join(broken))
    assert parsed.problems[0].reason == "200 characters instead of 240"
    assert len(parsed.lines) == 1  # the good title is still read
    with pytest.raises(ValueError, match="240 or 400"):
        cnab.parse(b"hello\n")
