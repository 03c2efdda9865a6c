"""A/B of two checkouts: this one against another, as two isp-aaa servers.

    .venv/bin/python -m bench.ab --old /path/to/other/checkout [--rounds 6] [--seconds 8]
        [--only accounting pap pap-after-wave ...]

Each checkout serves its own copy of the benchmark data set (databases aaa_bench for this one,
aaa_bench_old for the other, loaded and migrated by each checkout's own code), with 2 workers and
no enforcer; rounds alternate which server goes first, so the machine's drift hits both. Prints
each round and the medians. Same requirements as bench.run (PostgreSQL at $AAA_BENCH_PG).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench import dataset
from bench.loadgen import Builder, accounting_builder, chap_builder, mschap2_builder, pap_builder
from bench.run import (
    AFTER_A_WAVE,
    KINDS,
    Server,
    dsn,
    ensure_database,
    loaded,
    measure,
    wait_ready,
    warm_up,
    wave,
)

HERE = Path(__file__).resolve().parent.parent


def prepare(tree: Path, db: str) -> None:
    """Load (when missing) and migrate ``db`` with the code of ``tree``."""
    url = dsn(db).replace("postgresql://", "postgresql+psycopg://")
    env = {**os.environ, "PYTHONPATH": str(tree)}
    if ensure_database(db) or not loaded(db, "service", dataset.SUBSCRIBERS):
        print(f"loading {db} with {tree} ...", flush=True)
        code = f"from bench import dataset; dataset.load_ours({url!r})"
        subprocess.run([sys.executable, "-c", code], cwd=tree, env=env, check=True)
    # aaa.db.migrate (aaa.db.schema in checkouts before the package moves)
    code = (
        "try:\n from aaa.db.migrate import upgrade\nexcept ImportError:\n from aaa.db.schema import upgrade\n"
        f"upgrade({url!r})"
    )
    subprocess.run([sys.executable, "-c", code], cwd=tree, env=env, check=True)


def start(name: str, tree: Path, db: str, ports: tuple[int, int], tmp: Path) -> Server:
    config = tmp / f"{name}.toml"
    config.write_text(
        f'database_url = "{dsn(db)}"\nlog_level = "WARNING"\n'
        f"[radius]\nauth_port = {ports[0]}\nacct_port = {ports[1]}\nworkers = 2\n"
        f'[metrics]\nenabled = false\n[enforcer]\nenabled = false\n[accounting]\nspool_dir = "{tmp / name}"\n'
    )
    env = {**os.environ, "PYTHONPATH": str(tree)}
    command = [sys.executable, "-m", "aaa.cli", "--config", str(config), "radius"]
    return Server(name, subprocess.Popen(command, cwd=tree, env=env), *ports)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--old", type=Path, required=True, help="the other checkout")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--only", nargs="+", choices=KINDS, default=["accounting"], help="the tests to run")
    args = parser.parse_args()
    secret = dataset.SECRET.encode()
    tmp = Path(tempfile.mkdtemp(prefix="aaa-ab-"))
    plan = (
        ("old", args.old.resolve(), "aaa_bench_old", (41812, 41813)),
        ("new", HERE, "aaa_bench", (21812, 21813)),
    )
    for _, tree, db, _ in plan:
        prepare(tree, db)
    servers = [start(name, tree, db, ports, tmp) for name, tree, db, ports in plan]
    online = [(dataset.login(n), dataset.password(n)) for n in range(2, dataset.SUBSCRIBERS + 1, 2)]
    offline = dataset.offline_users()
    builders: dict[str, tuple[Callable[[], Builder], int]] = {
        "accounting": (lambda: accounting_builder(online, secret), 5),
        "pap": (lambda: pap_builder(offline, secret), 2),
        "chap": (lambda: chap_builder(offline, secret), 2),
        "mschapv2": (lambda: mschap2_builder(offline, secret), 2),
    }
    try:
        for server in servers:
            wait_ready(server, offline, secret)
        for server in servers:
            warm_up(server, offline, secret)
        for r in range(args.rounds):
            for kind in args.only:
                build, expect = builders[kind.removesuffix(AFTER_A_WAVE)]
                for server in servers if r % 2 == 0 else servers[::-1]:
                    if kind.endswith(AFTER_A_WAVE):
                        wave(server, offline, secret)
                    measure(server, kind, build(), args.seconds, expect)
        for kind in args.only:
            old, new = (statistics.median(s.rates[kind]) for s in servers)
            print(f"{kind}: old {old:,.0f}/s, new {new:,.0f}/s, {new / old:.2f}x")
    finally:
        for server in servers:
            server.proc.terminate()
            server.proc.wait(20)


if __name__ == "__main__":
    main()
