"""The money arithmetic of billing (pure): tables at the boundaries, properties over ranges."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aaa.vocabulary.subscribers import BillingMode
from aaa.vocabulary.subscribers import ServiceStatus as S
from billing_bridge.amounts import (
    Discount,
    LateRule,
    add_months,
    due_in,
    loyalty_fine,
    months_between,
    pro_rata,
    quote,
    split,
)
from billing_bridge.billing_run import Facts, Line, Skip, bill

D = Decimal


@pytest.mark.parametrize(
    ("price", "month", "active_from", "amount", "days", "of"),
    [
        ("99.90", date(2026, 11, 1), None, "99.90", 30, 30),  # whole month
        ("99.90", date(2026, 11, 1), date(2026, 10, 5), "99.90", 30, 30),  # active before
        ("99.90", date(2026, 11, 1), date(2026, 11, 1), "99.90", 30, 30),  # first day: whole
        ("99.90", date(2026, 11, 1), date(2026, 11, 16), "49.95", 15, 30),  # half
        ("99.90", date(2026, 11, 1), date(2026, 11, 30), "3.33", 1, 30),  # last day only
        ("100.00", date(2026, 2, 1), date(2026, 2, 15), "50.00", 14, 28),
        ("100.00", date(2028, 2, 1), date(2028, 2, 15), "51.72", 15, 29),  # leap year, half up
        ("100.00", date(2026, 12, 1), date(2026, 12, 21), "35.48", 11, 31),
        ("100.00", date(2026, 11, 1), date(2026, 12, 1), "0.00", 0, 30),  # after the month
    ],
)
def test_pro_rata(price: str, month: date, active_from: date | None, amount: str, days: int, of: int) -> None:
    share = pro_rata(D(price), month, active_from)
    assert (share.amount, share.days, share.of) == (D(amount), days, of)


@given(
    st.decimals(min_value=D("0.01"), max_value=D("99999.99"), places=2),
    st.integers(min_value=1, max_value=36),
)
def test_split_adds_up_to_the_cent(amount: Decimal, parts: int) -> None:
    pieces = split(amount, parts)
    assert sum(pieces) == amount and len(pieces) == parts
    assert max(pieces) - min(pieces) <= D("0.01")
    assert pieces == sorted(pieces, reverse=True)  # the odd cents come first


def test_split_examples() -> None:
    assert split(D("100.00"), 3) == [D("33.34"), D("33.33"), D("33.33")]
    assert split(D("0.02"), 3) == [D("0.01"), D("0.01"), D("0.00")]


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (date(2026, 1, 15), date(2026, 2, 14), 0),
        (date(2026, 1, 15), date(2026, 2, 15), 1),  # same day number: complete
        (date(2026, 1, 31), date(2026, 2, 28), 1),  # the 31st completes on February's last day
        (date(2026, 1, 31), date(2026, 2, 27), 0),
        (date(2026, 1, 15), date(2027, 1, 15), 12),
        (date(2026, 5, 1), date(2026, 4, 1), 0),  # never negative
    ],
)
def test_months_between(start: date, end: date, months: int) -> None:
    assert months_between(start, end) == months


@pytest.mark.parametrize(
    ("cancelled_on", "amount", "remaining"),
    [
        (date(2026, 1, 10), "600.00", 12),  # the first day: the whole fine
        (date(2026, 4, 9), "500.00", 10),  # 2 months and 30 days: 2 complete
        (date(2026, 4, 10), "450.00", 9),  # exactly 3 months
        (date(2026, 12, 10), "50.00", 1),
        (date(2027, 1, 10), "0.00", 0),  # loyalty complete
        (date(2028, 1, 10), "0.00", 0),
    ],
)
def test_loyalty_fine_is_pro_rata_of_the_months_left(cancelled_on: date, amount: str, remaining: int) -> None:
    fine = loyalty_fine(D("600.00"), 12, date(2026, 1, 10), cancelled_on)
    assert (fine.amount, fine.remaining_months) == (D(amount), remaining)


LATE = LateRule(D("2.00"), D("1.00"))  # 2 % fee, 1 % a month


@pytest.mark.parametrize(
    ("paid_on", "fine", "interest", "days"),
    [
        (date(2026, 11, 9), "0.00", "0.00", 0),  # early
        (date(2026, 11, 10), "0.00", "0.00", 0),  # on the due date: no fee
        (date(2026, 11, 11), "2.00", "0.03", 1),  # a day late: the whole fee, a day of interest
        (date(2026, 12, 10), "2.00", "1.00", 30),  # 30 days: a month of interest
        (date(2027, 1, 9), "2.00", "2.00", 60),
    ],
)
def test_late_fee_and_interest(paid_on: date, fine: str, interest: str, days: int) -> None:
    q = quote(D("100.00"), date(2026, 11, 10), paid_on, LATE)
    assert (q.fine, q.interest, q.days_late) == (D(fine), D(interest), days)
    assert q.total == D("100.00") + D(fine) + D(interest)


def test_late_fees_are_off_by_default_and_never_charged_twice() -> None:
    assert quote(D("100.00"), date(2026, 11, 10), date(2026, 12, 10)).total == D("100.00")
    assert LateRule().off
    later = quote(
        D("50.00"),
        date(2026, 11, 10),
        date(2026, 12, 10),
        LATE,
        fined=True,
        interest_since=date(2026, 11, 25),
    )
    assert (later.fine, later.interest) == (D("0.00"), D("0.25"))  # 15 days on R$ 50 at 1 %/30 days


@pytest.mark.parametrize(
    ("paid_on", "untouched", "discount"),
    [
        (date(2026, 11, 5), True, "10.00"),  # due − 5 days: the last day of the discount
        (date(2026, 11, 6), True, "0.00"),
        (date(2026, 11, 1), False, "0.00"),  # a partially paid charge has no discount
    ],
)
def test_promotional_discount_until_n_days_before(paid_on: date, untouched: bool, discount: str) -> None:
    q = quote(D("100.00"), date(2026, 11, 10), paid_on, LATE, Discount(D("10.00"), 5), untouched=untouched)
    assert q.discount == D(discount) and q.total == D("100.00") - D(discount)


def facts(**overrides: object) -> Facts:
    base: dict[str, object] = {
        "service_id": 1,
        "login": "maria",
        "customer_id": 1,
        "status": S.ENABLED,
        "price": D("99.90"),
        "plan": "100M",
        "due_day": 10,
        "billing_method_id": 1,
        "billing_mode": BillingMode.ADVANCE,
        "activated_on": date(2026, 1, 1),
        "exempt": False,
        "charged": False,
    }
    return Facts(**{**base, **overrides})  # type: ignore[arg-type]


DEC = date(2026, 12, 1)


@pytest.mark.parametrize(
    ("overrides", "cause", "warning"),
    [
        ({"charged": True}, "already_charged", False),
        ({"status": S.PENDING_INSTALL}, "pending_install", False),
        ({"status": S.SUSPENDED_REQUEST}, "suspended_request", False),
        ({"status": S.AWAITING_MIGRATION}, "awaiting_migration", False),
        ({"exempt": True}, "exempt", False),
        ({"billing_method_id": None}, "no_billing_method", True),
        ({"due_day": None}, "no_due_day", True),
        ({"price": D("0.00")}, "no_price", True),
        ({"activated_on": None}, "never_activated", True),
        ({"activated_on": date(2027, 1, 2)}, "not_active_yet", False),
    ],
)
def test_billing_run_skips_and_warns(overrides: dict[str, object], cause: str, warning: bool) -> None:
    result = bill(facts(**overrides), DEC, prorate=True)
    assert isinstance(result, Skip) and (result.cause, result.warning) == (cause, warning)


@pytest.mark.parametrize(
    ("overrides", "prorate", "due", "amount"),
    [
        ({}, True, date(2026, 12, 10), "99.90"),
        (
            {"billing_mode": BillingMode.POSTPAID},
            True,
            date(2027, 1, 10),
            "99.90",
        ),  # pays December in January
        ({"activated_on": date(2026, 12, 16)}, True, date(2026, 12, 10), "51.56"),  # 16 of 31 days
        ({"activated_on": date(2026, 12, 16)}, False, date(2026, 12, 10), "99.90"),
        ({"status": S.SUSPENDED_DEBT}, True, date(2026, 12, 10), "99.90"),  # debt does not stop the fee
        ({"status": S.BLOCKED_MANUAL}, True, date(2026, 12, 10), "99.90"),
    ],
)
def test_billing_run_lines(overrides: dict[str, object], prorate: bool, due: date, amount: str) -> None:
    result = bill(facts(**overrides), DEC, prorate=prorate)
    assert isinstance(result, Line) and (result.due_date, result.amount) == (due, D(amount))
    if "pro-rata" in result.description:
        assert result.description == "Mensalidade 12/2026 — 100M (pro-rata 16/31 dias de R$ 99,90)"


def test_month_helpers() -> None:
    assert add_months(date(2026, 11, 1), 2) == date(2027, 1, 1)
    assert add_months(date(2026, 1, 1), -1) == date(2025, 12, 1)
    assert due_in(date(2027, 2, 1), 31) == date(2027, 2, 28)
