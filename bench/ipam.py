"""IPAM benchmark: next free on a /16 with 60,000 addresses held, and leases per second.

    .venv/bin/python -m bench.ipam [--assigned 60000] [--leases 3000]

Runs on PostgreSQL ($AAA_BENCH_PG, default postgresql://postgres@127.0.0.1:5432/test; a database
aaa_bench_ipam is created and dropped) and on an SQLite file. The reference, measured in the same
run, is the obvious implementation: read every held block in order and find the gap in Python.
Results are printed as Markdown and written to bench/results/ipam.md.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from aaa.composition import session_factory
from aaa.db.base import utcnow
from aaa.db.engine import make_engine
from aaa.db.migrate import upgrade
from aaa.ipam import allocator, subnets
from aaa.tables.ipam import IpAssignment, Subnet
from aaa.vocabulary.address_space import first_fit
from aaa.vocabulary.ipam import AssignmentKind, PoolKind, PoolMode, SubnetPurpose
from bench.results import save
from bench.scratch import scratch_database

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def naive_next_free(session: Session, subnet: Subnet) -> int | None:
    """The reference: every held block, in order, into Python."""
    low, high = subnet.space().usable()
    rows = session.execute(
        sa.select(IpAssignment.first, IpAssignment.last)
        .where(*allocator.active(subnet.id))
        .order_by(IpAssignment.first)
    ).all()
    gaps, cursor = [], low
    for first, last in rows:
        if first > cursor:
            gaps.append((cursor, min(first - 1, high)))
        cursor = max(cursor, last + 1)
    if cursor <= high:
        gaps.append((cursor, high))
    return first_fit(gaps, 1)


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and worst of ``repeat`` calls, in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


def fill(factory: sessionmaker[Session], cidr: str, offsets: list[int]) -> Subnet:
    with factory.begin() as s:
        folder = subnets.add_folder(s, f"bench {cidr}")
        subnet = subnets.add_subnet(
            s, folder_id=folder.id, cidr=cidr, purpose=SubnetPurpose.FIXED, now=utcnow()
        )
        s.execute(
            sa.insert(IpAssignment),
            [
                {
                    "subnet_id": subnet.id,
                    "first": o,
                    "last": o,
                    "address": f"{cidr.split('.')[0]}.{cidr.split('.')[1]}.{o >> 8}.{o & 255}",
                    "prefix_len": 32,
                    "kind": "reserved",
                    "note": "",
                    "assigned_at": T0,
                }
                for o in offsets
            ],
        )
        return subnet


def next_free_rows(factory: sessionmaker[Session], assigned: int) -> list[tuple[str, float, float, float]]:
    dense = fill(factory, "10.100.0.0/16", list(range(1, assigned + 1)))
    rng = random.Random(7)
    scattered = fill(factory, "10.101.0.0/16", sorted(rng.sample(range(1, 65535), assigned)))
    with factory.begin() as s:
        s.execute(sa.text("ANALYZE"))  # as autovacuum would after a bulk load

    def measure(subnet: Subnet) -> tuple[float, float, float]:
        with factory() as s:
            ours, worst = timed(lambda: allocator.next_free(s, subnet), 30)
            naive, _ = timed(lambda: naive_next_free(s, subnet), 30)
        return ours, worst, naive

    rows = [("filled from the bottom by an import (free at the top)", *measure(dense))]
    with factory.begin() as s:  # the first allocation learns that everything below it is held
        allocator.take(s, dense, AssignmentKind.RESERVED, note="bench", now=utcnow())
    rows.append(("the same, after one allocation", *measure(dense)))
    rows.append(("held at random (lowest free near the start)", *measure(scattered)))
    return rows


def lease_rate(factory: sessionmaker[Session], engine: sa.Engine, count: int, threads: int) -> float:
    """Leases per second, each in its own transaction as the RADIUS worker does it."""
    with factory.begin() as s:
        pool = subnets.add_pool(s, f"bench-{threads}", PoolKind.IPV4, PoolMode.SERVER)
        folder = subnets.add_folder(s, f"pool {threads}")
        subnets.add_subnet(
            s,
            folder_id=folder.id,
            cidr=f"100.{80 + threads}.0.0/16",
            purpose=SubnetPurpose.DYNAMIC,
            pool_id=pool.id,
            now=utcnow(),
        )
        nas = s.execute(
            sa.text(
                "INSERT INTO nas (name, address, secret, vendor, coa_port, require_message_authenticator,"
                " ma_seen, swap_octets, description, created_at)"
                " VALUES (:n, :a, 's', 'mikrotik', 1700, 'yes', false, false, '', :t) RETURNING id"
            ),
            {"n": f"bench-{threads}", "a": f"10.9.9.{threads}", "t": T0},
        ).scalar_one()
        pool_id = pool.id
    ids = services(engine, count, f"t{threads}")
    per_thread = [ids[i::threads] for i in range(threads)]

    def run(chunk: list[int]) -> None:
        for service_id in chunk:
            with factory.begin() as s:
                allocator.lease(s, service_id=service_id, pool_id=pool_id, nas_id=nas, now=utcnow())

    start = time.perf_counter()
    workers = [threading.Thread(target=run, args=(chunk,)) for chunk in per_thread]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start
    with factory() as s:
        held = s.scalar(
            sa.select(sa.func.count(sa.distinct(IpAssignment.address))).where(
                IpAssignment.kind == "dynamic", IpAssignment.released_at.is_(None), IpAssignment.nas_id == nas
            )
        )
    assert held == count, f"{held} distinct leases for {count} services"
    return count / elapsed


def services(engine: sa.Engine, count: int, prefix: str) -> list[int]:
    with engine.begin() as conn:
        plan = conn.execute(sa.text("SELECT id FROM plan LIMIT 1")).scalar()
        if plan is None:
            plan = conn.execute(
                sa.text(
                    "INSERT INTO plan (name, price, download_kbps, upload_kbps, created_at)"
                    " VALUES ('bench', 0, 1000, 1000, :t) RETURNING id"
                ),
                {"t": T0},
            ).scalar_one()
        customer = conn.execute(
            sa.text(
                "INSERT INTO customer (kind, name, phones, emails, created_at)"
                " VALUES ('person', 'bench', '[]', '[]', :t) RETURNING id"
            ),
            {"t": T0},
        ).scalar_one()
        conn.execute(
            sa.text(
                "INSERT INTO service (customer_id, plan_id, login, password, status, simultaneous_use,"
                " mac_binding, price, created_at, updated_at)"
                " VALUES (:c, :p, :l, 'x', 'enabled', 1, 'off', 0, :t, :t)"
            ),
            [{"c": customer, "p": plan, "l": f"{prefix}-{n}", "t": T0} for n in range(count)],
        )
        return list(
            conn.execute(
                sa.text("SELECT id FROM service WHERE login LIKE :p ORDER BY id"), {"p": f"{prefix}-%"}
            ).scalars()
        )


def measure(url: str, label: str, assigned: int, leases: int, threads: tuple[int, ...]) -> list[str]:
    upgrade(url)
    engine = make_engine(url, **({} if url.startswith("sqlite") else {"pool_size": 8}))
    factory = session_factory(engine)
    lines = []
    for scenario, ours, worst, naive in next_free_rows(factory, assigned):
        test = f"next free, /16 with {assigned:,} held, {scenario}"
        timing = f"{ours:.2f} ms (worst {worst:.2f})"
        lines.append(f"| {label} | {test} | {timing} | {naive:.2f} ms | **{naive / ours:.0f}×** |")
    for n in threads:
        rate = lease_rate(factory, engine, leases, n)
        lines.append(
            f"| {label} | leases/s, {leases:,} services, {n} thread(s), one commit each | {rate:,.0f} | | |"
        )
    engine.dispose()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assigned", type=int, default=60_000)
    parser.add_argument("--leases", type=int, default=3_000)
    args = parser.parse_args()
    header = [
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores.",
        "",
        "| database | test | isp-aaa | reference: read every block | ratio |",
        "|---|---|---:|---:|---:|",
    ]
    with scratch_database("aaa_bench_ipam") as url:
        lines = measure(url, "PostgreSQL", args.assigned, args.leases, (1, 4))
    with tempfile.TemporaryDirectory() as tmp:
        lines += measure(f"sqlite:///{tmp}/ipam.db", "SQLite", args.assigned, args.leases, (1,))
    text = "\n".join(header + lines) + "\n"
    print(text)
    save("ipam.md", text)


if __name__ == "__main__":
    main()
