"""pt-BR formatting for the console's templates: money R$ 1.234,56, dates dd/mm/aaaa, times in
the ISP's time zone, rates and byte counts. Babel's CLDR data does the locale work."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.numbers import format_currency, format_decimal

LOCALE = "pt_BR"


def money(value: Decimal | int | str | None) -> str:
    if value is None:
        return "—"
    return format_currency(Decimal(str(value)), "BRL", locale=LOCALE).replace("\xa0", " ")


def day(value: date | datetime | None, zone: ZoneInfo | None = None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime) and zone is not None and value.tzinfo is not None:
        value = value.astimezone(zone)
    return value.strftime("%d/%m/%Y")


def moment(value: datetime | None, zone: ZoneInfo) -> str:
    """A time as the ISP's staff read it: local, to the second."""
    if value is None:
        return "—"
    return value.astimezone(zone).strftime("%d/%m/%Y %H:%M:%S")


def duration(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    days, rest = divmod(max(0, int(seconds)), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}d {clock}" if days else clock


def rate(kbps: int | None) -> str:
    """A plan's speed: 100000 → "100 Mbps", 1536 → "1,5 Mbps", 512 → "512 kbps"."""
    if kbps is None:
        return "—"
    if kbps >= 1000:
        return f"{format_decimal(kbps / 1000, format='#,##0.#', locale=LOCALE)} Mbps"
    return f"{kbps} kbps"


def size(octets: int | None) -> str:
    if octets is None:
        return "—"
    value = float(octets)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            pattern = "#,##0" if unit == "B" else "#,##0.0"
            return f"{format_decimal(value, format=pattern, locale=LOCALE)} {unit}"
        value /= 1024
    return str(octets)  # unreachable: the loop returns at TB


def document(digits: str | None) -> str:
    """CPF 000.000.000-00 or CNPJ 00.000.000/0000-00, as typed on every form in Brazil."""
    if not digits:
        return "—"
    d = "".join(c for c in digits if c.isdigit())
    if len(d) == 11:
        return f"{d[:3]}.{d[3:6]}.{d[6:9]}-{d[9:]}"
    if len(d) == 14:
        return f"{d[:2]}.{d[2:5]}.{d[5:8]}/{d[8:12]}-{d[12:]}"
    return digits
