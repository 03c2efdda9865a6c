"""Boleto de cobrança: the 44-digit barcode, the 47-digit linha digitável and their check digits
(FEBRABAN's layout, the same for every bank), plus the Banco do Brasil "campo livre" for an ISP
that prints its own boletos, and the Interleaved 2 of 5 image. Pure functions.

Barcode: bank (3) + currency "9" + general check digit (mod 11) + due factor (4) + amount in
cents (10) + campo livre (25, the bank's). Linha digitável: three fields of the barcode (bank,
currency and campo livre 1-5; campo livre 6-15; campo livre 16-25), each with a mod 10 digit, then
the general check digit and factor + amount. The due factor counts days from 07/10/1997; it reached
9999 on 21/02/2025 and started again at 1000 on 22/02/2025 (FEBRABAN's rule for the rollover).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

_BASE = date(1997, 10, 7)
_CYCLE = 9000  # factors 1000..9999


def due_factor(due: date) -> str:
    """Four digits: days since the base date, wrapping from 9999 back to 1000."""
    days = (due - _BASE).days
    if days < 1000:
        raise ValueError(f"a due date before 03/07/2000 has no factor ({due:%d/%m/%Y})")
    return f"{(days - 1000) % _CYCLE + 1000:04d}"


def due_date_of(factor: str, near: date) -> date:
    """The date a factor stands for: of the dates that share it (every 9,000 days), the one
    nearest ``near`` (a return file's or today's date)."""
    first = _BASE + timedelta(days=int(factor))
    cycles = round((near - first).days / _CYCLE)
    return first + timedelta(days=max(0, cycles) * _CYCLE)


def mod10(digits: str) -> int:
    """The linha digitável's field digit: weights 2, 1, 2… from the right, digits of products summed."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        product = int(ch) * (2 if i % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def mod11(digits: str) -> int:
    """The barcode's general digit: weights 2..9 from the right; 0, 10 and 11 become 1."""
    total = sum(int(ch) * (2 + i % 8) for i, ch in enumerate(reversed(digits)))
    digit = 11 - total % 11
    return 1 if digit in (0, 10, 11) else digit


def barcode(bank: str, due: date, amount: Decimal, free_field: str) -> str:
    """The 44 digits."""
    cents = int((amount * 100).to_integral_value())
    if not (len(bank) == 3 and bank.isdigit() and len(free_field) == 25 and free_field.isdigit()):
        raise ValueError("a barcode takes a 3-digit bank code and a 25-digit campo livre")
    if not 0 <= cents < 10**10:
        raise ValueError(f"{amount} does not fit a boleto's amount (at most 99.999.999,99)")
    body = f"{bank}9{due_factor(due)}{cents:010d}{free_field}"
    return body[:4] + str(mod11(body)) + body[4:]


def linha_digitavel(code: str) -> str:
    """The 47 digits printed above the barcode."""
    if len(code) != 44 or not code.isdigit():
        raise ValueError("a boleto barcode has 44 digits")
    free = code[19:]
    one, two, three = code[:4] + free[:5], free[5:15], free[15:]
    return (
        f"{one}{mod10(one)}{two}{mod10(two)}{three}{mod10(three)}"  # fields 1 to 3 with their digits
        f"{code[4]}{code[5:19]}"  # the general digit, then factor and amount
    )


def formatted(linha: str) -> str:
    """00190.50095 40144.816069 06809.350314 3 37370000000100"""
    return (
        f"{linha[:5]}.{linha[5:10]} {linha[10:15]}.{linha[15:21]} "
        f"{linha[21:26]}.{linha[26:32]} {linha[32]} {linha[33:]}"
    )


def barcode_of(linha: str) -> str:
    """The barcode a typed linha digitável stands for, every check digit checked; ValueError
    names the field that is wrong."""
    digits = "".join(ch for ch in linha if ch.isdigit())
    if len(digits) != 47:
        raise ValueError(f"a linha digitável has 47 digits; this has {len(digits)}")
    for number, (start, end) in enumerate(((0, 9), (10, 20), (21, 31)), start=1):
        if mod10(digits[start:end]) != int(digits[end]):
            raise ValueError(f"the check digit of field {number} does not match")
    code = digits[:4] + digits[32] + digits[33:] + digits[4:9] + digits[10:20] + digits[21:31]
    if mod11(code[:4] + code[5:]) != int(code[4]):
        raise ValueError("the general check digit (field 4) does not match")
    return code


@dataclass(frozen=True)
class BancoDoBrasil:
    """A Banco do Brasil agreement (convênio) whose boletos the ISP prints itself: the nosso
    número is the convênio followed by the invoice's number."""

    convenio: str  # 6 or 7 digits
    wallet: str  # carteira, 2 digits (17, 18…)
    agency: str = ""  # 4 digits, with a 6-digit convênio
    account: str = ""  # up to 8 digits, with a 6-digit convênio

    CODE = "001"

    def nosso_numero(self, sequence: int) -> str:
        if len(self.convenio) == 7:
            width = 10
        elif len(self.convenio) == 6:
            width = 5
        else:
            raise ValueError("a Banco do Brasil convênio has 6 or 7 digits")
        if not 0 < sequence < 10**width:
            raise ValueError(f"invoice {sequence} does not fit a {width}-digit nosso número sequence")
        return f"{self.convenio}{sequence:0{width}d}"

    def free_field(self, nosso_numero: str) -> str:
        if len(self.convenio) == 7:  # zeros (6) + nosso número (17) + carteira (2)
            return f"000000{nosso_numero}{self.wallet}"
        return f"{nosso_numero}{int(self.agency):04d}{int(self.account):08d}{self.wallet}"

    def sequence_of(self, nosso_numero: str) -> int | None:
        """The invoice a nosso número from a return file names, or None if it is not ours."""
        digits = nosso_numero.strip()
        if len(digits) < 11 or not digits.isdigit() or not digits.startswith(self.convenio):
            return None
        return int(digits[len(self.convenio) :]) or None


@dataclass(frozen=True)
class Boleto:
    """What the invoice print shows."""

    bank: str
    nosso_numero: str
    due: date
    amount: Decimal
    barcode: str

    @property
    def linha(self) -> str:
        return formatted(linha_digitavel(self.barcode))


def bb_boleto(agreement: BancoDoBrasil, invoice_id: int, due: date, amount: Decimal) -> Boleto:
    number = agreement.nosso_numero(invoice_id)
    return Boleto(
        BancoDoBrasil.CODE,
        number,
        due,
        amount,
        barcode(BancoDoBrasil.CODE, due, amount, agreement.free_field(number)),
    )


def itf_svg(code: str) -> str:
    """The barcode as Interleaved 2 of 5 (narrow 1, wide 3), as an inline SVG without text."""
    from barcode.itf import ITF
    from barcode.writer import SVGWriter

    out = io.BytesIO()
    ITF(code, writer=SVGWriter(), narrow=1, wide=3).write(
        out, {"module_width": 0.25, "module_height": 13.0, "write_text": False, "quiet_zone": 6.5}
    )
    svg = out.getvalue().decode()
    return svg[svg.index("<svg") :]
