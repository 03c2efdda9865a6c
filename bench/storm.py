"""Reconnect storm: a NAS reboots (Accounting-On), then all 100,000 subscribers authenticate and
send Accounting-Start as fast as the server takes them.

    .venv/bin/python -m bench.storm [--overlap | --flap]

``--flap`` is another storm (bench/flap.py): 50,000 online subscribers' Stops, then their
re-dials, for isp-aaa and FreeRADIUS.

Uses the benchmark data set (bench.run's aaa_bench database on $AAA_BENCH_PG, loaded if
missing). Two phases, in the order a subscriber dials in: every Access-Request, then every
Accounting-Start, each from its own process keeping 256 requests outstanding (a NAS
retransmits; here a request unanswered for 5 s counts as shed). With ``--overlap`` both storms
run at once instead, so most Starts land before their login's Access-Request (pessimistic:
each such login's snapshot is invalidated by its own Start and must be read again).
Reported: the time to absorb each storm, the rates, what was shed, and that the database holds
one open session per Start. Written to bench/results/storm.md (storm-overlap.md).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from aaa.db.migrate import upgrade
from bench import dataset
from bench.loadgen import LoadGen, accounting_on, sequential_pap_builder, sequential_start_builder
from bench.results import save
from bench.run import OURS_DB, dsn, ensure_database, loaded, wait_ready

PORTS = (22812, 22813)
WINDOW = 256
TIMEOUT = 5.0


def users() -> list[tuple[str, str]]:
    return [(dataset.login(n), dataset.password(n)) for n in range(1, dataset.SUBSCRIBERS + 1)]


def storm(kind: str, prefix: str, out: Any) -> None:
    """One generator process: every subscriber once."""
    secret = dataset.SECRET.encode()
    everyone = users()
    if kind == "auth":
        gen = LoadGen(PORTS[0], sequential_pap_builder(everyone, secret), timeout=TIMEOUT)
    else:
        gen = LoadGen(PORTS[1], sequential_start_builder(everyone, secret, prefix), timeout=TIMEOUT)
    result = gen.closed_loop(600, window=WINDOW, limit=len(everyone))
    gen.close()
    out.put(
        (kind, result.sent, result.answered, result.lost, result.seconds, result.codes, result.percentile(99))
    )


def arguments(argv: list[str]) -> argparse.Namespace:
    """The storm to run; ``--help`` and unknown options stop here, before any storm starts."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.storm",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--overlap", action="store_true", help="the Access-Requests and the Starts at once")
    which.add_argument("--flap", action="store_true", help="Stops for the online subscribers, then re-dials")
    return parser.parse_args(argv)


def main() -> None:
    args = arguments(sys.argv[1:])
    if args.flap:
        from bench import flap

        flap.main()
        return
    overlap = args.overlap
    url = dsn(OURS_DB).replace("postgresql://", "postgresql+psycopg://")
    if ensure_database(OURS_DB) or not loaded(OURS_DB, "service", dataset.SUBSCRIBERS):
        print("loading the data set ...", flush=True)
        dataset.load_ours(url)
    upgrade(url)
    tmp = Path(tempfile.mkdtemp(prefix="aaa-storm-"))
    config = tmp / "aaa.toml"
    config.write_text(
        f'database_url = "{dsn(OURS_DB)}"\nlog_level = "WARNING"\n[radius]\nauth_port = {PORTS[0]}\n'
        f"acct_port = {PORTS[1]}\nworkers = 2\n[metrics]\nenabled = false\n[enforcer]\nenabled = false\n"
        f'[accounting]\nspool_dir = "{tmp}/spool"\n'
    )
    proc = subprocess.Popen([sys.executable, "-m", "aaa.cli", "--config", str(config), "radius"])
    secret = dataset.SECRET.encode()
    prefix = f"storm{int(time.time()):x}-"
    try:
        from bench.run import Server

        wait_ready(Server("isp-aaa", proc, *PORTS), users()[:10], secret)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:  # the NAS rebooted
            s.settimeout(30)
            s.sendto(accounting_on(secret), ("127.0.0.1", PORTS[1]))
            started = time.perf_counter()
            s.recv(4096)
            print(f"Accounting-On answered in {time.perf_counter() - started:.2f} s (open sessions closed)")
        ctx = multiprocessing.get_context("spawn")
        out: Any = ctx.Queue()
        phases = [["auth", "acct"]] if overlap else [["auth"], ["acct"]]
        results = {}
        began = time.perf_counter()
        for phase in phases:
            procs = [ctx.Process(target=storm, args=(kind, prefix, out)) for kind in phase]
            for p in procs:
                p.start()
            for _ in procs:
                kind, *rest = out.get(timeout=900)
                results[kind] = rest
            for p in procs:
                p.join()
        total = time.perf_counter() - began
    finally:
        proc.terminate()
        proc.wait(30)
    with psycopg.connect(dsn(OURS_DB)) as conn:
        stored = conn.execute(
            "SELECT count(*) FROM acct_session WHERE acct_session_id LIKE %s AND stop_time IS NULL",
            (prefix + "%",),
        ).fetchone()
    lines = [
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores,"
        f" {dataset.SUBSCRIBERS:,} subscribers, 2 workers, {WINDOW} outstanding per storm,"
        f" {'both storms at once' if overlap else 'Access-Requests, then Accounting-Starts'}.",
        "",
        "| storm | sent | answered | shed | time | rate | p99 latency |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, label in (("auth", "Access-Request (PAP)"), ("acct", "Accounting-Start")):
        sent, answered, lost, seconds, _, p99 = results[kind]
        rate = answered / seconds
        lines.append(
            f"| {label} | {sent:,} | {answered:,} | {lost:,} | {seconds:.1f} s | {rate:,.0f}/s"
            f" | {p99 * 1000:.0f} ms |"
        )
    lines += [
        "",
        f"Both storms absorbed in {total:.1f} s; {stored[0] if stored else 0:,} open sessions stored for"
        f" {results['acct'][0]:,} Starts sent.",
        f"Answer codes: auth {results['auth'][4]}, acct {results['acct'][4]}.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    save(("storm-overlap.md" if overlap else "storm.md"), text)


if __name__ == "__main__":
    main()
