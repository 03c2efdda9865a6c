"""Billing benchmark: the monthly billing run and the suspension routine over 100,000 services.

    .venv/bin/python -m bench.billing [--services 100000]

Every service has a billing method (total suspension after 15 days, reduced speed after 5,
minimum R$ 50,00) and one monthly charge; a tenth are 20 days overdue, a tenth 8 days, the rest
paid or not yet due. Measured: the billing run for December (preview, then generate: 100,000
monthly fees, each on its invoice),
the routine's dry run (who would change and why) and the real run (the transitions through
change_status: audit, cache invalidation, outbox), on PostgreSQL
($AAA_BENCH_PG; database aaa_bench_billing is created and dropped) and on an SQLite file. The
target is under 60 s for each. Written to bench/results/billing.md.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from aaa.composition import session_factory
from aaa.db.engine import make_engine
from aaa.db.migrate import upgrade
from aaa.tables.subscribers import BillingMethod, Service
from bench.ipam import services
from bench.results import save
from bench.scratch import scratch_database
from billing_bridge.billing_run import run_billing
from billing_bridge.models import Charge
from billing_bridge.routine import run_routine

ZONE = ZoneInfo("America/Sao_Paulo")
TODAY = date(2026, 11, 22)
PRICE = Decimal("99.90")


def fill(engine: sa.Engine, count: int) -> None:
    ids = services(engine, count, "bill")
    with engine.begin() as conn:
        method = conn.execute(
            sa.insert(BillingMethod).returning(BillingMethod.id),
            {
                "name": "Boleto",
                "total_suspension": True,
                "total_suspension_days": 15,
                "partial_suspension": True,
                "partial_suspension_days": 5,
                "minimum_open": 50,
                "active": True,
                "created_at": datetime.now(UTC),
            },
        ).scalar_one()
        conn.execute(
            sa.update(Service).values(
                billing_method_id=method,
                due_day=10,
                price=PRICE,
                activated_at=datetime(2026, 1, 5, tzinfo=UTC),
            )
        )
        rows = []
        for n, service_id in enumerate(ids):
            overdue = 20 if n % 10 == 0 else 8 if n % 10 == 1 else -5
            paid = n % 10 in (2, 3, 4)
            rows.append(
                {
                    "service_id": service_id,
                    "kind": "monthly",
                    "description": "",
                    "due_date": TODAY - timedelta(days=overdue),
                    "amount": PRICE,
                    "paid_amount": PRICE if paid else Decimal("0.00"),
                    "status": "paid" if paid else "open",
                    "created_at": datetime.now(UTC),
                }
            )
        conn.execute(sa.insert(Charge), rows)


def measure(url: str, label: str, count: int) -> list[str]:
    upgrade(url)
    engine = make_engine(url)
    fill(engine, count)
    factory = session_factory(engine)
    lines = []
    for dry in (True, False):
        started = time.perf_counter()
        with factory.begin() as session:
            billed = run_billing(session, date(2026, 12, 1), ZONE, dry_run=dry)
            counts = dict(billed.counts)
        elapsed = time.perf_counter() - started
        what = "billing run preview" if dry else "billing run (monthly fees and invoices generated)"
        summary = ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items()))
        lines.append(f"| {label} | {what}: {summary} | {elapsed:.1f} s |")
    for dry in (True, False):
        started = time.perf_counter()
        with factory.begin() as session:
            run = run_routine(session, TODAY, ZONE, datetime.now(UTC), dry_run=dry)
            counts = dict(run.counts)
        elapsed = time.perf_counter() - started
        what = (
            "dry run (who would change and why)" if dry else "routine (transitions applied, audited, outbox)"
        )
        summary = ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items()))
        lines.append(f"| {label} | {what}: {summary} | {elapsed:.1f} s |")
    engine.dispose()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=100_000)
    args = parser.parse_args()
    lines = [
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, {args.services:,} services.",
        "",
        "| database | step | time |",
        "|---|---|---:|",
    ]
    with scratch_database("aaa_bench_billing") as url:
        lines += measure(url, "PostgreSQL", args.services)
    with tempfile.TemporaryDirectory() as tmp:
        lines += measure(f"sqlite:///{Path(tmp) / 'billing.db'}", "SQLite", args.services)
    text = "\n".join(lines) + "\n"
    print(text)
    save("billing.md", text)


if __name__ == "__main__":
    main()
