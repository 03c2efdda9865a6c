"""End to end: `aaa radius` (supervisor + 2 worker processes) driven by Debian's radtest and
radclient and by pyrad's client, set up through the `aaa` CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from pyrad import packet
from sqlalchemy.orm import sessionmaker

from aaa.db.engine import make_engine
from aaa.db.migrate import upgrade
from tests import radius_client as rc
from tests.conftest import PG_URL, count_rows, seed, wait_for

pytestmark = pytest.mark.radclient
AAA = [sys.executable, "-m", "aaa.cli"]
SECRET = "e2e-secret-0123456789"


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    config: Path
    auth_port: int
    acct_port: int
    metrics_port: int
    proc: subprocess.Popen[bytes]
    database_url: str

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*AAA, "--config", str(self.config), *args],
            capture_output=True,
            text=True,
            check=check,
            timeout=60,
        )

    def radtest(self, method: str, login: str, password: str) -> str:
        out = subprocess.run(
            ["radtest", "-t", method, login, password, f"127.0.0.1:{self.auth_port}", "0", SECRET],
            capture_output=True,
            text=True,
            timeout=30,
        )
        return out.stdout + out.stderr

    def radclient(self, kind: str, attributes: str) -> str:
        out = subprocess.run(
            ["radclient", "-r", "2", "-t", "2", "-x", f"127.0.0.1:{self.port(kind)}", kind, SECRET],
            input=attributes,
            capture_output=True,
            text=True,
            timeout=30,
        )
        return out.stdout + out.stderr

    def port(self, kind: str) -> int:
        return self.acct_port if kind == "acct" else self.auth_port

    def sql(self, query: str) -> list[tuple[object, ...]]:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.database_url)
        with engine.connect() as conn:
            rows = [tuple(r) for r in conn.execute(text(query))]
        engine.dispose()
        return rows


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not shutil.which("radtest"):
        pytest.fail(
            "radtest/radclient (Debian freeradius-utils) are required; scripts/test.sh installs them",
            pytrace=False,
        )
    tmp = tmp_path_factory.mktemp("e2e")
    dbname = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'aaa.db'}"
    else:
        dbname = f"aaa_e2e_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
        url = PG_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{dbname}"
    upgrade(url)
    auth, acct, metrics_port = free_port(), free_port(), free_port(socket.SOCK_STREAM)
    config = tmp / "aaa.toml"
    config.write_text(
        f'database_url = "{url}"\n[radius]\nauth_port = {auth}\nacct_port = {acct}\n'
        "workers = 2\n"
        f"reject_delay = 0.2\nchange_poll_interval = 0.1\nauthlog_flush_ms = 50\n"
        f"[metrics]\nport = {metrics_port}\n"
        f'[accounting]\nspool_dir = "{tmp / "spool"}"\n'
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp / "metrics")}
    os.makedirs(env["PROMETHEUS_MULTIPROC_DIR"])
    seed(config, "nas", "add", "--name", "bras-1", "--address", "127.0.0.1", "--secret", SECRET)
    seed(config, "plan", "add", "--name", "Fibra 100M", "--download", "100000", "--upload", "50000")
    seed(
        config,
        "service",
        "add",
        "--login",
        "maria",
        "--password",
        "maria-pass",
        "--plan",
        "Fibra 100M",
        "--simultaneous-use",
        "0",
    )
    seed(config, "ipam", "folder", "add", "Fixed")
    seed(config, "ipam", "subnet", "add", "100.64.10.0/24", "--folder", "Fixed", "--purpose", "fixed")
    seed(
        config,
        "service",
        "add",
        "--login",
        "joao",
        "--password",
        "joao-pass",
        "--plan",
        "Fibra 100M",
        "--ip",
        "100.64.10.2",
        "--simultaneous-use",
        "0",
    )
    # IPAM: a server-side pool for the "Dinâmico" plan (radtest then sees a leased address)
    seed(config, "ipam", "pool", "add", "cgnat", "--kind", "ipv4", "--mode", "server")
    seed(
        config,
        "ipam",
        "subnet",
        "add",
        "100.65.0.0/29",
        "--folder",
        "Fixed",
        "--purpose",
        "dynamic",
        "--pool",
        "cgnat",
    )
    seed(config, "plan", "add", "--name", "Dinâmico", "--download", "20000", "--upload", "10000")
    seed(config, "ipam", "pool", "attach", "cgnat", "--plan", "Dinâmico")
    seed(config, "service", "add", "--login", "dyn", "--password", "dyn-pass", "--plan", "Dinâmico")
    log = open(tmp / "server.log", "wb")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen(
        [*AAA, "--config", str(config), "radius"], stdout=log, stderr=subprocess.STDOUT, env=env
    )
    srv = Server(config, auth, acct, metrics_port, proc, url)
    if not wait_for(
        lambda: "Access-Accept" in srv.radtest("pap", "maria", "maria-pass"), timeout=20, interval=0.3
    ):
        proc.kill()
        pytest.fail("server did not start:\n" + (tmp / "server.log").read_text())
    yield srv
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 0
    log.close()
    if dbname:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


@pytest.mark.parametrize("method", ["pap", "chap", "mschap"])
def test_radtest_accepts_and_rejects(server: Server, method: str) -> None:
    good = server.radtest(method, "joao", "joao-pass")
    assert "Received Access-Accept" in good, good
    assert 'Mikrotik-Rate-Limit = "50M/100M"' in good
    assert "Framed-IP-Address = 100.64.10.2" in good
    bad = server.radtest(method, "joao", "wrong-pass")
    assert "Received Access-Reject" in bad, bad
    assert 'Reply-Message = "Falha na autenticação: login ou senha inválidos"' in bad, bad


def test_ipam_lease_with_radtest_and_release_with_radclient(server: Server) -> None:
    accept = server.radtest("pap", "dyn", "dyn-pass")
    assert "Framed-IP-Address = 100.65.0.1" in accept, accept
    who = server.cli("ipam", "who", "100.65.0.1").stdout
    assert "is already leased to service" in who and "'dyn'" in who
    stop = (
        'Acct-Status-Type = Stop, User-Name = "dyn", Acct-Session-Id = "dyn-1", Acct-Session-Time = 2, '
        "Framed-IP-Address = 100.65.0.1"
    )
    assert "Accounting-Response" in server.radclient("acct", stop)
    assert "100.65.0.1 is free" in server.cli("ipam", "who", "100.65.0.1").stdout
    listed = server.cli("ipam", "subnet", "list").stdout
    assert "100.64.10.0/24" in listed and "100.65.0.0/29" in listed


def test_pyrad_mschapv2(server: Server) -> None:
    nas = rc.client(server.auth_port, server.acct_port, SECRET)
    reply = rc.send(nas, rc.mschap2(nas, "maria", "maria-pass")[0])
    assert reply.code == packet.AccessAccept and reply["MS-CHAP2-Success"]
    assert rc.send(nas, rc.mschap2(nas, "maria", "nope")[0]).code == packet.AccessReject


def test_radclient_accounting(server: Server) -> None:
    base = (
        'User-Name = "maria", Acct-Session-Id = "81a0e2e1", NAS-Port-Id = "ether2", '
        'Calling-Station-Id = "AA:BB:CC:DD:EE:01", Framed-IP-Address = 100.64.0.7'
    )
    assert "Accounting-Response" in server.radclient("acct", f"Acct-Status-Type = Start, {base}")
    assert "Accounting-Response" in server.radclient(
        "acct",
        f"Acct-Status-Type = Interim-Update, Acct-Session-Time = 60, Acct-Input-Octets = 1000, "
        f"Acct-Output-Octets = 9000, {base}",
    )
    assert "Accounting-Response" in server.radclient(
        "acct",
        f"Acct-Status-Type = Stop, Acct-Session-Time = 120, Acct-Input-Octets = 2000, "
        f"Acct-Output-Octets = 19000, Acct-Terminate-Cause = User-Request, {base}",
    )
    rows = server.sql(
        "SELECT input_octets, output_octets, session_time, terminate_cause, framed_ip "
        "FROM acct_session WHERE acct_session_id = '81a0e2e1'"
    )
    assert rows == [(2000, 19000, 120, "User-Request", "100.64.0.7")]
    # Accounting-On closes what is still open on the NAS
    server.radclient("acct", 'Acct-Status-Type = Start, User-Name = "joao", Acct-Session-Id = "81a0e2e2"')
    assert "Accounting-Response" in server.radclient("acct", "Acct-Status-Type = Accounting-On")
    assert server.sql("SELECT closed_by FROM acct_session WHERE acct_session_id = '81a0e2e2'") == [
        ("nas_reboot",)
    ]
    history = server.cli("sessions", "maria").stdout
    assert "81a0e2e1" in history and "User-Request" in history


def test_cli_change_reaches_both_workers_within_a_second(server: Server) -> None:
    nas = rc.client(server.auth_port, server.acct_port, SECRET)
    for _ in range(20):  # warm both workers' caches (requests are spread over the workers)
        assert rc.send(nas, rc.pap(nas, "maria", "maria-pass")).code == packet.AccessAccept
    server.cli("service", "set", "maria", "--password", "changed-pass")
    changed_at = time.monotonic()

    def accepted() -> bool:
        return rc.send(nas, rc.pap(nas, "maria", "changed-pass")).code == packet.AccessAccept

    def every_worker_has_it() -> bool:
        return all(accepted() for _ in range(10))

    assert wait_for(accepted, timeout=1.0, interval=0.05)
    assert time.monotonic() - changed_at < 1.0 + 0.2  # within a second (plus one reject's delay)
    assert wait_for(every_worker_has_it, timeout=1.0, interval=0.05)
    results = [rc.send(nas, rc.pap(nas, "maria", "changed-pass")).code for _ in range(30)]
    assert results == [packet.AccessAccept] * 30
    server.cli("service", "set", "maria", "--password", "maria-pass")


def test_metrics_aggregate_every_worker(server: Server) -> None:
    nas = rc.client(server.auth_port, server.acct_port, SECRET)
    for _ in range(10):
        rc.send(nas, rc.pap(nas, "maria", "maria-pass"))
    text = (
        urllib.request.urlopen(f"http://127.0.0.1:{server.metrics_port}/metrics", timeout=5).read().decode()
    )
    accepted = [
        line
        for line in text.splitlines()
        if line.startswith('aaa_radius_requests_total{nas="bras-1",outcome="accept",type="access"}')
    ]
    assert accepted and float(accepted[0].split()[-1]) >= 10
    assert "aaa_radius_request_seconds_bucket" in text


def test_metrics_health_and_readiness_of_the_server(server: Server) -> None:
    """The supervisor's endpoint also serves the database-derived gauges, /healthz and /readyz."""
    nas = rc.client(server.auth_port, server.acct_port, SECRET)
    rc.send(nas, rc.accounting(nas, "Start", "maria", "m-1"))
    base = f"http://127.0.0.1:{server.metrics_port}"
    text = urllib.request.urlopen(f"{base}/metrics", timeout=5).read().decode()
    values = dict(line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))
    assert values["aaa_database_up"] == "1.0"
    assert float(values['aaa_sessions_open{nas="bras-1"}']) >= 1
    assert "aaa_db_connections_in_use" in values
    assert json.loads(urllib.request.urlopen(f"{base}/healthz", timeout=5).read()) == {"status": "alive"}
    ready = json.loads(urllib.request.urlopen(f"{base}/readyz", timeout=5).read())
    assert ready == {"ready": True, "checks": {"spool": "ok", "database": "ok", "migrations": "ok"}}
    rc.send(nas, rc.accounting(nas, "Stop", "maria", "m-1"))


def title_of(pid: int) -> str:
    """A process's title (setproctitle writes it over the command line)."""
    return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace").strip()


def workers_of(server: Server) -> list[int]:
    """The supervisor's children: the RADIUS workers and the enforcer (not multiprocessing's
    resource tracker), by their titles."""
    pids = subprocess.run(
        ["pgrep", "-P", str(server.proc.pid)], capture_output=True, text=True
    ).stdout.split()
    alive = []
    for pid in map(int, pids):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0]
        except FileNotFoundError:
            continue
        if cmdline.startswith(b"aaa: ") and state != "Z":
            alive.append(pid)
    return alive


def test_processes_say_what_they_are(server: Server) -> None:
    assert title_of(server.proc.pid) == "aaa: supervisor (radius)"
    assert sorted(title_of(pid) for pid in workers_of(server)) == [
        "aaa: enforcer",
        "aaa: radius worker 0",
        "aaa: radius worker 1",
    ]


def test_a_killed_worker_is_replaced(server: Server) -> None:
    before = workers_of(server)
    assert len(before) == 3  # two workers and the enforcer
    os.kill(before[0], signal.SIGKILL)
    assert wait_for(lambda: len(workers_of(server)) == 3 and before[0] not in workers_of(server), timeout=10)
    nas = rc.client(server.auth_port, server.acct_port, SECRET)
    assert all(
        rc.send(nas, rc.pap(nas, "maria", "maria-pass")).code == packet.AccessAccept for _ in range(20)
    )


def test_worker_killed_under_accounting_load_loses_and_doubles_nothing(server: Server) -> None:
    """Four NAS-side clients (four source ports, spread over the workers) send 200 sessions each:
    Start, then an Interim with counters. A worker is SIGKILLed mid-way; what it had in flight is
    either committed or retransmitted by the client and de-duplicated: every session is stored
    once, with its last counters (an interim replayed is not added twice)."""
    clients, per_client = 4, 200
    answered: list[int] = []
    errors: list[str] = []
    half = threading.Event()

    def nas_side(n: int) -> None:
        nas = rc.client(server.auth_port, server.acct_port, SECRET, timeout=1.0)
        nas.retries = 8
        for i in range(per_client):
            sid = f"kill-{n}-{i}"
            try:
                rc.send(nas, rc.accounting(nas, "Start", "maria", sid))
                rc.send(nas, rc.accounting(nas, "Interim-Update", "maria", sid, Acct_Input_Octets=1000 + i))
                answered.append(1)
            except Exception as exc:  # a lost answer after every retry would be a failure
                errors.append(f"{sid}: {exc!r}")
            if n == 0 and i == per_client // 4:
                half.set()

    threads = [threading.Thread(target=nas_side, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    assert half.wait(30)
    victim = workers_of(server)[0]
    os.kill(victim, signal.SIGKILL)
    for t in threads:
        t.join(120)
    assert errors == [] and len(answered) == clients * per_client
    engine = make_engine(server.database_url)
    factory = sessionmaker(engine)
    try:
        stored = count_rows(factory, "SELECT count(*) FROM acct_session WHERE acct_session_id LIKE 'kill-%'")
        distinct = count_rows(
            factory,
            "SELECT count(DISTINCT acct_session_id) FROM acct_session WHERE acct_session_id LIKE 'kill-%'",
        )
        octets = count_rows(
            factory, "SELECT sum(input_octets) FROM acct_session WHERE acct_session_id LIKE 'kill-%'"
        )
    finally:
        engine.dispose()
    assert stored == distinct == clients * per_client
    assert octets == clients * sum(1000 + i for i in range(per_client))  # no interim counted twice
    assert wait_for(lambda: len(workers_of(server)) == 3, timeout=10)


def test_cli_errors_are_clear(server: Server) -> None:
    dup = server.cli("service", "add", "--login", "maria", "--plan", "Fibra 100M", check=False)
    assert dup.returncode == 1 and "login 'maria' is already used by service" in dup.stderr
    bad = server.cli(
        "nas", "add", "--name", "x", "--address", "10.0.0.1/33", "--secret", "s" * 20, check=False
    )
    assert bad.returncode == 1 and "is not an IP address or a CIDR" in bad.stderr
