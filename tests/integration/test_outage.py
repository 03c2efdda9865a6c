"""PostgreSQL down for 60 s under load (a TCP proxy in front of it is cut): accounting is spooled,
fsynced and acknowledged; authentication keeps answering from the cached snapshots (a login not
in the cache gets a reject that says why); when the database returns the spool is replayed.
Every acknowledged record is counted in the database, once, with its last counters."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyrad import packet
from sqlalchemy import text

from aaa import metrics
from aaa.accounting.spool import spool_bytes
from aaa.composition import build
from aaa.tables.changes import ChangeKind
from aaa.vocabulary.messages import MESSAGES
from tests import radius_client as rc
from tests.conftest import (
    PG_URL,
    SECRET,
    fresh_pg_database,
    make_nas,
    make_plan,
    make_service,
    start_worker,
    stop_worker,
    test_settings,
    wait_for,
)
from tests.fakes.tcp_proxy import TcpProxy

OUTAGE_SECONDS = 60


@pytest.fixture
def database() -> Iterator[str]:
    with fresh_pg_database("aaa_outage") as url:
        yield url


def test_postgresql_down_for_a_minute_under_load_loses_nothing(database: str, tmp_path: Path) -> None:
    host, port = PG_URL.split("@", 1)[1].split("/", 1)[0].split(":")
    with TcpProxy((host, int(port))) as proxy:
        proxied = database.replace(f"@{host}:{port}/", f"@127.0.0.1:{proxy.port}/")
        settings = test_settings(proxied).model_copy(deep=True)
        settings.accounting.spool_dir = str(tmp_path / "spool")
        settings.accounting.replay_interval = 0.5
        direct = build(test_settings(database))
        with direct.factory.begin() as s:
            make_nas(s)
            make_service(s, login="maria", password="maria-pass", simultaneous_use=0)
        through_proxy = build(settings)
        running = start_worker(settings, through_proxy.factory)
        acknowledged: list[str] = []
        failures: list[str] = []
        outage = threading.Event()
        stop = threading.Event()

        def nas_side(n: int) -> None:
            nas = rc.client(running.auth_port, running.acct_port, SECRET, timeout=2.0)
            nas.retries = 3
            i = 0
            while not stop.is_set():
                sid = f"out-{n}-{i}"
                try:
                    rc.send(nas, rc.accounting(nas, "Start", "maria", sid))
                    rc.send(
                        nas, rc.accounting(nas, "Interim-Update", "maria", sid, Acct_Input_Octets=5000 + i)
                    )
                    acknowledged.append(sid)
                except Exception as exc:
                    failures.append(f"{sid} ({'outage' if outage.is_set() else 'up'}): {exc!r}")
                i += 1
                time.sleep(0.02)

        try:
            threads = [threading.Thread(target=nas_side, args=(n,)) for n in range(4)]
            for t in threads:
                t.start()
            assert wait_for(lambda: len(acknowledged) >= 20, timeout=20)
            spooled_before = metrics.ACCT_SPOOLED._value.get()
            proxy.cut()
            outage.set()
            nas = rc.client(running.auth_port, running.acct_port, SECRET)
            ends = time.monotonic() + OUTAGE_SECONDS
            during = len(acknowledged)
            while time.monotonic() < ends:
                assert rc.send(nas, rc.pap(nas, "maria", "maria-pass")).code == packet.AccessAccept  # cache
                time.sleep(1)
            unknown = rc.send(nas, rc.pap(nas, "nobody-cached", "x"))
            assert unknown.code == packet.AccessReject
            assert unknown["Reply-Message"][0] == MESSAGES["subscriber_unavailable"]
            acked_in_outage = len(acknowledged) - during
            assert acked_in_outage > 100, acked_in_outage  # the load went on, acknowledged
            assert metrics.ACCT_SPOOLED._value.get() - spooled_before >= acked_in_outage
            assert spool_bytes(settings.accounting.spool_dir) > 0
            proxy.restore()
            outage.clear()
            time.sleep(2)
            stop.set()
            for t in threads:
                t.join(30)
            assert wait_for(lambda: spool_bytes(settings.accounting.spool_dir) == 0, timeout=60)
        finally:
            stop.set()
            stop_worker(running)
            through_proxy.close()
        assert failures == []
        with direct.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT acct_session_id, input_octets FROM acct_session WHERE acct_session_id LIKE :p"),
                {"p": "out-%"},
            ).all()
        direct.close()
        stored = {sid: octets for sid, octets in rows}
        assert (
            len(rows) == len(stored) == len(acknowledged) == len(set(acknowledged))
        )  # none lost, none twice
        assert all(stored[sid] == 5000 + int(sid.rsplit("-", 1)[1]) for sid in acknowledged)


def test_database_down_reject_mode(database: str, tmp_path: Path) -> None:
    """radius.database_down = "reject": once a commit finds the database unreachable, every login
    is rejected as unavailable; when it answers again (the replay loop's probe), logins pass."""
    host, port = PG_URL.split("@", 1)[1].split("/", 1)[0].split(":")
    with TcpProxy((host, int(port))) as proxy:
        proxied = database.replace(f"@{host}:{port}/", f"@127.0.0.1:{proxy.port}/")
        settings = test_settings(proxied, database_down="reject").model_copy(deep=True)
        settings.accounting.spool_dir = str(tmp_path / "spool")
        direct = build(test_settings(database))
        with direct.factory.begin() as s:
            make_nas(s)
            make_service(s, login="ana", password="ana-pass", simultaneous_use=0)
        direct.close()
        through_proxy = build(settings)
        running = start_worker(settings, through_proxy.factory)
        try:
            nas = rc.client(running.auth_port, running.acct_port, SECRET)
            assert rc.send(nas, rc.pap(nas, "ana", "ana-pass")).code == packet.AccessAccept
            proxy.cut()
            rc.send(nas, rc.accounting(nas, "Start", "ana", "r-1"))  # spooled; the worker now knows
            refused = rc.send(nas, rc.pap(nas, "ana", "ana-pass"))
            assert refused.code == packet.AccessReject
            proxy.restore()
            assert wait_for(
                lambda: rc.send(nas, rc.pap(nas, "ana", "ana-pass")).code == packet.AccessAccept, timeout=10
            )
            assert wait_for(lambda: spool_bytes(settings.accounting.spool_dir) == 0, timeout=10)
        finally:
            stop_worker(running)
            through_proxy.close()


def test_database_down_reject_mode_in_an_authentication_only_worker(database: str) -> None:
    """A worker that serves no accounting learns of the outage from its auth log writes; the
    log rows wait in memory and are all written once the database is back."""
    host, port = PG_URL.split("@", 1)[1].split("/", 1)[0].split(":")
    answers: list[int] = []
    with TcpProxy((host, int(port))) as proxy:
        proxied = database.replace(f"@{host}:{port}/", f"@127.0.0.1:{proxy.port}/")
        settings = test_settings(proxied, database_down="reject", authlog_flush_ms=50)
        direct = build(test_settings(database))
        with direct.factory.begin() as s:
            make_nas(s)
            make_service(s, login="ana", password="ana-pass")
        direct.close()
        through_proxy = build(settings)
        running = start_worker(settings, through_proxy.factory, accounting=False)

        def login() -> int:
            answers.append(rc.send(nas, rc.pap(nas, "ana", "ana-pass")).code)
            return answers[-1]

        try:
            nas = rc.client(running.auth_port, running.acct_port, SECRET)
            assert login() == packet.AccessAccept
            proxy.cut()
            # Answered from the snapshot until a write of the auth log finds the outage.
            assert wait_for(lambda: login() == packet.AccessReject, timeout=10, interval=0.1)
            proxy.restore()
            assert wait_for(lambda: login() == packet.AccessAccept, timeout=10, interval=0.1)
        finally:
            stop_worker(running)
            through_proxy.close()
    check = build(test_settings(database))
    with check.factory() as s:
        logged = s.execute(text("SELECT result, reason FROM auth_log WHERE login = 'ana' ORDER BY id")).all()
    check.close()
    assert [result == "accept" for result, _ in logged] == [a == packet.AccessAccept for a in answers]
    assert any("database unavailable" in reason for result, reason in logged if result == "reject")


def test_a_plan_edit_announced_while_the_database_is_away_is_read_once_it_is_back(database: str) -> None:
    """A plan edit changes the plan every snapshot shares, so nothing reloads it later: a worker
    that hears of it (here as the Redis bus delivers it) while the database is away keeps
    trying to read the plans until it can."""
    host, port = PG_URL.split("@", 1)[1].split("/", 1)[0].split(":")
    with TcpProxy((host, int(port))) as proxy:
        proxied = database.replace(f"@{host}:{port}/", f"@127.0.0.1:{proxy.port}/")
        settings = test_settings(proxied)
        direct = build(test_settings(database))
        with direct.factory.begin() as s:
            make_nas(s)
            plan = make_plan(s, name="Fibra 50M", download=50_000, upload=25_000)
            make_service(s, login="ana", password="ana-pass", plan=plan, simultaneous_use=0)
            plan_id = plan.id
        through_proxy = build(settings)
        running = start_worker(settings, through_proxy.factory)
        try:
            nas = rc.client(running.auth_port, running.acct_port, SECRET)
            assert rc.send(nas, rc.pap(nas, "ana", "ana-pass"))["Mikrotik-Rate-Limit"] == ["25M/50M"]
            proxy.cut()
            with direct.engine.begin() as conn:  # no change-feed row: only the announcement tells
                conn.execute(text("UPDATE plan SET download_kbps = 60000 WHERE id = :id"), {"id": plan_id})
            announce = [(ChangeKind.PLAN, str(plan_id))]
            running.loop.call_soon_threadsafe(running.worker.apply_changes, announce)
            time.sleep(2.5)  # the reload failed, and its retries too
            assert rc.send(nas, rc.pap(nas, "ana", "ana-pass"))["Mikrotik-Rate-Limit"] == ["25M/50M"]
            proxy.restore()
            assert wait_for(
                lambda: rc.send(nas, rc.pap(nas, "ana", "ana-pass"))["Mikrotik-Rate-Limit"] == ["25M/60M"],
                timeout=10,
            )
        finally:
            stop_worker(running)
            through_proxy.close()
            direct.close()
