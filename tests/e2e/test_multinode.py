"""Two RADIUS nodes (`aaa radius`, separate processes and ports) and the admin API on one
PostgreSQL and one Redis: a change made through the API reaches both nodes; leases handed out
by both nodes at once from one small pool never collide. (Routines running once across nodes:
tests/integration/test_routines.py, with two scheduler processes.)"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from pyrad import packet

from tests import radius_client as rc
from tests.api_client import api_for
from tests.conftest import REDIS_URL, fresh_pg_database, seed, wait_for
from tests.e2e.test_e2e import AAA, SECRET, free_port


def node_config(tmp: Path, name: str, url: str) -> tuple[Path, int, int]:
    auth, acct = free_port(), free_port()
    config = tmp / f"{name}.toml"
    config.write_text(
        f'database_url = "{url}"\nredis_url = "{REDIS_URL}"\n'
        f"[radius]\nauth_port = {auth}\nacct_port = {acct}\nworkers = 1\nreject_delay = 0.1\n"
        f"change_poll_interval = 5\n[metrics]\nport = {free_port(socket.SOCK_STREAM)}\n"
        "[api]\nenabled = false\n"
        f'[accounting]\nspool_dir = "{tmp / name}-spool"\n'
    )
    return config, auth, acct


def start_node(tmp: Path, name: str, config: Path) -> subprocess.Popen[bytes]:
    """`aaa radius` on ``config``, its own metrics directory, its output in ``<name>.log``."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp / f"{name}-metrics")}
    os.makedirs(env["PROMETHEUS_MULTIPROC_DIR"])
    log = open(tmp / f"{name}.log", "wb")  # noqa: SIM115 - the process owns it
    return subprocess.Popen([*AAA, "--config", str(config), "radius"], stdout=log, stderr=log, env=env)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[str, list[tuple[int, int]]]]:
    with fresh_pg_database("aaa_nodes") as url:
        yield from _cluster(tmp_path, url)


def _cluster(tmp_path: Path, url: str) -> Iterator[tuple[str, list[tuple[int, int]]]]:
    setup, _, _ = node_config(tmp_path, "setup", url)
    seed(setup, "nas", "add", "--name", "bras-1", "--address", "127.0.0.1", "--secret", SECRET)
    seed(setup, "plan", "add", "--name", "Fibra", "--download", "100000", "--upload", "50000")
    seed(setup, "service", "add", "--login", "maria", "--password", "old-pass", "--plan", "Fibra")
    seed(setup, "ipam", "folder", "add", "Pools")
    seed(setup, "ipam", "pool", "add", "cgnat", "--kind", "ipv4", "--mode", "server")
    seed(
        setup,
        "ipam",
        "subnet",
        "add",
        "100.66.0.0/28",
        "--folder",
        "Pools",
        "--purpose",
        "dynamic",
        "--pool",
        "cgnat",
    )
    seed(setup, "plan", "add", "--name", "Dyn", "--download", "20000", "--upload", "10000")
    seed(setup, "ipam", "pool", "attach", "cgnat", "--plan", "Dyn")
    for n in range(12):
        seed(setup, "service", "add", "--login", f"dyn-{n}", "--password", "dyn-pass", "--plan", "Dyn")
    procs, ports = [], []
    for name in ("node-a", "node-b"):
        config, auth, acct = node_config(tmp_path, name, url)
        procs.append(start_node(tmp_path, name, config))
        ports.append((auth, acct))
    try:
        for auth, acct in ports:
            nas = rc.client(auth, acct, SECRET)
            if not wait_for(lambda nas=nas: _accepts(nas, "maria", "old-pass"), timeout=30, interval=0.3):
                pytest.fail("a node did not start: " + (tmp_path / "node-a.log").read_text()[-2000:])
        yield url, ports
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            assert proc.wait(20) == 0


def _accepts(nas: object, login: str, password: str) -> bool:
    try:
        return rc.send(nas, rc.pap(nas, login, password)).code == packet.AccessAccept  # type: ignore[arg-type]
    except Exception:
        return False


def test_two_nodes_one_api(cluster: tuple[str, list[tuple[int, int]]]) -> None:
    url, ports = cluster
    nodes = [rc.client(auth, acct, SECRET) for auth, acct in ports]
    with api_for(url, redis_url=REDIS_URL) as api:
        maria = api.get("/services", params={"login": "maria"})["items"][0]
        api.post(f"/services/{maria['id']}/password", {"password": "new-pass"})
    for nas in nodes:  # over Redis: the nodes' feed poll (5 s) is too slow for this
        assert wait_for(lambda nas=nas: _accepts(nas, "maria", "new-pass"), timeout=2), (
            "a node kept the old password"
        )
        assert not _accepts(nas, "maria", "old-pass")

    addresses: dict[str, str] = {}
    errors: list[str] = []

    def login(n: int) -> None:
        nas = rc.client(*ports[n % 2], SECRET)
        reply = rc.send(nas, rc.pap(nas, f"dyn-{n}", "dyn-pass"))
        if reply.code != packet.AccessAccept:
            errors.append(f"dyn-{n}: {reply.code}")
            return
        addresses[f"dyn-{n}"] = reply["Framed-IP-Address"][0]

    threads = [threading.Thread(target=login, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert len(addresses) == 12 and len(set(addresses.values())) == 12  # both nodes, no collision
    assert all(a.startswith("100.66.0.") for a in addresses.values())


def test_sigterm_under_accounting_load_stores_everything_acknowledged(tmp_path: Path) -> None:
    """SIGTERM while four NAS-side clients send accounting: the node stops taking datagrams,
    drains its queue and exits 0; every record it acknowledged is in the database."""
    with fresh_pg_database("aaa_term") as url:
        config, auth, acct = node_config(tmp_path, "node", url)
        seed(config, "nas", "add", "--name", "bras-1", "--address", "127.0.0.1", "--secret", SECRET)
        proc = start_node(tmp_path, "node", config)
        probe = rc.client(auth, acct, SECRET)
        assert wait_for(lambda: _answers(probe), timeout=30, interval=0.3), (
            tmp_path / "node.log"
        ).read_text()
        acknowledged: list[str] = []
        stop = threading.Event()

        def nas_side(n: int) -> None:
            nas = rc.client(auth, acct, SECRET, timeout=0.5)
            i = 0
            while not stop.is_set():
                sid = f"term-{n}-{i}"
                try:
                    rc.send(nas, rc.accounting(nas, "Start", "maria", sid))
                    acknowledged.append(sid)
                except Exception:
                    pass  # not acknowledged: a real NAS would retransmit to the other server
                i += 1

        threads = [threading.Thread(target=nas_side, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        assert wait_for(lambda: len(acknowledged) >= 200, timeout=30)
        proc.terminate()
        assert proc.wait(30) == 0
        stop.set()
        for t in threads:
            t.join(10)
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            stored = {r[0] for r in conn.execute("SELECT acct_session_id FROM acct_session")}
        assert set(acknowledged) <= stored and len(acknowledged) >= 200


def _answers(nas: object) -> bool:
    try:
        rc.send(nas, rc.accounting(nas, "Accounting-On"))  # type: ignore[arg-type]
        return True
    except Exception:
        return False


def test_sighup_reloads_without_dropping_requests(tmp_path: Path) -> None:
    """SIGHUP with a changed file (the default Acct-Interim-Interval): the workers are replaced
    one at a time while four clients keep logging in; every request is answered (a NAS
    retransmits what a closing socket held), the new value shows, the worker processes are new."""
    with fresh_pg_database("aaa_hup") as url:
        config, auth, acct = node_config(tmp_path, "node", url)
        # One of the two serves authentication only (acct_workers), the other both.
        config.write_text(config.read_text().replace("workers = 1", "workers = 2\nacct_workers = 1"))

        seed(config, "nas", "add", "--name", "bras-1", "--address", "127.0.0.1", "--secret", SECRET)
        seed(config, "plan", "add", "--name", "Fibra", "--download", "100000", "--upload", "50000")
        seed(
            config,
            "service",
            "add",
            "--login",
            "maria",
            "--password",
            "maria-pass",
            "--plan",
            "Fibra",
            "--simultaneous-use",
            "0",
        )
        proc = start_node(tmp_path, "node", config)
        try:
            probe = rc.client(auth, acct, SECRET)
            assert wait_for(lambda: _accepts(probe, "maria", "maria-pass"), timeout=30, interval=0.3)
            # A child names itself once its interpreter is up: on a loaded machine the enforcer or
            # the second worker may not have yet when the first worker answers.
            expected = {"aaa: radius worker 0", "aaa: radius worker 1", "aaa: enforcer"}
            assert wait_for(lambda: set(_children(proc.pid).values()) == expected, timeout=30)
            before = _children(proc.pid)
            intervals: list[int] = []
            failures: list[str] = []
            stop = threading.Event()

            def nas_side() -> None:
                nas = rc.client(auth, acct, SECRET, timeout=1.0)
                nas.retries = 3
                while not stop.is_set():
                    try:
                        reply = rc.send(nas, rc.pap(nas, "maria", "maria-pass"))
                        intervals.append(reply["Acct-Interim-Interval"][0])
                    except Exception as exc:
                        failures.append(repr(exc))

            threads = [threading.Thread(target=nas_side) for _ in range(4)]
            for t in threads:
                t.start()
            assert wait_for(lambda: len(intervals) > 50, timeout=20)
            config.write_text(
                config.read_text().replace("[radius]\n", "[radius]\nacct_interim_interval = 120\n")
            )
            proc.send_signal(signal.SIGHUP)
            assert wait_for(lambda: "reload done" in (tmp_path / "node.log").read_text(), timeout=90)
            mark = len(intervals)
            assert wait_for(lambda: len(intervals) > mark + 50, timeout=20)
            stop.set()
            for t in threads:
                t.join(10)
            assert failures == []
            assert set(intervals) == {300, 120} and set(intervals[mark:]) == {120}
            # Every child replaced (a new one names itself once its interpreter is up). An old
            # worker may take up to its 10 s drain and then its exit: on a loaded machine, more.
            replaced = wait_for(lambda: len(_children(proc.pid)) == len(before), timeout=40)
            assert replaced, (before, _children(proc.pid))
            assert not set(_children(proc.pid)) & set(before)
            proc.terminate()
            assert proc.wait(30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()


def _children(pid: int) -> dict[int, str]:
    """The supervisor's worker and enforcer processes (not multiprocessing's resource tracker),
    by the titles they give themselves: pid -> title."""
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    titles = {int(p): _title(int(p)) for p in out}
    return {p: title for p, title in titles.items() if title.startswith("aaa: ")}  # not "gone"


def test_a_killed_supervisor_takes_its_workers_with_it(tmp_path: Path) -> None:
    """SIGKILL on the supervisor (an OOM kill, a crash): its workers and enforcer stop too, so a
    restarted node never serves beside orphans on the same ports."""
    with fresh_pg_database("aaa_orphans") as url:
        config, _auth, _acct = node_config(tmp_path, "node", url)
        seed(config, "nas", "add", "--name", "bras-1", "--address", "127.0.0.1", "--secret", SECRET)
        proc = start_node(tmp_path, "node", config)
        try:
            # one RADIUS worker (node_config) and the enforcer
            assert wait_for(lambda: len(_children(proc.pid)) == 2, timeout=60, interval=0.3)
            children = _children(proc.pid)
            proc.kill()
            proc.wait(10)

            def gone() -> bool:
                return not any(Path(f"/proc/{pid}").exists() and _alive(pid) for pid in children)

            assert wait_for(gone, timeout=30, interval=0.2), [_title(p) for p in children]
        finally:
            if proc.poll() is None:
                proc.kill()


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def _title(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
    except FileNotFoundError:
        return "gone"
