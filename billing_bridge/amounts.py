"""Money arithmetic of billing, pure: pro-rata, instalments, loyalty fine, late fee and interest,
promotional discount. Every result is exact to the cent, rounded half up once, at the end.

Conventions (Brazilian practice, as the ISP manuals describe it): pro-rata counts calendar days of the
competence month, both ends included; interest is simple, per month of 30 days, from the day
after the due date; the late fee (multa) is charged once; a promotional discount holds when the
charge is paid in full on or before ``due date − N days``.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
# Money columns are NUMERIC(12, 2): an amount must stay below this to be stored.
MONEY_LIMIT = Decimal("10000000000")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def month_of(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, n: int) -> date:
    """The first day of the month ``n`` months after ``month``'s."""
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def days_in(month: date) -> int:
    return calendar.monthrange(month.year, month.month)[1]


def due_in(month: date, due_day: int) -> date:
    """Day ``due_day`` of the month; day 31 in a 30-day month is its last day."""
    return month.replace(day=min(due_day, days_in(month)))


@dataclass(frozen=True, slots=True)
class ProRata:
    amount: Decimal
    days: int  # days of the month charged
    of: int  # days in the month

    @property
    def whole(self) -> bool:
        return self.days == self.of


def pro_rata(price: Decimal, competence: date, active_from: date | None) -> ProRata:
    """The price of the days of ``competence``'s month from ``active_from`` on (both ends in)."""
    month, total = month_of(competence), days_in(competence)
    start = max(month, active_from) if active_from else month
    days = max(0, (month.replace(day=total) - start).days + 1)
    return ProRata(price if days == total else cents(price * days / total), days, total)


def split(amount: Decimal, parts: int) -> list[Decimal]:
    """``amount`` in ``parts`` instalments that add up exactly; the first ones carry the odd cents."""
    if parts < 1:
        raise ValueError("at least one instalment")
    base = (amount / parts).quantize(CENT, rounding=ROUND_DOWN)
    odd = int((amount - base * parts) / CENT)
    return [base + CENT if i < odd else base for i in range(parts)]


def months_between(start: date, end: date) -> int:
    """Whole months from ``start`` to ``end`` (a month is complete on the same day number)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < min(start.day, days_in(end)):
        months -= 1
    return max(0, months)


@dataclass(frozen=True, slots=True)
class LoyaltyFine:
    amount: Decimal
    remaining_months: int
    months: int


def loyalty_fine(full_fine: Decimal, months: int, start: date, cancelled_on: date) -> LoyaltyFine:
    """Multa de fidelidade: the full fine in proportion to the loyalty months still to run."""
    remaining = max(0, months - months_between(start, cancelled_on)) if months > 0 else 0
    amount = cents(full_fine * remaining / months) if remaining else ZERO
    return LoyaltyFine(amount, remaining, months)


@dataclass(frozen=True, slots=True)
class LateRule:
    fine_percent: Decimal = ZERO  # multa, once
    interest_percent_month: Decimal = ZERO  # juros simples, per 30 days

    @property
    def off(self) -> bool:
        return self.fine_percent == ZERO and self.interest_percent_month == ZERO


@dataclass(frozen=True, slots=True)
class Discount:
    amount: Decimal
    days_before: int = 0  # valid until due date − days_before ("dias corridos")

    def valid_until(self, due_date: date) -> date:
        return due_date - timedelta(days=self.days_before)


@dataclass(frozen=True, slots=True)
class Quote:
    """What settles one charge on a given day."""

    open_amount: Decimal
    discount: Decimal
    fine: Decimal
    interest: Decimal
    days_late: int

    @property
    def total(self) -> Decimal:
        return self.open_amount - self.discount + self.fine + self.interest


def quote(
    open_amount: Decimal,
    due_date: date,
    paid_on: date,
    late: LateRule | None = None,
    discount: Discount | None = None,
    *,
    untouched: bool = True,
    fined: bool = False,
    interest_since: date | None = None,
) -> Quote:
    """The discount needs the whole charge still open (``untouched``) and paid in time. The late
    fee is on the open amount, once (``fined``: an earlier payment already paid it); interest runs
    from the day after the due date, or after the last payment that paid interest
    (``interest_since``), so no day is charged twice."""
    days_late = max(0, (paid_on - due_date).days)
    off = ZERO
    if discount and untouched and paid_on <= discount.valid_until(due_date):
        off = min(discount.amount, open_amount)
    fine = interest = ZERO
    if late and days_late:
        if not fined:
            fine = cents(open_amount * late.fine_percent / 100)
        since = max(due_date, interest_since) if interest_since else due_date
        interest = cents(
            open_amount * late.interest_percent_month / 100 * max(0, (paid_on - since).days) / 30
        )
    return Quote(open_amount, off, fine, interest, days_late)
