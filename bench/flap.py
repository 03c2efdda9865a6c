"""Flap storm: a concentrator's interface flaps. Its 50,000 online subscribers get their
Accounting-Stops, then all of them dial again (PAP) at once; for isp-aaa and for FreeRADIUS 3
(rlm_sql on PostgreSQL) on the same data set, one after the other.

    .venv/bin/python -m bench.storm --flap

The data set is bench.run's (aaa_bench and radius_bench on $AAA_BENCH_PG, loaded if missing,
then put back to the data set: the 50,000 even-numbered subscribers online). Each storm comes
from one generator keeping 256 requests outstanding; a request unanswered for 5 s counts as
lost. Reported per server: the Stops' time, rate and losses, then the re-dials' time, rate, p99
latency, losses and answers. Written to bench/results/storm-flap.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from aaa.db.migrate import upgrade
from bench import dataset, freeradius
from bench.loadgen import LoadGen, Result, sequential_pap_builder, sequential_stop_builder
from bench.results import save
from bench.run import (
    FR_DB,
    OURS_DB,
    Server,
    back_to_the_data_set,
    dsn,
    ensure_database,
    loaded,
    wait_ready,
)

PORTS = {"isp-aaa": (23812, 23813), "FreeRADIUS": (33812, 33813)}
WINDOW = 256
TIMEOUT = 5.0


def online() -> list[tuple[str, str, int]]:
    """The data set's open sessions: (login, Acct-Session-Id, subscriber number)."""
    return [(dataset.login(2 * (i + 1)), f"open{i:08x}", 2 * (i + 1)) for i in range(dataset.OPEN_SESSIONS)]


def storm(port: int, build: object, count: int) -> tuple[Result, float]:
    gen = LoadGen(port, build, timeout=TIMEOUT)  # type: ignore[arg-type]
    started = time.perf_counter()
    result = gen.closed_loop(900, window=WINDOW, limit=count)
    gen.close()
    return result, time.perf_counter() - started


def main() -> None:
    secret = dataset.SECRET.encode()
    for name, table, load in (
        (
            OURS_DB,
            "service",
            lambda: dataset.load_ours(dsn(OURS_DB).replace("postgresql://", "postgresql+psycopg://")),
        ),
        (FR_DB, "radcheck", lambda: dataset.load_freeradius(dsn(FR_DB))),
    ):
        if ensure_database(name) or not loaded(name, table, dataset.SUBSCRIBERS):
            print(f"loading {name} ...", flush=True)
            load()
    upgrade(dsn(OURS_DB).replace("postgresql://", "postgresql+psycopg://"))
    back_to_the_data_set()
    tmp = Path(tempfile.mkdtemp(prefix="aaa-flap-"))
    config = tmp / "aaa.toml"
    auth, acct = PORTS["isp-aaa"]
    config.write_text(
        f'database_url = "{dsn(OURS_DB)}"\nlog_level = "WARNING"\n[radius]\nauth_port = {auth}\n'
        f"acct_port = {acct}\nworkers = 2\n[metrics]\nenabled = false\n[enforcer]\nenabled = false\n"
        f'[accounting]\nspool_dir = "{tmp}/spool"\n'
    )
    raddb = freeradius.make_raddb(tmp / "raddb", *PORTS["FreeRADIUS"], dataset.SECRET, FR_DB)
    freeradius.check(raddb)
    sessions = online()
    redials = [(login, dataset.password(n)) for login, _, n in sessions]
    offline = dataset.offline_users()
    lines = [
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores,"
        f" {dataset.SUBSCRIBERS:,} subscribers, {len(sessions):,} online; {WINDOW} outstanding;"
        " 2 workers (isp-aaa).",
        "",
        "| server | Stops: time | rate | lost | re-dials: time | rate | p99 | lost | answers |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    rates: dict[str, float] = {}
    for name in ("FreeRADIUS", "isp-aaa"):
        if name == "isp-aaa":
            proc = subprocess.Popen([sys.executable, "-m", "aaa.cli", "--config", str(config), "radius"])
        else:
            proc = freeradius.start(raddb, tmp / "freeradius.log")
        server = Server(name, proc, *PORTS[name])
        try:
            wait_ready(server, offline, secret)
            stops, stop_time = storm(
                server.acct_port, sequential_stop_builder(sessions, secret), len(sessions)
            )
            dials, dial_time = storm(server.auth_port, sequential_pap_builder(redials, secret), len(redials))
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        rates[name] = dials.answered / dial_time
        lines.append(
            f"| {name} | {stop_time:.1f} s | {stops.answered / stop_time:,.0f}/s | {stops.lost:,} |"
            f" {dial_time:.1f} s | {rates[name]:,.0f}/s | {dials.percentile(99) * 1000:.0f} ms |"
            f" {dials.lost:,} | {dials.codes} |"
        )
        print(lines[-1], flush=True)
    lines += ["", f"Re-dial rate, isp-aaa / FreeRADIUS: {rates['isp-aaa'] / rates['FreeRADIUS']:.2f}x."]
    back_to_the_data_set()
    text = "\n".join(lines) + "\n"
    print(text)
    save("storm-flap.md", text)
