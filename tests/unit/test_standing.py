"""standing(): a table over the rule's switches and boundaries (exactly N days, exactly the
minimum), overlays and contract overrides."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aaa.vocabulary.subscribers import ServiceStatus as S
from billing_bridge.standing import OpenCharge, Rule, brl, standing

TODAY = date(2026, 11, 22)
BOTH = Rule(total=True, total_days=15, partial=True, partial_days=5, minimum_open=Decimal("50.00"))


def due(days_ago: int, amount: str = "99.90") -> OpenCharge:
    return OpenCharge(TODAY - timedelta(days=days_ago), Decimal(amount))


TABLE = [
    ("nothing open", [], BOTH, S.ENABLED),
    ("due today is not overdue", [due(0)], BOTH, S.ENABLED),
    ("1 day", [due(1)], BOTH, S.ENABLED),
    ("4 days", [due(4)], BOTH, S.ENABLED),
    ("exactly 5 days: reduced", [due(5)], BOTH, S.REDUCED_DEBT),
    ("14 days", [due(14)], BOTH, S.REDUCED_DEBT),
    ("exactly 15 days: suspended", [due(15)], BOTH, S.SUSPENDED_DEBT),
    ("oldest decides", [due(2), due(20)], BOTH, S.SUSPENDED_DEBT),
    ("below the minimum", [due(30, "49.99")], BOTH, S.ENABLED),
    ("exactly the minimum", [due(30, "50.00")], BOTH, S.SUSPENDED_DEBT),
    ("sum reaches the minimum", [due(30, "25.00"), due(6, "25.00")], BOTH, S.SUSPENDED_DEBT),
    ("paid part not counted", [due(30, "0.00")], BOTH, S.ENABLED),
    ("only total", [due(10)], Rule(total=True, total_days=15), S.ENABLED),
    ("only total, reached", [due(15)], Rule(total=True, total_days=15), S.SUSPENDED_DEBT),
    ("only partial", [due(40)], Rule(partial=True, partial_days=5), S.REDUCED_DEBT),
    ("neither", [due(90)], Rule(), S.ENABLED),
    ("automatic block off", [due(90)], Rule(total=True, auto_block=False), S.ENABLED),
    ("zero days", [due(1)], Rule(total=True, total_days=0), S.SUSPENDED_DEBT),
    ("no billing method", [due(90)], None, S.ENABLED),
]


@pytest.mark.parametrize(("charges", "rule", "target"), [r[1:] for r in TABLE], ids=[r[0] for r in TABLE])
def test_table(charges: list[OpenCharge], rule: Rule | None, target: S) -> None:
    assert standing(charges, rule, TODAY).target is target


def test_overlays() -> None:
    overdue = [due(30)]
    assert standing(overdue, BOTH, TODAY, exempt=True).reason == "exempt from charges"
    assert standing(overdue, BOTH, TODAY, bonus_until=TODAY).target is S.ENABLED  # through that day
    assert standing(overdue, BOTH, TODAY, bonus_until=TODAY - timedelta(days=1)).target is S.SUSPENDED_DEBT


def test_reason_reads_like_the_issue() -> None:
    found = standing([due(16, "94.90"), due(2, "94.90")], BOTH, TODAY)
    assert found.reason == (
        "2 charge(s) overdue, oldest 16 days, R$ 189,80 ≥ minimum R$ 50,00,"
        " 15 days to suspend → suspended_debt"
    )
    assert brl(Decimal("1234567.5")) == "R$ 1.234.567,50"


amounts = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("999.99"), places=2)


@given(
    charges=st.lists(st.builds(due, st.integers(-10, 60), amounts.map(str)), max_size=5),
    total_days=st.integers(0, 30),
    partial_days=st.integers(0, 30),
    minimum=amounts,
)
def test_more_days_or_money_never_milder(
    charges: list[OpenCharge], total_days: int, partial_days: int, minimum: Decimal
) -> None:
    rule = Rule(True, total_days, True, partial_days, minimum)
    severity = {S.ENABLED: 0, S.REDUCED_DEBT: 1, S.SUSPENDED_DEBT: 2}
    now = standing(charges, rule, TODAY).target
    later = standing(charges, rule, TODAY + timedelta(days=3)).target
    more = standing([*charges, due(1, "10.00")], rule, TODAY).target
    assert severity[later] >= severity[now] and severity[more] >= severity[now]
