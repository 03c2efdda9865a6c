"""`aaa trace`: a running worker writes what it receives and answers for the traced NAS and
login (credentials masked, the decision's reasons), within the trace's packet count, and
`aaa trace` as a process prints it (real UDP, pyrad as the NAS)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from pyrad import packet
from sqlalchemy.orm import Session, sessionmaker

from aaa.radius.trace import begin_trace, trace_lines
from tests import radius_client as rc
from tests.conftest import SECRET, RunningWorker, make_service, wait_for


def lines_of(factory: sessionmaker[Session], trace_id: int) -> list[str]:
    with factory() as s:
        return [text for _, text in trace_lines(s, trace_id)]


def test_a_trace_shows_requests_decisions_and_replies_masked(
    worker: RunningWorker, factory: sessionmaker[Session]
) -> None:
    with factory.begin() as s:
        make_service(s, login="maria", password="maria-pass")
        make_service(s, login="jose", password="jose-pass")
        trace_id = begin_trace(s, nas_id=None, login="maria", seconds=30, packets=3).id
    wait_for(lambda: worker.worker.tracer.active)
    nas = rc.client(worker.auth_port, worker.acct_port, SECRET)
    assert rc.send(nas, rc.pap(nas, "jose", "jose-pass")).code == packet.AccessAccept  # not traced
    assert rc.send(nas, rc.pap(nas, "maria", "maria-pass")).code == packet.AccessAccept
    request = rc.mschap2(nas, "maria", "maria-pass")[0]
    assert rc.send(nas, request).code == packet.AccessAccept
    assert rc.send(nas, rc.pap(nas, "maria", "wrong")).code == packet.AccessReject
    assert rc.send(nas, rc.pap(nas, "maria", "wrong")).code == packet.AccessReject  # past 3 packets

    def all_three_answered() -> str | None:  # the lines reach the table in batches
        text = "\n".join(lines_of(factory, trace_id))
        return text if text.count(" Sent Access-") == 3 else None

    text = wait_for(all_three_answered)
    assert text, lines_of(factory, trace_id)
    assert "jose" not in text
    assert text.count(" Received Access-Request ") == 3
    assert "User-Password = <masked>" in text and "maria-pass" not in text
    assert "MS-CHAP2-Response = <masked>" in text and "MS-CHAP2-Success = <masked>" in text
    assert "decision: plan Fibra 100M" in text
    assert "Sent Access-Accept" in text and "Mikrotik-Rate-Limit = '50M/100M'" in text
    assert "decision: reject: wrong_password" in text and "Sent Access-Reject" in text
    assert "User-Name = 'maria'" in text


def test_aaa_trace_prints_a_nas_s_traffic_and_ends_by_itself(
    worker: RunningWorker, factory: sessionmaker[Session], db_url: str, tmp_path: Path
) -> None:
    with factory.begin() as s:
        make_service(s, login="maria", password="maria-pass")
    config = tmp_path / "aaa.toml"
    config.write_text(f'database_url = "{db_url}"\n[radius]\nauthlog_flush_ms = 20\n')
    command = [sys.executable, "-m", "aaa.cli", "--config", str(config), "trace"]
    tracing = subprocess.Popen(
        [*command, "--nas", "nas-127.0.0.1", "--seconds", "20", "--packets", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert wait_for(lambda: worker.worker.tracer.active, timeout=20)
        nas = rc.client(worker.auth_port, worker.acct_port, SECRET)
        rc.send(nas, rc.pap(nas, "maria", "maria-pass"))
        rc.send(nas, rc.accounting(nas, "Start", "maria", "t-1"))
        started = time.monotonic()
        out, err = tracing.communicate(timeout=30)
    finally:
        tracing.kill()
    assert tracing.returncode == 0, err
    assert time.monotonic() - started < 15  # it stopped at 2 packets, not at 20 s
    assert "tracing NAS nas-127.0.0.1 for 20 s or 2 packets" in out
    assert "Received Access-Request" in out and "Sent Access-Accept" in out
    assert "Received Accounting-Request" in out and "Acct-Status-Type = 'Start'" in out
    assert "Sent Accounting-Response (stored)" in out
    assert "ended: 2 packet(s)" in out
    with factory() as s:  # the trace and its lines are gone
        assert trace_lines(s, 1) == []


def test_the_api_starts_and_reads_a_trace(
    api: Any, worker: RunningWorker, factory: sessionmaker[Session]
) -> None:
    with factory.begin() as s:
        make_service(s, login="maria", password="maria-pass")
    nas_id = api.get("/nas")["items"][0]["id"]
    trace = api.post("/radius/traces", {"nas_id": nas_id, "login": "maria", "seconds": 30}, expect=201)
    assert trace["max_packets"] == 100 and trace["login"] == "maria"
    wait_for(lambda: worker.worker.tracer.active)
    nas = rc.client(worker.auth_port, worker.acct_port, SECRET)
    rc.send(nas, rc.pap(nas, "maria", "maria-pass"))

    def read() -> Any:
        found = api.get(f"/radius/traces/{trace['id']}")
        return found if any("Sent Access-Accept" in line for line in found["lines"]) else None

    found = wait_for(read)
    assert found is not None and not found["ended"]
    assert api.get(f"/radius/traces/{trace['id']}", params={"after": found["next_after"]})["lines"] == []
    api.post("/radius/traces", {"nas_id": 999}, expect=404)
    api.post("/radius/traces", {"seconds": 7200}, expect=422)
    api.post("/operators", {"login": "leitor", "name": "L", "password": "operator-password-1"}, expect=201)
    reader = api.login("leitor", "operator-password-1")
    assert "radius.trace" in reader.post("/radius/traces", {}, expect=403)["detail"]
