"""Side-by-side benchmark: isp-aaa against FreeRADIUS 3.2 + rlm_sql, same data, same machine.

    .venv/bin/python -m bench.run [--rounds 2] [--seconds 8] [--reload]
    .venv/bin/python -m bench.run --subscribers 1000000   # isp-aaa alone at a size (bench.scale)
    .venv/bin/python -m bench.run --subscribers 1000000 --against 100000   # warm PAP by size

Needs root (to run FreeRADIUS from a private raddb), PostgreSQL at $AAA_BENCH_PG
(default postgresql://postgres@127.0.0.1:5432/test) and Debian's freeradius + freeradius-postgresql.
Everything runs on loopback; every load loop is bounded in time. Results are printed as a
Markdown table and written to bench/results/latest.md. Numbers are ratios against FreeRADIUS
measured in the same run, interleaved round by round, so machine drift hits both.

The "-after-wave" tests authenticate the same subscribers as pap/chap/mschapv2 right after an
accounting wave over them (a Start, an Interim and a Stop each): the state a server is in all
day, not only a warm, untouched cache.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from aaa.db.migrate import upgrade
from bench import dataset, freeradius
from bench.loadgen import (
    Builder,
    LoadGen,
    Result,
    accounting_builder,
    chap_builder,
    mschap2_builder,
    pap_builder,
    wave_builder,
)
from bench.results import save

PG = os.environ.get("AAA_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
OURS_DB, FR_DB = "aaa_bench", "radius_bench"
OURS_PORTS, FR_PORTS = (21812, 21813), (31812, 31813)


def dsn(db: str) -> str:
    return PG.rsplit("/", 1)[0] + "/" + db


def ensure_database(name: str) -> bool:
    """Create the database if missing; True if it was created."""
    with psycopg.connect(PG, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return False
        conn.execute(f'CREATE DATABASE "{name}"')
        return True


def loaded(name: str, table: str, expected: int) -> bool:
    with psycopg.connect(dsn(name)) as conn:
        try:
            return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == expected  # type: ignore[index]
        except psycopg.errors.UndefinedTable:
            return False


def tree(pid: int) -> list[int]:
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [pid, *[p for c in children for p in tree(int(c))]]


def cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / ticks


def status_mib(pid: int, field: str) -> float:
    """A memory line of /proc/<pid>/status (VmRSS, VmHWM) in MiB; 0 for a process gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return 0.0


def peak_rss_mib(pids: list[int]) -> float:
    return sum(status_mib(pid, "VmHWM") for pid in pids)


def postgres_pids() -> list[int]:
    out = subprocess.run(["pgrep", "-x", "postgres"], capture_output=True, text=True).stdout.split()
    return [int(p) for p in out]


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    auth_port: int
    acct_port: int
    rates: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)
    db_cpu: dict[str, list[float]] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    latency: dict[str, tuple[float, float]] = field(default_factory=dict)
    peak_rss: float = 0.0

    def pids(self) -> list[int]:
        return tree(self.proc.pid)


def wave(server: Server, users: list[tuple[str, str]], secret: bytes) -> None:
    """Start, Interim and Stop for every one of ``users``, as fast as the server takes them."""
    gen = LoadGen(server.acct_port, wave_builder(users, secret))
    started = time.monotonic()
    result = gen.closed_loop(600, window=256, limit=3 * len(users))
    gen.close()
    print(
        f"  {server.name:10s} wave of {3 * len(users):,} accounting requests in "
        f"{time.monotonic() - started:.1f} s, lost {result.lost}",
        flush=True,
    )


def measure(server: Server, kind: str, build: Builder, seconds: float, expect: int) -> Result:
    port = server.acct_port if kind == "accounting" else server.auth_port
    gen = LoadGen(port, build)
    pids, db = server.pids(), postgres_pids()
    cpu0, db0 = cpu_seconds(pids), cpu_seconds(db)
    result = gen.closed_loop(seconds, window=WINDOW)
    cpu1, db1 = cpu_seconds(pids), cpu_seconds(db)
    gen.close()
    per_k = 1000 / max(result.answered, 1)
    server.rates.setdefault(kind, []).append(result.rate)
    server.cpu.setdefault(kind, []).append((cpu1 - cpu0) * per_k)
    server.db_cpu.setdefault(kind, []).append((db1 - db0) * per_k)
    wrong = result.lost + sum(n for code, n in result.codes.items() if code != expect)
    server.failures[kind] = server.failures.get(kind, 0) + wrong
    print(
        f"  {server.name:10s} {kind:11s} {result.rate:9.0f}/s  lost {result.lost}  codes {result.codes}",
        flush=True,
    )
    return result


def latency(server: Server, name: str, rate: float, users: list[tuple[str, str]], secret: bytes) -> None:
    """PAP at a fixed ``rate`` for 5 s: p50 and p99 in ms under ``name``."""
    gen = LoadGen(server.auth_port, pap_builder(users, secret))
    result = gen.open_loop(5.0, rate)
    gen.close()
    server.latency[name] = (result.percentile(50) * 1000, result.percentile(99) * 1000)
    p50, p99 = server.latency[name]
    print(f"  {server.name:10s} {name} at {rate:,.0f}/s: p50 {p50:.2f} ms p99 {p99:.2f} ms", flush=True)


def wait_ready(server: Server, users: list[tuple[str, str]], secret: bytes, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise SystemExit(f"{server.name} exited with {server.proc.returncode}")
        gen = LoadGen(server.auth_port, pap_builder(users[:10], secret), sockets=1, timeout=0.5)
        ok = gen.closed_loop(0.2, window=1).codes.get(2, 0) > 0
        gen.close()
        if ok:
            return
    raise SystemExit(f"{server.name} did not answer within {timeout} s")


def warm_up(server: Server, users: list[tuple[str, str]], secret: bytes) -> None:
    """One Access-Request per subscriber: fills our snapshot cache, warms PostgreSQL for both."""
    order = iter(range(10**9))

    def sequential(ident: int, authenticator: bytes) -> bytes:
        i = next(order) % len(users)
        return pap_builder([users[i]], secret)(ident, authenticator)

    gen = LoadGen(server.auth_port, sequential)
    started = time.monotonic()
    result = Result()
    while result.answered < len(users) and time.monotonic() - started < 120:
        chunk = gen.closed_loop(2.0)
        result.answered += chunk.answered
    gen.close()
    print(
        f"  warm-up {server.name}: {result.answered} requests in {time.monotonic() - started:.1f} s",
        flush=True,
    )


def table(ours: Server, fr: Server, rounds: int, seconds: float) -> str:
    med = statistics.median
    lines = [
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, {rounds} interleaved rounds of "
        f"{seconds:.0f} s per test ({WINDOW} requests outstanding), 100,000 subscribers, 350,000 sessions, "
        "auth log on for both. Medians over the rounds.",
        "",
        "| test | FreeRADIUS 3.2 + rlm_sql | isp-aaa | ratio | server CPU s/1k (FR → ours) "
        "| PostgreSQL CPU s/1k (FR → ours) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for kind in KINDS:
        if kind not in fr.rates:
            continue
        a, b = med(fr.rates[kind]), med(ours.rates[kind])
        lines.append(
            f"| {kind} requests/s | {a:,.0f} | {b:,.0f} | **{b / a:.2f}×** | {med(fr.cpu[kind]):.3f} → "
            f"{med(ours.cpu[kind]):.3f} | {med(fr.db_cpu[kind]):.3f} → {med(ours.db_cpu[kind]):.3f} |"
        )
    fr50, fr99 = fr.latency["pap"]
    us50, us99 = ours.latency["pap"]
    lines += [
        f"| PAP latency p50 at {LATENCY_RATE}/s (ms) | {fr50:.2f} | {us50:.2f} | {us50 / fr50:.2f}× | | |",
        f"| PAP latency p99 at {LATENCY_RATE}/s (ms) | {fr99:.2f} | {us99:.2f} | {us99 / fr99:.2f}× | | |",
        *(
            f"| PAP latency p50 / p99 at {BUSY_RATE:,}/s, {state} (ms) | | "
            f"{ours.latency[name][0]:.2f} / {ours.latency[name][1]:.2f} | | | |"
            for name, state in (("pap-busy", "after the rounds"), ("pap-busy-after-wave", "after a wave"))
        ),
        f"| peak RSS (MiB, all processes) | {fr.peak_rss:.0f} | {ours.peak_rss:.0f} | | | |",
        "",
        f"Lost or unexpected replies: FreeRADIUS {sum(fr.failures.values())}, "
        f"isp-aaa {sum(ours.failures.values())}.",
    ]
    return "\n".join(lines)


KINDS = (
    "pap",
    "chap",
    "mschapv2",
    "accounting",
    "pap-after-wave",
    "chap-after-wave",
    "mschapv2-after-wave",
)
AFTER_A_WAVE = "-after-wave"
LATENCY_RATE = 1000
BUSY_RATE = 4000  # the latency target: PAP p99 at most 5 ms at this rate
WINDOW = 64  # requests outstanding in the closed-loop tests, like a busy NAS or two


# What earlier runs added: every session but the data set's ("hist…" closed, "open…" open),
# from the load generator or bench.storm, the auth logs (the data set has none) and our change
# feed. And what the reaper or a storm's Accounting-On did: the data set's open sessions were
# last updated on its fixed date, so the first reap of a run closed all 50,000 as stale
# (FreeRADIUS never reaps): they open again, updated now.
def _added(session_id: str) -> str:
    return f"NOT ({session_id} LIKE 'hist%' OR {session_id} LIKE 'open%')"


# The data set's online sessions, online again and fresh: a stale one (no update for three
# interim intervals) is closed by the server's reaper a minute after start, and the feed then
# carries every one of them to every worker in the middle of the measurements.
ONLINE_AGAIN = (
    "UPDATE acct_session SET stop_time = NULL, closed_by = NULL, terminate_cause = NULL"
    " WHERE acct_session_id LIKE 'open%' AND stop_time IS NOT NULL",
    "UPDATE acct_session SET last_update = now() WHERE stop_time IS NULL",
)
_RESETS = {
    OURS_DB: (
        f"DELETE FROM acct_session WHERE {_added('acct_session_id')}",
        *ONLINE_AGAIN,
        "TRUNCATE auth_log, change_event",
        "VACUUM FULL acct_session",
    ),
    FR_DB: (
        f"DELETE FROM radacct WHERE {_added('acctsessionid')}",
        "UPDATE radacct SET acctstoptime = NULL, acctterminatecause = '' WHERE acctsessionid LIKE 'open%'"
        " AND acctstoptime IS NOT NULL",
        "TRUNCATE radpostauth",
        "VACUUM FULL radacct",
    ),
}


def back_to_the_data_set() -> None:
    """Both servers start from the same data set, run after run: without this the session
    tables grow with every run, the more for the server run more often (ours had grown to
    2.3 million sessions against FreeRADIUS's 457,000 once). Then VACUUM ANALYZE: autovacuum
    may be off, and earlier runs' dead rows slow both."""
    for name, statements in _RESETS.items():
        with psycopg.connect(dsn(name), autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)
            conn.execute("VACUUM ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--reload", action="store_true", help="reload both data sets")
    parser.add_argument(
        "--only", nargs="+", choices=KINDS, default=list(KINDS), help="run these tests alone (no table)"
    )
    parser.add_argument(
        "--subscribers", type=int, help="isp-aaa alone on a data set of this size (bench.scale)"
    )
    parser.add_argument(
        "--against", type=int, nargs="+", help="with --subscribers: warm PAP at these sizes too, interleaved"
    )
    args = parser.parse_args()
    if args.subscribers is not None:
        from bench import scale

        if args.against:
            scale.compare([*args.against, args.subscribers], args.seconds, max(args.rounds, 3))
        else:
            scale.main(args.subscribers, args.seconds)
        return
    secret = dataset.SECRET.encode()

    for name, table_, count, load in (
        (
            OURS_DB,
            "service",
            dataset.SUBSCRIBERS,
            lambda: dataset.load_ours(dsn(OURS_DB).replace("postgresql://", "postgresql+psycopg://")),
        ),
        (FR_DB, "radcheck", dataset.SUBSCRIBERS, lambda: dataset.load_freeradius(dsn(FR_DB))),
    ):
        created = ensure_database(name)
        if created or args.reload or not loaded(name, table_, count):
            print(f"loading {name} ...", flush=True)
            load()
    upgrade(dsn(OURS_DB).replace("postgresql://", "postgresql+psycopg://"))  # a kept data set, newer code
    back_to_the_data_set()

    tmp = Path(tempfile.mkdtemp(prefix="aaa-bench-"))
    config = tmp / "aaa.toml"
    config.write_text(
        f'database_url = "{dsn(OURS_DB)}"\nlog_level = "WARNING"\n[radius]\nauth_port = {OURS_PORTS[0]}\n'
        f"acct_port = {OURS_PORTS[1]}\nworkers = 2\n[metrics]\nenabled = false\n"
        # The accounting load opens new sessions for logins the data set already has online,
        # over their Simultaneous-Use limit: the enforcer would disconnect them on a NAS that is
        # not there. FreeRADIUS has no enforcer; neither side runs one here.
        "[enforcer]\nenabled = false\n"
    )
    raddb = freeradius.make_raddb(tmp / "raddb", *FR_PORTS, dataset.SECRET, FR_DB)
    freeradius.check(raddb)
    ours = Server(
        "isp-aaa",
        subprocess.Popen([sys.executable, "-m", "aaa.cli", "--config", str(config), "radius"]),
        *OURS_PORTS,
    )
    fr = Server("FreeRADIUS", freeradius.start(raddb, tmp / "freeradius.log"), *FR_PORTS)
    servers = [fr, ours]
    offline, online = (
        dataset.offline_users(),
        [(dataset.login(n), dataset.password(n)) for n in range(2, dataset.SUBSCRIBERS + 1, 2)],
    )
    try:
        for s in servers:
            wait_ready(s, offline, secret)
        for s in servers:
            warm_up(s, offline, secret)
        tests: list[tuple[str, Callable[[], Builder], int]] = [
            ("pap", lambda: pap_builder(offline, secret), 2),
            ("chap", lambda: chap_builder(offline, secret), 2),
            ("mschapv2", lambda: mschap2_builder(offline, secret), 2),
            ("accounting", lambda: accounting_builder(online, secret), 5),
            # The same subscribers as the tests above, right after each of them connected and
            # left again: what every PPPoE concentrator's day looks like.
            ("pap-after-wave", lambda: pap_builder(offline, secret), 2),
            ("chap-after-wave", lambda: chap_builder(offline, secret), 2),
            ("mschapv2-after-wave", lambda: mschap2_builder(offline, secret), 2),
        ]
        tests = [test for test in tests if test[0] in args.only]
        for r in range(args.rounds):
            print(f"round {r + 1}/{args.rounds}", flush=True)
            for kind, build, expect in tests:
                for s in servers if r % 2 == 0 else list(reversed(servers)):
                    if kind.endswith(AFTER_A_WAVE):
                        wave(s, offline, secret)
                    measure(s, kind, build(), args.seconds, expect)
        if len(tests) < len(KINDS):  # a partial run: ratios only, the README's table stays
            for kind, _, _ in tests:
                a, b = statistics.median(fr.rates[kind]), statistics.median(ours.rates[kind])
                print(f"{kind}: FreeRADIUS {a:,.0f}/s, isp-aaa {b:,.0f}/s, {b / a:.2f}x")
            return
        for s in servers:
            latency(s, "pap", LATENCY_RATE, offline, secret)
        # Ours alone at the rate (FreeRADIUS answers fewer per second than that here):
        # now, after the rounds, and right after one more accounting wave.
        latency(ours, "pap-busy", BUSY_RATE, offline, secret)
        wave(ours, offline, secret)
        latency(ours, "pap-busy-after-wave", BUSY_RATE, offline, secret)
        for s in servers:
            s.peak_rss = peak_rss_mib(s.pids())
        report = table(ours, fr, args.rounds, args.seconds)
    finally:
        for s in servers:
            s.proc.terminate()
            try:
                s.proc.wait(20)
            except subprocess.TimeoutExpired:
                s.proc.kill()
    save("latest.md", report + "\n")
    print("\n" + report)


if __name__ == "__main__":
    main()
