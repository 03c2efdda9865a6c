"""Bank return files (arquivo retorno) read into payment lines. Pure parsing; applying them is
``bank_return``.

- **CNAB 240** (FEBRABAN's layout, which Banco do Brasil, Sicoob, Caixa and others follow for
  cobrança): each title is a segment T (nosso número at 38-57, movement code 16-17, due date
  74-81, face value 82-96) followed by its segment U (fine and interest 18-32, discount 33-47,
  amount paid 78-92, occurrence date 138-145, credit date 146-153). Movement 06 (liquidação) and 17
  (liquidação após baixa) are payments.
- **CNAB 400, Banco do Brasil** (CBR643): header "02RETORNO" with the bank at 77-79; detail
  record "7" for a 7-digit convênio (nosso número 64-80) or "1" for a 6-digit one (63-73);
  comando 109-110, liquidation date 111-116, due date 147-152, face value 153-165, credit date
  176-181, discount 241-253, amount received 254-266, interest 267-279. Comandos 05, 06, 07, 08,
  15 and 17 are payments.

Positions above are 1-based and inclusive, as the layouts print them. A line that does not parse
becomes a ``Problem`` naming its number; the others are still read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

PAID_240 = {"06": "liquidação", "17": "liquidação após baixa"}
PAID_400_BB = {
    "05": "liquidado sem registro",
    "06": "liquidação normal",
    "07": "liquidação por conta",
    "08": "liquidação por saldo",
    "15": "liquidação em cartório",
    "17": "liquidação após baixa",
}


@dataclass(frozen=True)
class Line:
    """One title's movement in the file."""

    number: int  # line in the file (1-based; for CNAB 240, the segment T's)
    nosso_numero: str
    code: str  # movement / comando
    paid: bool  # a liquidation
    face_value: Decimal
    amount_paid: Decimal
    fees: Decimal  # interest and fine received
    discount: Decimal
    paid_on: date | None
    credited_on: date | None


@dataclass(frozen=True)
class Problem:
    number: int
    reason: str


@dataclass(frozen=True)
class ReturnFile:
    layout: str  # "cnab240" or "cnab400"
    bank: str
    lines: list[Line]
    problems: list[Problem]


def _field(text: str, start: int, end: int) -> str:
    return text[start - 1 : end]


def _money(text: str, start: int, end: int) -> Decimal:
    raw = _field(text, start, end).strip() or "0"
    if not raw.isdigit():
        raise ValueError(f"positions {start}-{end} are not an amount ({raw!r})")
    return Decimal(int(raw)) / 100


def _date8(text: str, start: int) -> date | None:
    raw = _field(text, start, start + 7)
    if raw.strip("0 ") == "":
        return None
    return date(int(raw[4:8]), int(raw[2:4]), int(raw[:2]))


def _date6(text: str, start: int) -> date | None:
    raw = _field(text, start, start + 5)
    if raw.strip("0 ") == "":
        return None
    return date(2000 + int(raw[4:6]), int(raw[2:4]), int(raw[:2]))


def parse(content: bytes) -> ReturnFile:
    """The layout is told by the line length (240 or 400); ValueError when the file is neither."""
    text = content.decode("latin-1")
    rows = [row.rstrip("\r") for row in text.split("\n")]
    while rows and not rows[-1].strip():
        rows.pop()
    if not rows:
        raise ValueError("the file is empty")
    width = len(rows[0])
    if width == 240:
        return _parse_240(rows)
    if width == 400:
        return _parse_400(rows)
    raise ValueError(f"the first line has {width} characters; a CNAB return file has 240 or 400")


def _parse_240(rows: list[str]) -> ReturnFile:
    header = rows[0]
    if _field(header, 8, 8) != "0" or _field(header, 143, 143) != "2":
        raise ValueError("not a CNAB 240 return file (the header's record type 0 and code 2 are missing)")
    lines: list[Line] = []
    problems: list[Problem] = []
    pending: tuple[int, str] | None = None  # the segment T waiting for its U
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != 240:
            problems.append(Problem(number, f"{len(row)} characters instead of 240"))
            pending = None
            continue
        if _field(row, 8, 8) != "3":
            continue  # batch header/trailer, file trailer
        segment = _field(row, 14, 14)
        if segment == "T":
            if pending:
                problems.append(Problem(pending[0], "segment T without its segment U"))
            pending = (number, row)
        elif segment == "U":
            if pending is None:
                problems.append(Problem(number, "segment U without a segment T before it"))
                continue
            t_number, t = pending
            pending = None
            try:
                code = _field(t, 16, 17)
                lines.append(
                    Line(
                        number=t_number,
                        nosso_numero=_field(t, 38, 57).strip(),
                        code=code,
                        paid=code in PAID_240,
                        face_value=_money(t, 82, 96),
                        amount_paid=_money(row, 78, 92),
                        fees=_money(row, 18, 32),
                        discount=_money(row, 33, 47),
                        paid_on=_date8(row, 138),
                        credited_on=_date8(row, 146),
                    )
                )
            except ValueError as exc:
                problems.append(Problem(t_number, f"does not parse: {exc}"))
    if pending:
        problems.append(Problem(pending[0], "segment T without its segment U"))
    return ReturnFile("cnab240", _field(header, 1, 3), lines, problems)


def _parse_400(rows: list[str]) -> ReturnFile:
    header = rows[0]
    if _field(header, 1, 9) != "02RETORNO":
        raise ValueError("not a CNAB 400 return file (the header does not start with 02RETORNO)")
    bank = _field(header, 77, 79)
    if bank != "001":
        raise ValueError(f"CNAB 400 is read in Banco do Brasil's layout (001); this file is bank {bank}")
    lines: list[Line] = []
    problems: list[Problem] = []
    for number, row in enumerate(rows[1:], start=2):
        kind = row[:1]
        if kind == "9":
            continue
        if len(row) != 400:
            problems.append(Problem(number, f"{len(row)} characters instead of 400"))
            continue
        if kind not in ("1", "7"):
            continue  # other record types (e.g. 5: extra data)
        try:
            code = _field(row, 109, 110)
            lines.append(
                Line(
                    number=number,
                    nosso_numero=(_field(row, 64, 80) if kind == "7" else _field(row, 63, 73)).strip(),
                    code=code,
                    paid=code in PAID_400_BB,
                    face_value=_money(row, 153, 165),
                    amount_paid=_money(row, 254, 266),
                    fees=_money(row, 267, 279),
                    discount=_money(row, 241, 253),
                    paid_on=_date6(row, 111),
                    credited_on=_date6(row, 176),
                )
            )
        except ValueError as exc:
            problems.append(Problem(number, f"does not parse: {exc}"))
    return ReturnFile("cnab400", bank, lines, problems)
