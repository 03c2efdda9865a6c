"""Enforcement benchmark: a mass change applied to online subscribers as CoA-Requests.

    .venv/bin/python -m bench.coa [--subscribers 5000]

5,000 subscribers are online on one NAS; one transaction moves them all to ``reduced_debt`` (what
a suspension routine does), which writes 5,000 outbox rows; the enforcer then applies them
against a local CoA responder that answers like RouterOS (tests/fakes/coa_responder.py, pyrad on
the responder side). Measured on PostgreSQL ($AAA_BENCH_PG; database aaa_bench_coa is created and
dropped) and on an SQLite file. The reference, in the same run against the same responder, is
Debian's radclient sending the same CoA-Requests with 64 in flight: it only sends, it does not
read sessions, decide, or record anything, so it is the wire's upper bound on this machine.
Written to bench/results/coa.md.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event
from pathlib import Path

import sqlalchemy as sa

from aaa.composition import session_factory
from aaa.db.base import utcnow
from aaa.db.engine import make_engine
from aaa.db.migrate import upgrade
from aaa.enforcement.enforcer import Enforcer
from aaa.nas.service import add_nas
from aaa.settings import load_settings
from aaa.subscribers.lifecycle import change_status
from aaa.tables.accounting import AcctSession, AuthLog, AuthResult
from aaa.tables.enforcement import Enforcement, EnforcementState
from aaa.tables.nas import Nas
from aaa.tables.subscribers import Service
from aaa.vocabulary.subscribers import ServiceStatus
from bench.ipam import services
from bench.results import save
from bench.scratch import scratch_database
from tests.fakes.coa_responder import CoaResponder

SECRET = "bench-secret-0123456789"
RATE = 5_000  # per-NAS pacing for the measurement (the default is 200 a second)


def go_online(engine: sa.Engine, ids: list[int], nas_id: int) -> None:
    now = utcnow()
    granted: dict[str, object] = {"rate": "50M/100M", "address_list": None, "addresses": []}
    with engine.begin() as conn:
        logins = dict(conn.execute(sa.select(Service.id, Service.login).where(Service.id.in_(ids))).all())
        conn.execute(
            sa.insert(AuthLog),
            [
                {
                    "time": now - timedelta(seconds=1),
                    "nas_id": nas_id,
                    "login": logins[i],
                    "service_id": i,
                    "method": "pap",
                    "result": AuthResult.ACCEPT,
                    "reason": "",
                    "mac_differs": False,
                    "interface_differs": False,
                    "granted": granted,
                }
                for i in ids
            ],
        )
        conn.execute(
            sa.insert(AcctSession),
            [
                {
                    "nas_id": nas_id,
                    "acct_session_id": f"{n:08x}",
                    "login": logins[i],
                    "service_id": i,
                    "framed_ip": f"100.{64 + n // 65536}.{n // 256 % 256}.{n % 256}",
                    "start_time": now,
                    "last_update": now,
                }
                for n, i in enumerate(ids)
            ],
        )


def _responder(port_pipe: Connection, stop: Event, sessions: list[tuple[str, str]]) -> None:
    with CoaResponder(SECRET) as responder:
        for login, sid in sessions:
            responder.online(login, sid)
        port_pipe.send(responder.port)
        stop.wait()
        port_pipe.send(len(responder.received))


@contextmanager
def responder_process(sessions: list[tuple[str, str]]) -> Iterator[tuple[int, Callable[[], int]]]:
    """The responder in its own process, so it does not share the enforcer's interpreter lock;
    yields its port and a function that stops it and returns how many requests it answered."""
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe()
    stop = ctx.Event()
    proc = ctx.Process(target=_responder, args=(theirs, stop, sessions), daemon=True)
    proc.start()
    port = ours.recv()

    def finish() -> int:
        stop.set()
        answered: int = ours.recv()
        proc.join(5)
        return answered

    try:
        yield port, finish
    finally:
        if proc.is_alive():
            proc.kill()


def measure(url: str, label: str, count: int) -> tuple[list[str], list[tuple[str, str, str]]]:
    upgrade(url)
    engine = make_engine(url, **({} if url.startswith("sqlite") else {"pool_size": 8}))
    factory = session_factory(engine)
    with factory.begin() as session:
        nas_id = add_nas(session, name="bench", address="127.0.0.1", secret=SECRET).id
    ids = services(engine, count, "coa")
    go_online(engine, ids, nas_id)
    with engine.begin() as conn:
        rows = conn.execute(sa.select(AcctSession.login, AcctSession.acct_session_id, AcctSession.framed_ip))
        sessions: list[tuple[str, str, str]] = [tuple(r) for r in rows]  # type: ignore[misc]
    with responder_process([(login, sid) for login, sid, _ in sessions]) as (port, finish):
        with factory.begin() as session:
            nas = session.get(Nas, nas_id)
            assert nas is not None
            nas.coa_port = port
        started = time.perf_counter()
        with factory.begin() as session:
            for service in session.scalars(sa.select(Service).where(Service.id.in_(ids))):
                change_status(session, service, ServiceStatus.REDUCED_DEBT, reason="bench routine")
        mass = time.perf_counter() - started

        settings = load_settings(
            None,
            database_url=url,
            enforcer={"source_address": "127.0.0.1", "per_nas_rate": RATE, "concurrency": 256},
            metrics={"enabled": False},
        )

        async def drain() -> None:
            enforcer = Enforcer(settings, factory)
            await enforcer.start()
            try:
                while await enforcer.run_once():
                    pass
            finally:
                enforcer.close()

        started = time.perf_counter()
        asyncio.run(drain())
        elapsed = time.perf_counter() - started
        answered = finish()
    with factory() as session:
        done = session.scalar(
            sa.select(sa.func.count())
            .select_from(Enforcement)
            .where(Enforcement.state == EnforcementState.DONE)
        )
    engine.dispose()
    lines = [
        f"| {label} | one transaction: {count:,} services → reduced_debt, {count:,} outbox rows | "
        f"{mass:.2f} s |",
        f"| {label} | enforcer: {done:,} rows done, {answered:,} CoA-Requests answered | "
        f"{elapsed:.2f} s = **{count / elapsed:,.0f} changes/s** |",
    ]
    return lines, sessions


def radclient_rate(sessions: list[tuple[str, str, str]]) -> str:
    """The same CoA-Requests from radclient, 64 in flight, against the same responder."""
    if shutil.which("radclient") is None:
        return "radclient not installed (apt-get install freeradius-utils)"
    with (
        responder_process([(login, sid) for login, sid, _ in sessions]) as (port, finish),
        tempfile.NamedTemporaryFile("w", suffix=".txt") as requests,
    ):
        for login, sid, ip in sessions:
            requests.write(
                f'User-Name = "{login}"\nAcct-Session-Id = "{sid}"\nFramed-IP-Address = {ip}\n'
                'Mikrotik-Rate-Limit = "15M/30M"\n\n'
            )
        requests.flush()
        command = ["radclient", "-q", "-p", "64", "-r", "1", "-t", "3", "-f", requests.name]
        started = time.perf_counter()
        subprocess.run([*command, f"127.0.0.1:{port}", "coa", SECRET], check=False, capture_output=True)
        elapsed = time.perf_counter() - started
        answered = finish()
    return f"{answered / elapsed:,.0f} CoA/s ({answered:,} answered in {elapsed:.2f} s)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=5_000)
    args = parser.parse_args()
    lines = [
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, {args.subscribers:,}"
        " subscribers online on one NAS, a CoA responder on 127.0.0.1, per-NAS pacing"
        f" {RATE:,}/s (the default is 200/s; unpaced, bursts overflow the responder's socket buffer"
        " and every drop costs a retransmission timeout).",
        "",
        "| database | step | isp-aaa |",
        "|---|---|---:|",
    ]
    with scratch_database("aaa_bench_coa") as url:
        pg_lines, sessions = measure(url, "PostgreSQL", args.subscribers)
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_lines, _ = measure(f"sqlite:///{Path(tmp) / 'coa.db'}", "SQLite", args.subscribers)
    lines += pg_lines + sqlite_lines
    reference = radclient_rate(sessions)
    lines += ["", f"Reference, same responder: radclient (freeradius-utils), same requests: {reference}."]
    text = "\n".join(lines) + "\n"
    print(text)
    save("coa.md", text)


if __name__ == "__main__":
    main()
