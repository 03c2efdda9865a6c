"""Attacks on accounting through a running worker (real UDP): a poison record in a batch of
good ones, Gigawords beyond a signed 64-bit counter, a Calling-Station-Id longer than the column;
and the spool under a file size limit (a full disk)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from pyrad import packet
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from aaa import metrics
from tests import radius_client as rc
from tests.conftest import SECRET, RunningWorker, count_rows, make_service, wait_for


def refuse_login(factory: sessionmaker[Session], login: str) -> None:
    """Make the database refuse every session row of ``login`` (a stand-in for any record it
    cannot take)."""
    with factory.begin() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(
                text(f"ALTER TABLE acct_session ADD CONSTRAINT refuse CHECK (login <> '{login}')")
            )
        else:
            session.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON acct_session "
                    f"WHEN NEW.login = '{login}' BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )


def undo_refusal(factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("ALTER TABLE acct_session DROP CONSTRAINT refuse"))
        else:
            session.execute(text("DROP TRIGGER refuse"))


def test_a_poison_record_never_takes_its_batch_down(
    worker: RunningWorker, factory: sessionmaker[Session]
) -> None:
    refuse_login(factory, "poison")
    try:
        nas = rc.client(worker.auth_port, worker.acct_port, SECRET)
        datagrams = []
        for n in range(40):
            req = rc.accounting(nas, "Start", f"good-{n}", f"sess-{n}")
            if n == 7:
                req = rc.accounting(nas, "Start", "poison", "sess-poison")
            if n == 13:  # Gigawords that make the counter 2^64 - 1 (RFC 2869 allows any)
                req = rc.accounting(
                    nas,
                    "Interim-Update",
                    "huge",
                    "sess-huge",
                    Acct_Input_Octets=2**32 - 1,
                    Acct_Input_Gigawords=2**32 - 1,
                    Acct_Output_Octets=1,
                    Acct_Output_Gigawords=2**32 - 1,
                )
            if n == 21:
                req = rc.accounting(nas, "Start", "longmac", "sess-long", Calling_Station_Id="A" * 200)
            datagrams.append((req.id, req.RequestPacket()))
        refused_before = metrics.ACCT_REFUSED._value.get()
        clamped_before = metrics.ACCT_CLAMPED._value.get()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(3)
            for _, raw in datagrams:  # back to back: they share group commits
                sock.sendto(raw, ("127.0.0.1", worker.acct_port))
            answered = set()
            try:
                while len(answered) < len(datagrams):
                    answered.add(sock.recv(4096)[1])
            except TimeoutError:
                pass
        poison_id = datagrams[7][0]
        assert answered == {ident for ident, _ in datagrams} - {poison_id}
        assert count_rows(factory, "SELECT count(*) FROM acct_session") == 39
        assert count_rows(factory, "SELECT count(*) FROM acct_session WHERE login = 'poison'") == 0
        huge = count_rows(factory, "SELECT input_octets FROM acct_session WHERE login = 'huge'")
        assert huge == 2**63 - 1
        assert metrics.ACCT_CLAMPED._value.get() == clamped_before + 1
        assert metrics.ACCT_REFUSED._value.get() >= refused_before + 1
        assert (
            count_rows(factory, "SELECT length(calling_station_id) FROM acct_session WHERE login = 'longmac'")
            == 64
        )
    finally:
        undo_refusal(factory)


SPOOL_SCRIPT = """
import json, logging, os, resource, signal, sys
logging.basicConfig()
from datetime import UTC, datetime
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead of killing us
from aaa import metrics
from aaa.accounting.records import AcctRecord, StatusType
from aaa.accounting.spool import Spool, _decode

spool = Spool(sys.argv[1], "w0", 10**9)
def batch(first, n):
    now = datetime.now(UTC)
    login = "x" * 200
    return [AcctRecord(StatusType.START, 1, now, f"s{i}", f"{i}-{login}") for i in range(first, first + n)]
spool.append(batch(0, 5))
size = os.path.getsize(spool.path)
resource.setrlimit(resource.RLIMIT_FSIZE, (size + 700, size + 700))
outcome = {"first_size": size}
try:
    spool.append(batch(5, 20))
    outcome["second"] = "acknowledged"
except OSError as exc:
    outcome["second"] = f"refused: {exc}"
outcome["size_after"] = os.path.getsize(spool.path)
lines = open(spool.path).read().splitlines()
outcome["lines"] = len(lines)
outcome["readable"] = all(_decode(line).login for line in lines)
outcome["errors"] = metrics.ACCT_SPOOL_ERRORS._value.get()
print(json.dumps(outcome))
"""


def test_a_full_disk_never_acknowledges_a_torn_spool(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", SPOOL_SCRIPT, str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["second"].startswith("refused"), result
    assert result["size_after"] == result["first_size"] and result["lines"] == 5, result
    assert result["readable"] and result["errors"] == 1
    assert "ERROR" in out.stderr and "not acknowledged" in out.stderr, out.stderr


def test_a_reused_session_id_opens_a_new_session(
    worker: RunningWorker, factory: sessionmaker[Session]
) -> None:
    """MikroTik restarts Acct-Session-Id after a reboot: Start/Stop of id X, then Start and
    Interim of id X again are two sessions, both counted, the second online."""
    with factory.begin() as s:
        make_service(s, login="maria", password="maria-pass")
    nas = rc.client(worker.auth_port, worker.acct_port, SECRET)
    port = {"Calling_Station_Id": "AA:BB:CC:DD:EE:01", "NAS_Port_Id": "ether2"}

    def acct(status: str, delay: int, **counters: int) -> None:
        reply = rc.send(
            nas, rc.accounting(nas, status, "maria", "81a00001", Acct_Delay_Time=delay, **port, **counters)
        )
        assert reply.code == packet.AccountingResponse

    acct("Start", 60)
    acct("Stop", 30, Acct_Session_Time=30, Acct_Input_Octets=1000, Acct_Output_Octets=9000)
    assert rc.send(nas, rc.pap(nas, "maria", "maria-pass", **port)).code == packet.AccessAccept
    acct("Start", 10)
    acct("Interim-Update", 0, Acct_Session_Time=10, Acct_Input_Octets=70, Acct_Output_Octets=700)
    rows = query(
        factory,
        "SELECT input_octets, output_octets, stop_time IS NULL AS open FROM acct_session "
        "WHERE login = 'maria' ORDER BY start_time",
    )
    assert [(r[0], r[1], bool(r[2])) for r in rows] == [(1000, 9000, False), (70, 700, True)]
    # The worker counts the new session: a second CPE is over the Simultaneous-Use limit.
    other = {"Calling_Station_Id": "AA:BB:CC:DD:EE:02", "NAS_Port_Id": "ether3"}
    assert wait_for(
        lambda: rc.send(nas, rc.pap(nas, "maria", "maria-pass", **other)).code == packet.AccessReject
    )
    # A retransmitted Stop of the first session changes neither.
    acct("Stop", 29, Acct_Session_Time=30, Acct_Input_Octets=1000, Acct_Output_Octets=9000)
    assert (
        count_rows(factory, "SELECT count(*) FROM acct_session WHERE login = 'maria' AND stop_time IS NULL")
        == 1
    )


def query(factory: sessionmaker[Session], sql: str) -> list[Any]:
    with factory() as session:
        return list(session.execute(text(sql)).all())
