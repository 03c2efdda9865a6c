"""Import benchmark: the benchmark data set's FreeRADIUS side (100,000 subscribers over 5
groups, 10 % with a fixed IP, 50,000 open and 300,000 closed sessions: bench.dataset) imported
with ``aaa import freeradius`` into an empty isp-aaa database, both on PostgreSQL
($AAA_BENCH_PG; databases aaa_bench_import_fr and aaa_bench_import_ours are created and
dropped). Times the read and the write of the first import, then a second run (nothing
changed: every row skipped). Target: the first import in at most 120 s. Written to
bench/results/import.md.

    .venv/bin/python -m bench.import_freeradius [--subscribers 100000]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from sqlalchemy import func, select

from aaa.composition import session_factory
from aaa.db.engine import make_engine
from aaa.db.migrate import upgrade
from aaa.importers import freeradius, runs
from aaa.importers.source import Source
from aaa.tables.subscribers import Service
from bench import dataset
from bench.results import save
from bench.scratch import scratch_database


def _given(source: Source) -> Callable[[], Source]:
    return lambda: source


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=dataset.SUBSCRIBERS)
    parser.add_argument("--chunk", type=int, default=1000)
    args = parser.parse_args()
    dataset.resize(args.subscribers)
    lines = [
        "# Import from FreeRADIUS SQL",
        "",
        f"{args.subscribers:,} subscribers, PostgreSQL, chunk {args.chunk}",
        "",
    ]
    with scratch_database("aaa_bench_import_fr") as fr_url, scratch_database("aaa_bench_import_ours") as url:
        dsn = fr_url.replace("postgresql+psycopg://", "postgresql://", 1)
        dataset.load_freeradius(dsn)
        upgrade(url)
        engine = make_engine(url)
        factory = session_factory(engine)
        lines += [
            "| run | read (s) | write (s) | total (s) | services created | unchanged |",
            "|---|---|---|---|---|---|",
        ]
        for label in ("first import", "second run (nothing changed)"):
            began = time.perf_counter()
            source = freeradius.read(dsn)
            read = time.perf_counter() - began
            run_id = runs.begin(
                factory, kind="freeradius", source=dsn, dry_run=False, actor="bench", resume=None
            )
            run = runs.execute(factory, run_id, _given(source), dry_run=False, chunk=args.chunk)
            total = time.perf_counter() - began
            counts = run.counts.get("service", {})
            lines.append(
                f"| {label} | {read:.1f} | {total - read:.1f} | {total:.1f} | "
                f"{counts.get('created', 0):,} | {counts.get('unchanged', 0):,} |"
            )
            print(lines[-1], flush=True)
        with factory() as session:
            assert session.scalar(select(func.count()).select_from(Service)) == args.subscribers
        engine.dispose()
    save("import.md", "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
