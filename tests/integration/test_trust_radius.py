"""Attacks on the NAS side: registrations wider than a NAS, short secrets, reflection through a
NAS without Message-Authenticator, and the RouterOS API password on the wire."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from pyrad import packet
from sqlalchemy.orm import Session, sessionmaker

from aaa.db.base import utcnow
from aaa.enforcement.enforcer import Enforcer
from aaa.enforcement.reconcile import reconcile
from aaa.enforcement.routeros import RouterOsError, connect
from aaa.node.supervisor import warn_at_start
from aaa.settings import Settings
from aaa.tables.nas import MaMode
from tests import radius_client as rc
from tests.api_client import Http
from tests.conftest import (
    SECRET,
    make_nas,
    make_service,
    start_worker,
    stop_worker,
    test_settings,
    wait_for,
)
from tests.e2e.test_e2e import AAA
from tests.fakes.coa_responder import CoaResponder
from tests.fakes.routeros_api import RouterOsFake


def test_wide_registrations_and_short_secrets_need_a_flag(http: Http, db_url: str, tmp_path: Path) -> None:
    def nas(
        name: str, address: str, secret: str = "a-long-random-secret-01", **flags: bool
    ) -> dict[str, object]:
        return {"name": name, "address": address, "secret": secret, **flags}

    for address in ("10.0.0.0/16", "0.0.0.0/0", "::/0", "2001:db8::/48"):
        detail = http.post("/nas", nas("wide", address), expect=422)["detail"]
        assert "allow_wide_prefix" in detail, detail
    http.post("/nas", nas("lan", "10.0.0.0/16", allow_wide_prefix=True), expect=201)
    http.post("/nas", nas("small", "10.1.0.0/24"), expect=201)
    assert (
        "allow_short_secret"
        in http.post("/nas", nas("weak", "10.2.0.1", "short-secret"), expect=422)["detail"]
    )
    made = http.post("/nas", nas("legacy", "10.2.0.2", "short-secret", allow_short_secret=True), expect=201)
    assert made["allow_short_secret"] is True
    rotated = http.post(f"/nas/{made['id']}/rotate-secret", {})
    assert rotated["allow_short_secret"] is False and len(rotated["secret"]) >= 16
    http.post(f"/nas/{made['id']}/rotate-secret", {"secret": "tiny"}, expect=422)
    http.post(f"/nas/{made['id']}/rotate-secret", {"secret": "tiny-on-purpose", "allow_short_secret": True})
    listed = subprocess.run(
        [*AAA, "nas", "list"],
        capture_output=True,
        text=True,
        env={"AAA_DATABASE_URL": db_url, "PATH": "/usr/bin"},
    )
    assert listed.returncode == 0, listed.stderr
    assert "SHORT, rotate it" in next(line for line in listed.stdout.splitlines() if "legacy" in line)


def test_short_secrets_are_named_at_every_start(
    factory: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    with factory.begin() as s:
        make_nas(s, name="legacy", address="10.2.0.2")
        from aaa.tables.nas import Nas

        s.get(Nas, 1) or None
        for row in s.query(Nas):
            row.allow_short_secret = True
    with caplog.at_level(logging.WARNING):
        warn_at_start(factory)
    assert "NAS 'legacy' has a secret shorter than 16 characters" in caplog.text


@pytest.fixture
def unauthenticated_worker(db_url: str, factory: sessionmaker[Session]) -> Iterator[int]:
    with factory.begin() as s:
        make_nas(s, ma=MaMode.NO)
        make_service(s, login="maria", password="maria-pass")
    running = start_worker(test_settings(db_url), factory)
    yield running.auth_port
    stop_worker(running)


def test_no_reflection_through_a_nas_without_message_authenticator(unauthenticated_worker: int) -> None:
    nas = rc.client(unauthenticated_worker, 0, SECRET)
    nas.enforce_ma = False
    for login in ("maria", "nobody-at-all"):
        req = rc.pap(nas, login, "guessing", ma=False)
        del req["NAS-Port-Type"], req["Service-Type"], req["Framed-Protocol"]
        raw = req.RequestPacket()
        reply = rc.raw_exchange(unauthenticated_worker, raw, timeout=3)
        assert reply is not None and reply[0] == packet.AccessReject
        assert len(reply) <= len(raw), (len(reply), len(raw))
        assert "Falha na autenticação".encode() not in reply
    # A request that proves its secret with Message-Authenticator still gets the reason.
    signed = rc.send(nas, rc.pap(nas, "maria", "guessing", ma=True))
    assert signed.code == packet.AccessReject and signed["Reply-Message"]


# --- RouterOS api-ssl ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "router.pem", folder / "router.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_routeros_api_over_tls(
    certificate: tuple[Path, Path], factory: sessionmaker[Session], db_url: str
) -> None:
    cert, key = certificate
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    with RouterOsFake(tls=server) as router:
        router.add_active("maria", "100.64.0.2")
        with connect("127.0.0.1", router.port, "admin", "secret", 5, tls=True) as ros:
            assert [s.name for s in ros.active()] == ["maria"]
        with (
            pytest.raises(RouterOsError, match="CERTIFICATE_VERIFY_FAILED"),
            connect("127.0.0.1", router.port, "admin", "secret", 5, tls=True, verify=True),
        ):
            pass
        with connect(
            "127.0.0.1", router.port, "admin", "secret", 5, tls=True, verify=True, ca_file=str(cert)
        ) as ros:
            assert len(ros.active()) == 1
        with pytest.raises(RouterOsError), connect("127.0.0.1", router.port, "admin", "secret", 2):
            pass  # a plain client cannot talk to api-ssl
        # The reconciler reaches a NAS registered with api_tls.
        with factory.begin() as s:
            make_nas(s, api_port=router.port, api_username="admin", api_password="secret", api_tls=True)
        [report] = reconcile(factory, test_settings(db_url), utcnow(), None)
        assert report.error is None and report.source == "routeros", report


# --- Simultaneous-Use under a race -----------------------------------------------------------------


def test_twenty_racing_requests_for_a_limit_one_login(db_url: str, factory: sessionmaker[Session]) -> None:
    """20 CPEs dial the same limit-1 login at once through one worker: exactly one accepted."""
    with factory.begin() as s:
        make_nas(s)
        make_service(s, login="maria", password="maria-pass", simultaneous_use=1)
    running = start_worker(test_settings(db_url, reservation_seconds=15), factory)
    try:
        nas = rc.client(running.auth_port, 0, SECRET)
        datagrams = []
        for n in range(20):
            req = rc.pap(nas, "maria", "maria-pass", Calling_Station_Id=f"AA:BB:CC:00:00:{n:02X}")
            datagrams.append(req.RequestPacket())
        codes = _race(running.auth_port, datagrams)
    finally:
        stop_worker(running)
    assert sorted(codes) == [packet.AccessAccept] + [packet.AccessReject] * 19, codes


def test_what_gets_through_other_workers_is_disconnected(db_url: str, factory: sessionmaker[Session]) -> None:
    """Two workers (or nodes) each accept one CPE of a limit-1 login; once both Starts are
    stored the enforcer disconnects the newest session within seconds."""
    with CoaResponder(SECRET) as responder:
        with factory.begin() as s:
            make_nas(s, coa_port=responder.port)
            make_service(s, login="maria", password="maria-pass", simultaneous_use=1)
        settings = test_settings(db_url, reservation_seconds=15).model_copy(deep=True)
        settings.enforcer.simultaneous_use_interval = 0.1
        settings.enforcer.timeout = 0.5
        workers = [start_worker(settings, factory), start_worker(settings, factory)]
        try:
            accepted = []
            for n, running in enumerate(workers):
                nas = rc.client(running.auth_port, running.acct_port, SECRET)
                mac = f"AA:BB:CC:00:00:0{n}"
                reply = rc.send(nas, rc.pap(nas, "maria", "maria-pass", Calling_Station_Id=mac))
                assert reply.code == packet.AccessAccept  # neither worker saw the other's accept
                accepted.append((nas, mac, f"sess-{n}"))
            with running_enforcer(settings, factory):
                for nas, mac, session_id in accepted:
                    responder.online("maria", session_id)
                    rc.send(nas, rc.accounting(nas, "Start", "maria", session_id, Calling_Station_Id=mac))
                    time.sleep(0.05)
                ended = wait_for(
                    lambda: [r for r in responder.received if r.code == packet.DisconnectRequest], timeout=10
                )
        finally:
            for running in workers:
                stop_worker(running)
    assert ended and [r.first("Acct-Session-Id") for r in ended] == ["sess-1"]  # the newest
    assert responder.sessions == {("maria", "sess-0")}


@contextmanager
def running_enforcer(settings: Settings, factory: sessionmaker[Session]) -> Iterator[None]:
    """The enforcer (outbox loop and Simultaneous-Use watch) on a thread of its own, placed in
    the change feed before this yields."""
    stop = threading.Event()
    ready = threading.Event()

    async def main() -> None:
        done = asyncio.Event()
        task = asyncio.get_running_loop().create_task(Enforcer(settings, factory).run(done))
        await asyncio.sleep(0.3)
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.05)
        done.set()
        await task

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield
    finally:
        stop.set()
        thread.join(10)


def _race(port: int, datagrams: list[bytes]) -> list[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        for raw in datagrams:
            sock.sendto(raw, ("127.0.0.1", port))
        codes = []
        try:
            while len(codes) < len(datagrams):
                codes.append(sock.recv(4096)[0])
        except TimeoutError:
            pass
    return codes


@pytest.mark.pg
def test_a_storm_of_logins_newly_online_is_counted_in_chunks(pg_factory: sessionmaker[Session]) -> None:
    """A reconnect storm names more logins than PostgreSQL takes parameters in one query."""
    from aaa.enforcement.surplus import queue_over_limit
    from aaa.tables.accounting import AcctSession

    with pg_factory.begin() as s:
        nas_id = make_nas(s)
        service = make_service(s, login="u69999", password="p", simultaneous_use=1)
        for n in range(2):  # two open sessions over a limit of one
            s.add(AcctSession(nas_id=nas_id, acct_session_id=f"s{n}", login="u69999", service_id=service.id))
        s.flush()
    with pg_factory.begin() as s:
        assert len(queue_over_limit(s, {f"u{n}" for n in range(70_000)})) == 1
