"""Faturamento mensal: one monthly fee per service for a competence month, each on its
own invoice with the service's other loose charges due that month. Preview first (what would be
generated, and the warnings an operator must read), then generate.

Idempotent per competence: a service that already has a monthly fee for the month (in any
status, cancelled included: someone decided about it) is skipped, and the database refuses a
second live one, so running twice, or two runs racing, never charges twice.

Charges and invoices are written with Core inserts for speed, so the run records its own
audit entry (``record``); no service's status or speed changes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from aaa import metrics
from aaa.audit.log import actor_of, record
from aaa.db.base import utcnow
from aaa.db.paging import page
from aaa.subscribers.customers import Scope
from aaa.tables.subscribers import BillingMethod, Customer, Plan, Service
from aaa.vocabulary.subscribers import BillingMode
from aaa.vocabulary.subscribers import ServiceStatus as S
from billing_bridge.amounts import ZERO, add_months, due_in, month_of, pro_rata
from billing_bridge.contracts import predecessors
from billing_bridge.models import (
    BillingRun,
    Charge,
    ChargeKind,
    ChargeStatus,
    Invoice,
    InvoiceStatus,
)
from billing_bridge.standing import brl

BILLED = (S.ENABLED, S.REDUCED_DEBT, S.SUSPENDED_DEBT, S.BLOCKED_MANUAL)
_NOT_BILLED = {
    S.PENDING_INSTALL: "not installed yet",
    S.SUSPENDED_REQUEST: "suspended at the customer's request",
    S.AWAITING_MIGRATION: "awaiting migration",
}
_LOCK = 0x5EED_B111  # PostgreSQL advisory lock: one billing run at a time


@dataclass(frozen=True, slots=True)
class Facts:
    """What the run needs of one service."""

    service_id: int
    login: str | None
    customer_id: int
    status: S
    price: Decimal
    plan: str
    due_day: int | None
    billing_method_id: int | None
    billing_mode: BillingMode
    activated_on: date | None  # local date
    exempt: bool
    charged: bool  # already has a monthly fee for the competence


@dataclass(frozen=True, slots=True)
class Line:
    service_id: int
    login: str | None
    customer_id: int
    billing_method_id: int
    due_date: date
    amount: Decimal
    description: str


@dataclass(frozen=True, slots=True)
class Skip:
    service_id: int
    login: str | None
    cause: str  # counted by this
    message: str
    warning: bool  # an operator should fix something before generating


def bill(facts: Facts, competence: date, *, prorate: bool) -> Line | Skip:
    """The monthly fee of one service for ``competence``, or why there is none. Pure."""

    def skip(cause: str, message: str, warning: bool = False) -> Skip:
        return Skip(facts.service_id, facts.login, cause, message, warning)

    month = month_of(competence)
    if facts.charged:
        return skip("already_charged", f"already has its monthly fee for {month:%m/%Y}")
    if facts.status in _NOT_BILLED:
        return skip(facts.status.value, _NOT_BILLED[facts.status])
    if facts.exempt:
        return skip("exempt", "exempt from charges")
    if facts.billing_method_id is None:
        return skip("no_billing_method", "has no billing method: set one to bill it", warning=True)
    if facts.due_day is None:
        return skip("no_due_day", "has no due day: set one to bill it", warning=True)
    if facts.price <= ZERO:
        return skip("no_price", "its price is zero", warning=True)
    if facts.activated_on is None:
        return skip("never_activated", "was never enabled", warning=True)
    if month_of(facts.activated_on) > month:
        return skip("not_active_yet", f"activated on {facts.activated_on:%d/%m/%Y}, after {month:%m/%Y}")
    share = pro_rata(facts.price, month, facts.activated_on if prorate else None)
    description = f"Mensalidade {month:%m/%Y} — {facts.plan}"
    if not share.whole:
        description += f" (pro-rata {share.days}/{share.of} dias de {brl(facts.price)})"
    due_month = month if facts.billing_mode is BillingMode.ADVANCE else add_months(month, 1)
    return Line(
        facts.service_id,
        facts.login,
        facts.customer_id,
        facts.billing_method_id,
        due_in(due_month, facts.due_day),
        share.amount,
        description,
    )


@dataclass(frozen=True)
class Only:
    """Which contracts a run bills (none given: all): by billing method, due day, city, ids."""

    billing_method_id: int | None = None
    due_day: int | None = None
    city: str | None = None
    service_ids: tuple[int, ...] | None = None

    def describe(self) -> str:
        said = [f"{k} {v}" for k, v in asdict(self).items() if v is not None]
        return f" (only {', '.join(said)})" if said else ""


def _facts(session: Session, month: date, zone: ZoneInfo, only: Only = Only()) -> list[Facts]:
    charged = set(
        session.scalars(
            select(Charge.service_id).where(Charge.kind == ChargeKind.MONTHLY, Charge.competence == month)
        )
    )
    # One contract across a migration: a month its earlier service paid or owes is charged.
    for service_id, earlier in predecessors(session).items():
        if any(previous in charged for previous in earlier):
            charged.add(service_id)
    rows = session.execute(
        select(
            Service.id,
            Service.login,
            Service.customer_id,
            Service.status,
            Service.price,
            Plan.name,
            Service.due_day,
            Service.billing_method_id,
            Service.billing_mode,
            Service.activated_at,
            Service.exempt,
        )
        .join(Plan, Plan.id == Service.plan_id)
        .where(Service.status != S.CANCELLED, *_filters(only))
        .order_by(Service.id)
    )
    return [
        Facts(
            sid,
            login,
            customer,
            status,
            price,
            plan,
            due_day,
            method,
            mode,
            activated.astimezone(zone).date() if activated else None,
            exempt,
            sid in charged,
        )
        for sid, login, customer, status, price, plan, due_day, method, mode, activated, exempt in rows
    ]


def _filters(only: Only) -> list[Any]:
    found: list[Any] = []
    if only.billing_method_id is not None:
        found.append(Service.billing_method_id == only.billing_method_id)
    if only.due_day is not None:
        found.append(Service.due_day == only.due_day)
    if only.city:
        customers = select(Customer.id).where(Scope.of([only.city]).customers())
        found.append(Service.customer_id.in_(customers))
    if only.service_ids is not None:
        found.append(Service.id.in_(only.service_ids))
    return found


def preview_contract(
    session: Session, service_id: int, competence: date, zone: ZoneInfo, *, prorate: bool = True
) -> Line | Skip:
    """What the run for ``competence`` would bill this contract, or why nothing (nothing stored)."""
    month = month_of(competence)
    found = _facts(session, month, zone, Only(service_ids=(service_id,)))
    if not found:
        return Skip(service_id, None, "cancelled", "the service is cancelled", False)
    return bill(found[0], month, prorate=prorate)


def run_billing(
    session: Session,
    competence: date,
    zone: ZoneInfo,
    *,
    dry_run: bool,
    prorate: bool = True,
    only: Only = Only(),
) -> BillingRun:
    """Preview (``dry_run``) or generate the month, for every contract or ``only`` some; the
    run is recorded either way."""
    month = month_of(competence)
    if not dry_run and session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_LOCK)))  # a second run waits, then skips all
    run = BillingRun(
        competence=month,
        dry_run=dry_run,
        pro_rata=prorate,
        started_at=utcnow(),
        run_by=actor_of(session).name,
    )
    session.add(run)
    session.flush()
    methods = {m.id: m for m in session.scalars(select(BillingMethod))}
    lines: list[Line] = []
    skips: list[Skip] = []
    for facts in _facts(session, month, zone, only):
        result = bill(facts, month, prorate=prorate)
        if isinstance(result, Line):
            lines.append(result)
        else:
            skips.append(result)
    warnings = [asdict(s) for s in skips if s.warning]
    warnings += [
        {"service_id": line.service_id, "login": line.login, "message": "its billing method is inactive"}
        for line in lines
        if not methods[line.billing_method_id].active
    ]
    counts = Counter(s.cause for s in skips)
    counts["charged"] = len(lines)
    run.counts = dict(counts)
    run.total = sum((line.amount for line in lines), ZERO)
    run.warnings = warnings
    if dry_run:  # a real run's lines are its charges
        run.items = [
            {**asdict(line), "due_date": line.due_date.isoformat(), "amount": str(line.amount)}
            for line in lines
        ]
    if not dry_run and lines:
        _generate(session, run, month, lines)
        metrics.BILLING_RUN_CHARGES.inc(len(lines))
        record(
            session,
            entity="billing_run",
            entity_id=run.id,
            action="generated",
            changes={"competence": [None, month.isoformat()], "charges": [None, len(lines)]},
            note=f"monthly fees for {month:%m/%Y}{only.describe()}: {len(lines)} charges, {brl(run.total)}",
        )
    run.finished_at = utcnow()
    session.flush()
    return run


def _generate(session: Session, run: BillingRun, month: date, lines: list[Line]) -> None:
    """Set-wise: plain multi-row inserts (no RETURNING, which costs psycopg a parse of one huge
    statement per batch), ids read back by run, and one correlated UPDATE; 100,000 services are a
    handful of statements, not 300,000 ORM objects."""
    now = utcnow()
    conn = session.connection()
    conn.execute(
        insert(Charge),
        [
            {
                "service_id": line.service_id,
                "kind": ChargeKind.MONTHLY,
                "description": line.description,
                "competence": month,
                "due_date": line.due_date,
                "amount": line.amount,
                "paid_amount": ZERO,
                "discount_days_before": 0,
                "discount_granted": ZERO,
                "status": ChargeStatus.OPEN,
                "billing_run_id": run.id,
                "created_at": now,
            }
            for line in lines
        ],
    )
    fee_of = dict(
        conn.execute(select(Charge.service_id, Charge.id).where(Charge.billing_run_id == run.id)).all()
    )
    loose = _loose_charges(session, set(fee_of))
    extra_of: dict[int, list[tuple[int, Decimal]]] = {}
    invoices: list[dict[str, Any]] = []
    for line in lines:
        extra = [
            (cid, amount)
            for cid, due, amount in loose.get(line.service_id, [])
            if month_of(due) == month_of(line.due_date)
        ]
        extra_of[line.service_id] = extra
        invoices.append(
            {
                "customer_id": line.customer_id,
                "service_id": line.service_id,
                "billing_method_id": line.billing_method_id,
                "due_date": line.due_date,
                "amount": line.amount + sum((a for _, a in extra), ZERO),
                "charge_ids": [fee_of[line.service_id], *(cid for cid, _ in extra)],
                "status": InvoiceStatus.ISSUED,
                "billing_run_id": run.id,
                "created_at": now,
            }
        )
    conn.execute(insert(Invoice), invoices)
    on_invoice = (
        select(Invoice.id)
        .where(Invoice.billing_run_id == run.id, Invoice.service_id == Charge.service_id)
        .scalar_subquery()
    )
    conn.execute(update(Charge).where(Charge.billing_run_id == run.id).values(invoice_id=on_invoice))
    riders = [(cid, sid) for sid, extra in extra_of.items() for cid, _ in extra]
    if riders:
        invoice_of = dict(
            conn.execute(select(Invoice.service_id, Invoice.id).where(Invoice.billing_run_id == run.id)).all()
        )
        conn.execute(
            update(Charge).where(Charge.id == bindparam("cid")).values(invoice_id=bindparam("iid")),
            [{"cid": cid, "iid": invoice_of[sid]} for cid, sid in riders],
        )


def _loose_charges(session: Session, service_ids: set[int]) -> dict[int, list[tuple[int, date, Decimal]]]:
    """Open charges on no invoice (an installation fee, a sale): they ride on the month's boleto."""
    rows = session.execute(
        select(Charge.service_id, Charge.id, Charge.due_date, Charge.amount - Charge.paid_amount).where(
            Charge.invoice_id.is_(None),
            Charge.status.in_((ChargeStatus.OPEN, ChargeStatus.PARTIALLY_PAID)),
            Charge.kind != ChargeKind.MONTHLY,
        )
    )
    found: dict[int, list[tuple[int, date, Decimal]]] = {}
    for service_id, charge_id, due, amount in rows:
        if service_id in service_ids:
            found.setdefault(service_id, []).append((charge_id, due, amount))
    return found


def recent_runs(session: Session, limit: int, offset: int = 0) -> tuple[list[BillingRun], int]:
    """The billing runs' log, newest first, and how many there are."""
    return page(session, select(BillingRun), BillingRun.id.desc(), limit=limit, offset=offset)
