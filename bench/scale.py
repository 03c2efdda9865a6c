"""One node at a size: isp-aaa alone on a data set of N subscribers (bench.dataset's shape).

    .venv/bin/python -m bench.run --subscribers 1000000 [--seconds 8]

Reports the workers' start-up (process start to every worker loaded and serving), every process's
resident memory after start-up and after the PAP test, the memory per subscriber per worker
(against the same server on an empty data set), the warm PAP rate, and how long a plan edit
(`aaa plan set`, through the change feed) takes to reach the snapshots: sampled subscribers on
the plan are asked until every one is answered with the new rate.
"""

from __future__ import annotations

import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from aaa.policies.inputs import PlanSpeed
from bench import dataset
from bench.loadgen import LoadGen, Result, pap_builder
from bench.results import save
from bench.run import ONLINE_AGAIN, WINDOW, Server, dsn, ensure_database, loaded, status_mib, tree, wait_ready

PORTS = (22812, 22813)
WORKERS = 2
SAMPLE = 200  # subscribers of the edited plan asked until all have its new rate


def database(subscribers: int) -> str:
    name = f"aaa_bench_{subscribers}"
    if ensure_database(name) or not loaded(name, "service", subscribers):
        print(f"loading {name} ...", flush=True)
        started = time.monotonic()
        dataset.resize(subscribers)
        dataset.load_ours(dsn(name).replace("postgresql://", "postgresql+psycopg://"))
        print(f"  loaded in {time.monotonic() - started:.0f} s", flush=True)
    with psycopg.connect(dsn(name), autocommit=True) as conn:
        for statement in ONLINE_AGAIN:
            conn.execute(statement)
        conn.execute("VACUUM ANALYZE acct_session")  # else autovacuum does it during the rounds
        conn.execute("TRUNCATE auth_log, change_event")
        conn.execute("UPDATE plan SET download_kbps = %s WHERE id = 1", (dataset.PLANS[0][1],))
    return name


def config(tmp: Path, db: str, ports: tuple[int, int] = PORTS) -> Path:
    path = tmp / f"{db}.toml"
    path.write_text(
        f'database_url = "{dsn(db)}"\nlog_level = "WARNING"\n[radius]\nauth_port = {ports[0]}\n'
        f"acct_port = {ports[1]}\nworkers = {WORKERS}\n"
        "[metrics]\nenabled = false\n[enforcer]\nenabled = false\n"
    )
    return path


def serving(port: int) -> int:
    """UDP sockets bound to ``port`` here: each worker binds its own once it has loaded."""
    suffix = f":{port:04X}"
    sockets = Path("/proc/net/udp").read_text().splitlines()[1:]
    return sum(1 for line in sockets if line.split()[1].endswith(suffix))


def titled(pid: int) -> str:
    title = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
    return title.removeprefix("aaa: ") or str(pid)


def start(cfg: Path, timeout: float, port: int = PORTS[0]) -> tuple[subprocess.Popen[bytes], float]:
    """The server, and the seconds until every worker has loaded and bound its socket."""
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "aaa.cli", "--config", str(cfg), "radius"])
    while serving(port) < WORKERS:
        if proc.poll() is not None:
            raise SystemExit(f"isp-aaa exited with {proc.returncode}")
        if time.monotonic() - started > timeout:
            proc.kill()
            raise SystemExit(f"isp-aaa's workers were not all serving within {timeout} s")
        time.sleep(0.05)
    return proc, time.monotonic() - started


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


def memory(proc: subprocess.Popen[bytes]) -> dict[str, tuple[float, float]]:
    """Each process's (resident, peak resident) MiB, by its title."""
    return {titled(pid): (status_mib(pid, "VmRSS"), status_mib(pid, "VmHWM")) for pid in tree(proc.pid)}


def warm_up(port: int, users: list[tuple[str, str]], secret: bytes) -> Result:
    """PAP for about every one of ``users`` (the offline subscribers) once, up to 30 s."""
    gen = LoadGen(port, pap_builder(users, secret))
    try:
        return gen.closed_loop(min(30.0, len(users) / 10_000), window=WINDOW)
    finally:
        gen.close()


def rate_of(answer: bytes) -> bytes | None:
    """The Mikrotik-Rate-Limit value in an Access-Accept (Vendor-Specific 14988, type 8)."""
    i = 20
    while i + 2 <= len(answer):
        kind, length = answer[i], answer[i + 1]
        if kind == 26 and answer[i + 2 : i + 6] == (14988).to_bytes(4, "big") and answer[i + 6] == 8:
            return answer[i + 8 : i + length]
        i += max(length, 2)
    return b""


def plan_edit(cfg: Path, users: list[tuple[str, str]], secret: bytes) -> tuple[float, float]:
    """(seconds the `aaa plan set` command took, seconds until every sampled subscriber of the
    plan was answered with the new rate)."""
    on_plan = [u for n, u in enumerate(users, 1) if (2 * n - 1) % len(dataset.PLANS) == 0]
    sample = random.Random(7).sample(on_plan, min(SAMPLE, len(on_plan)))
    new_down = dataset.PLANS[0][1] + 1000
    wanted = PlanSpeed("", new_down, dataset.PLANS[0][2]).rate_limit().render().encode()
    started = time.monotonic()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "aaa.cli",
            "plan",
            "set",
            "1",
            "--config",
            str(cfg),
            "--download",
            str(new_down),
        ],
        check=True,
        capture_output=True,
    )
    command = time.monotonic() - started
    waiting = list(sample)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(1.0)
        while waiting and time.monotonic() - started < 120:
            waiting = [user for user in waiting if ask(sock, user, secret) != wanted]
    return command, time.monotonic() - started


def ask(sock: socket.socket, user: tuple[str, str], secret: bytes) -> bytes | None:
    """One PAP request (a random authenticator, so the kernel may steer it to any worker);
    the Access-Accept's rate, or None."""
    ident = random.randrange(256)
    sock.sendto(pap_builder([user], secret)(ident, os.urandom(16)), ("127.0.0.1", PORTS[0]))
    try:
        while True:
            answer = sock.recv(4096)
            if answer[1] == ident:
                return rate_of(answer) if answer[0] == 2 else None
    except TimeoutError:
        return None


def main(subscribers: int, seconds: float) -> None:
    secret = dataset.SECRET.encode()
    db, empty = database(subscribers), "aaa_bench_0"
    if ensure_database(empty) or not loaded(empty, "nas", 1):
        dataset.resize(0)
        dataset.load_ours(dsn(empty).replace("postgresql://", "postgresql+psycopg://"))
    dataset.resize(subscribers)
    users = dataset.offline_users()
    tmp = Path(tempfile.mkdtemp(prefix="aaa-scale-"))

    # The same server with nobody to load: what a worker holds besides the snapshots.
    proc, _ = start(config(tmp, empty), 60)
    base = memory(proc)["radius worker 0"][0]
    stop(proc)

    proc, startup = start(config(tmp, db), 300)
    try:
        wait_ready(Server("isp-aaa", proc, *PORTS), users, secret)
        after_start = memory(proc)
        warmed = warm_up(PORTS[0], users, secret)
        gen = LoadGen(PORTS[0], pap_builder(users, secret))
        pap = gen.closed_loop(seconds, window=WINDOW)
        gen.close()
        after_pap = memory(proc)
        command, reached = plan_edit(config(tmp, db), users, secret)
    finally:
        stop(proc)
    worker_rss = [after_pap[name][0] for name in after_pap if name.startswith("radius worker")]
    per_subscriber = [(rss - base) * 1024 * 1024 / subscribers for rss in worker_rss]
    lines = [
        f"## {subscribers:,} subscribers, one node ({WORKERS} workers)",
        "",
        f"- start-up (process start to every worker loaded and serving): **{startup:.1f} s**",
        f"- warm-up: {warmed.answered:,} requests; PAP for {seconds:.0f} s, {WINDOW} outstanding: "
        f"**{pap.rate:,.0f}/s** (lost {pap.lost}, codes {dict(pap.codes)})",
        f"- a plan edit (`aaa plan set`): the command {command:.1f} s; all {SAMPLE} sampled subscribers "
        f"answered with the new rate after **{reached:.1f} s**",
        f"- a worker with no subscribers: {base:.0f} MiB resident",
        "",
        "| process | resident after start-up (MiB) | after PAP (MiB) | peak (MiB) |",
        "|---|---:|---:|---:|",
        *(
            f"| {name} | {after_start.get(name, (0, 0))[0]:.0f} | {rss:.0f} | {peak:.0f} |"
            for name, (rss, peak) in sorted(after_pap.items())
        ),
        f"| **all** | {sum(v[0] for v in after_start.values()):.0f} | "
        f"{sum(v[0] for v in after_pap.values()):.0f} | {sum(v[1] for v in after_pap.values()):.0f} |",
        "",
        "- per subscriber per worker (resident after PAP, less the empty worker's): "
        + ", ".join(f"**{b:,.0f} bytes**" for b in per_subscriber),
    ]
    report = "\n".join(lines)
    print("\n" + report)
    save(f"scale-{subscribers}.md", report + "\n")


def compare(sizes: list[int], seconds: float, rounds: int = 3) -> None:
    """Warm PAP of one node at each size, measured in interleaved rounds (the order turns each
    round, so the machine's drift hits every size alike). Each server serves about every
    offline subscriber once before the rounds."""
    secret = dataset.SECRET.encode()
    tmp = Path(tempfile.mkdtemp(prefix="aaa-scale-"))
    servers: list[tuple[int, subprocess.Popen[bytes], int, list[tuple[str, str]]]] = []
    rates: dict[int, list[float]] = {size: [] for size in sizes}
    try:
        for i, size in enumerate(sizes):
            db = database(size)
            dataset.resize(size)
            users = dataset.offline_users()
            ports = (PORTS[0] + 100 * (i + 1), PORTS[1] + 100 * (i + 1))
            proc, _ = start(config(tmp, db, ports), 300, ports[0])
            servers.append((size, proc, ports[0], users))
            wait_ready(Server("isp-aaa", proc, *ports), users, secret)
            warm_up(ports[0], users, secret)
        for r in range(rounds):
            for size, _, port, users in servers if r % 2 == 0 else list(reversed(servers)):
                gen = LoadGen(port, pap_builder(users, secret))
                result = gen.closed_loop(seconds, window=WINDOW)
                gen.close()
                rates[size].append(result.rate)
                print(f"  {size:>9,} subscribers: {result.rate:,.0f}/s (lost {result.lost})", flush=True)
    finally:
        for _, proc, _, _ in servers:
            stop(proc)
    first = statistics.median(rates[sizes[0]])
    lines = [
        f"## Warm PAP by size, one node ({WORKERS} workers), {rounds} interleaved rounds of {seconds:.0f} s",
        "",
        "| subscribers | PAP/s (median) | rounds | against the first |",
        "|---:|---:|---|---:|",
        *(
            f"| {size:,} | {statistics.median(rates[size]):,.0f} | "
            f"{', '.join(f'{rate:,.0f}' for rate in rates[size])} | "
            f"{statistics.median(rates[size]) / first:.2f}× |"
            for size in sizes
        ),
    ]
    report = "\n".join(lines)
    print("\n" + report)
    save("scale-compare.md", report + "\n")
