"""standing(): what a service's status should be, from its open charges and its rule. Pure.

A billing method suspends totally and/or partially (reduced speed), each a number of
days after the due date, and only when the open amount reaches a minimum. A contract
may turn the automatic block off or change the days. Seeds 000/002: a bonus period and an
exemption keep the routine away. Boundaries: exactly N days overdue counts, exactly the minimum
counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from aaa.vocabulary.subscribers import ServiceStatus

ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class Rule:
    """A billing method's rule with the contract's overrides already applied."""

    total: bool = False
    total_days: int = 15
    partial: bool = False
    partial_days: int = 5
    minimum_open: Decimal = ZERO
    auto_block: bool = True


@dataclass(frozen=True, slots=True)
class OpenCharge:
    due_date: date
    open_amount: Decimal  # amount minus what was paid; a partially paid charge is still open


@dataclass(frozen=True, slots=True)
class Standing:
    target: ServiceStatus  # enabled, reduced_debt or suspended_debt
    reason: str


def brl(amount: Decimal) -> str:
    """R$ 1.189,80: how the operator reads money."""
    text = f"{amount:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    return f"R$ {text}"


def standing(
    charges: Iterable[OpenCharge],
    rule: Rule | None,
    today: date,
    *,
    bonus_until: date | None = None,
    exempt: bool = False,
) -> Standing:
    overdue = [c for c in charges if c.open_amount > ZERO and c.due_date < today]
    if exempt:
        return Standing(ServiceStatus.ENABLED, "exempt from charges")
    if bonus_until is not None and today <= bonus_until:
        return Standing(ServiceStatus.ENABLED, f"bonus until {bonus_until.isoformat()}")
    if not overdue:
        return Standing(ServiceStatus.ENABLED, "nothing overdue")
    total = sum((c.open_amount for c in overdue), ZERO)
    days = max((today - c.due_date).days for c in overdue)
    facts = f"{len(overdue)} charge(s) overdue, oldest {days} days, {brl(total)}"
    if rule is None:
        return Standing(ServiceStatus.ENABLED, f"{facts}; no billing method, so no suspension rule")
    if not rule.auto_block:
        return Standing(ServiceStatus.ENABLED, f"{facts}; automatic block is off for this contract")
    if total < rule.minimum_open:
        return Standing(ServiceStatus.ENABLED, f"{facts} < minimum {brl(rule.minimum_open)}")
    facts += f" ≥ minimum {brl(rule.minimum_open)}"
    if rule.total and days >= rule.total_days:
        return Standing(
            ServiceStatus.SUSPENDED_DEBT, f"{facts}, {rule.total_days} days to suspend → suspended_debt"
        )
    if rule.partial and days >= rule.partial_days:
        return Standing(
            ServiceStatus.REDUCED_DEBT, f"{facts}, {rule.partial_days} days to reduce → reduced_debt"
        )
    return Standing(ServiceStatus.ENABLED, f"{facts}, within the tolerance")
