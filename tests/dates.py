"""Dates as the server under test reads them: in its policy time zone (America/Sao_Paulo by
default), not the machine's. Between 00:00 and 03:00 UTC the two calendars name different days,
and a charge due "yesterday" by the machine's date is not overdue yet in São Paulo."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from aaa.db.base import today_in
from aaa.settings import PolicySettings

ZONE = ZoneInfo(PolicySettings().timezone)


def business_today() -> date:
    return today_in(ZONE)
