"""Return files as the banks send them, built field by field from the layouts (FEBRABAN CNAB 240
v10 segments T and U; Banco do Brasil CBR643, CNAB 400 with a 7-digit convênio), for tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class Title:
    nosso_numero: str
    code: str  # movement (06: liquidação)
    face_value: Decimal
    paid: Decimal
    paid_on: date
    fees: Decimal = Decimal(0)


def _put(line: list[str], start: int, text: str) -> None:
    """Write ``text`` at 1-based position ``start``."""
    line[start - 1 : start - 1 + len(text)] = list(text)


def _cents(value: Decimal, width: int) -> str:
    return f"{int(value * 100):0{width}d}"


def cnab240(bank: str, titles: list[Title], made: date) -> bytes:
    rows = []
    header = [" "] * 240
    _put(header, 1, bank + "0000" + "0")
    _put(header, 73, "PROVEDOR EXEMPLO LTDA".ljust(30))
    _put(header, 143, "2" + made.strftime("%d%m%Y") + "101500" + "000001" + "103")
    rows.append(header)
    batch = [" "] * 240
    _put(batch, 1, bank + "0001" + "1" + "T" + "01")
    rows.append(batch)
    seq = 0
    for t in titles:
        seq += 1
        seg_t = [" "] * 240
        _put(seg_t, 1, f"{bank}00013{seq:05d}T {t.code}")
        _put(seg_t, 18, "012340" + "000000012345" + "6" + " ")
        _put(seg_t, 38, t.nosso_numero.ljust(20))
        _put(seg_t, 58, "1" + "FAT".ljust(15) + t.paid_on.strftime("%d%m%Y") + _cents(t.face_value, 15))
        _put(seg_t, 97, bank + "01234" + "0")
        _put(seg_t, 131, "09" + "1" + "000000000000191" + "MARIA DA SILVA".ljust(40))
        rows.append(seg_t)
        seq += 1
        seg_u = [" "] * 240
        _put(seg_u, 1, f"{bank}00013{seq:05d}U {t.code}")
        _put(seg_u, 18, _cents(t.fees, 15) + _cents(Decimal(0), 15) * 3)
        _put(seg_u, 78, _cents(t.paid, 15) + _cents(t.paid, 15) + _cents(Decimal(0), 30))
        _put(seg_u, 138, t.paid_on.strftime("%d%m%Y") + t.paid_on.strftime("%d%m%Y"))
        rows.append(seg_u)
    trailer = [" "] * 240
    _put(trailer, 1, f"{bank}00015" + " " * 9 + f"{seq + 2:06d}")
    rows.append(trailer)
    end = [" "] * 240
    _put(end, 1, f"{bank}99999" + " " * 9 + "000001" + f"{len(rows) + 1:06d}")
    rows.append(end)
    return "\r\n".join("".join(r) for r in rows).encode("latin-1") + b"\r\n"


def cnab400_bb(convenio: str, titles: list[Title], made: date) -> bytes:
    rows = []
    header = [" "] * 400
    _put(header, 1, "02RETORNO01COBRANCA".ljust(26))
    _put(header, 27, "1234" + "5" + "00012345" + "6")
    _put(header, 47, "PROVEDOR EXEMPLO LTDA".ljust(30) + "001BANCODOBRASIL".ljust(18))
    _put(header, 95, made.strftime("%d%m%y") + "0000001")
    _put(header, 150, convenio)
    _put(header, 395, "000001")
    rows.append(header)
    for n, t in enumerate(titles, start=2):
        line = [" "] * 400
        _put(line, 1, "702" + "11222333000181" + "1234" + "5" + "00012345" + "6" + convenio)
        _put(line, 39, "FAT".ljust(25))
        _put(line, 64, t.nosso_numero.rjust(17, "0"))
        _put(line, 107, "17" + t.code + t.paid_on.strftime("%d%m%y") + "FAT".ljust(10))
        _put(line, 147, t.paid_on.strftime("%d%m%y") + _cents(t.face_value, 13) + "001" + "1234" + "5")
        _put(line, 174, "01" + t.paid_on.strftime("%d%m%y"))
        _put(line, 182, "0" * 72)
        _put(line, 254, _cents(t.paid, 13) + _cents(t.fees, 13) + "0" * 13)
        _put(line, 395, f"{n:06d}")
        rows.append(line)
    trailer = [" "] * 400
    _put(trailer, 1, "9")
    _put(trailer, 395, f"{len(rows) + 1:06d}")
    rows.append(trailer)
    return "\r\n".join("".join(r) for r in rows).encode("latin-1") + b"\r\n"
