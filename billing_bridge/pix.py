"""PIX "copia e cola" (BR Code): the EMV® QR Code Merchant-Presented Mode payload the Banco
Central do Brasil specifies for PIX (Manual de Padrões para Iniciação do Pix), and its QR image.

A payload is a run of ID + length (2 digits) + value fields: 00 payload format "01"; 01 point of
initiation ("12": a one-time code); 26 merchant account (00 GUI "br.gov.bcb.pix", 01 the key for a
static code or 25 the PSP's location URL for a dynamic one, 02 an optional description); 52
merchant category "0000"; 53 currency "986" (BRL); 54 amount; 58 country "BR"; 59 merchant name
(≤ 25); 60 merchant city (≤ 15); 62 additional data (05 the txid, "***" for none); and 63 the
CRC16-CCITT (polynomial 0x1021, initial 0xFFFF) of everything before its value, "6304" included.
Pure functions; the QR image comes from segno.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

import segno

GUI = "br.gov.bcb.pix"
_TXID = re.compile(r"^[A-Za-z0-9]{1,25}$")


def crc16(data: bytes) -> str:
    """CRC16-CCITT-FALSE as four upper-case hex digits."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def _field(tag: str, value: str) -> str:
    if len(value) > 99:
        raise ValueError(f"BR Code field {tag} is {len(value)} characters long; at most 99")
    return f"{tag}{len(value):02d}{value}"


def _plain(text: str, limit: int) -> str:
    """What every bank's reader accepts: no accents, printable ASCII, cut to ``limit``."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch) and 32 <= ord(ch) < 127)
    return " ".join(ascii_only.split())[:limit]


@dataclass(frozen=True)
class Pix:
    """A PIX charge as a BR Code: ``key`` for a static code, or ``location`` (the PSP's URL,
    without scheme) for a dynamic one."""

    merchant_name: str
    merchant_city: str
    amount: Decimal | None = None
    txid: str = "***"
    key: str | None = None
    location: str | None = None
    description: str | None = None
    one_time: bool = False

    def payload(self) -> str:
        if (self.key is None) == (self.location is None):
            raise ValueError("a BR Code has either a PIX key (static) or a location URL (dynamic)")
        if self.txid != "***" and not _TXID.fullmatch(self.txid):
            raise ValueError("the txid has 1 to 25 letters and digits")
        account = _field("00", GUI)
        account += _field("01", self.key) if self.key is not None else _field("25", self.location or "")
        if self.description:
            account += _field("02", _plain(self.description, 40))
        parts = [_field("00", "01")]
        if self.one_time:
            parts.append(_field("01", "12"))
        parts += [_field("26", account), _field("52", "0000"), _field("53", "986")]
        if self.amount is not None:
            parts.append(_field("54", f"{self.amount:.2f}"))
        parts += [
            _field("58", "BR"),
            _field("59", _plain(self.merchant_name, 25)),
            _field("60", _plain(self.merchant_city, 15)),
            _field("62", _field("05", self.txid)),
        ]
        body = "".join(parts) + "6304"
        return body + crc16(body.encode())


def parse(payload: str) -> dict[str, str | dict[str, str]]:
    """A BR Code back into its fields (26 and 62 into their own), checking the CRC; ValueError
    says what is wrong."""
    if len(payload) < 8 or payload[-8:-4] != "6304":
        raise ValueError("a BR Code ends with its CRC field 63")
    if crc16(payload[:-4].encode()) != payload[-4:].upper():
        raise ValueError("the CRC does not match")
    return _fields(payload[:-8], nested=("26", "62"))


def _fields(text: str, nested: tuple[str, ...] = ()) -> dict[str, str | dict[str, str]]:
    found: dict[str, str | dict[str, str]] = {}
    pos = 0
    while pos < len(text):
        tag, size = text[pos : pos + 2], int(text[pos + 2 : pos + 4])
        value = text[pos + 4 : pos + 4 + size]
        if len(value) != size:
            raise ValueError(f"field {tag} is cut short")
        found[tag] = {k: str(v) for k, v in _fields(value).items()} if tag in nested else value
        pos += 4 + size
    return found


def qr_png(payload: str, scale: int = 6) -> bytes:
    out = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(out, kind="png", scale=scale)
    return out.getvalue()


def qr_svg(payload: str, scale: int = 4) -> str:
    out = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(out, kind="svg", scale=scale, xmldecl=False)
    return out.getvalue().decode()
