"""A NAS that gets silence learns why from the log: each drop cause is a WARNING with the fix,
once per source and cause, then one summary line per minute with a count (real UDP)."""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path
from typing import Any

import pytest

from tests import radius_client as rc
from tests.conftest import SECRET, RunningWorker, seed, wait_for


def drop_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "aaa.radius.drops"]


def send_quietly(client: object, req: object) -> None:
    with contextlib.suppress(Exception):  # dropped: pyrad times out
        rc.send(client, req)  # type: ignore[arg-type]


def test_drops_are_warnings_with_the_fix_rate_limited(
    worker: RunningWorker, caplog: pytest.LogCaptureFixture
) -> None:
    stranger = rc.client(worker.auth_port, worker.acct_port, SECRET, timeout=0.2)
    stranger.retries = 1
    stranger.bind(("127.0.0.9", 0))
    wrong = rc.client(worker.auth_port, worker.acct_port, "not-the-secret-0000", timeout=0.2)
    wrong.retries = 1
    plain = rc.client(worker.auth_port, worker.acct_port, SECRET, timeout=0.2)
    plain.retries = 1
    with caplog.at_level(logging.WARNING, logger="aaa.radius.drops"):
        for _ in range(3):
            send_quietly(stranger, rc.pap(stranger, "maria", "x"))
            send_quietly(wrong, rc.pap(wrong, "maria", "x"))
            send_quietly(plain, rc.pap(plain, "maria", "x", ma=False))
        lines = wait_for(lambda: drop_lines(caplog) if len(drop_lines(caplog)) >= 3 else None)
        assert len(drop_lines(caplog)) == 3, lines
        assert any(
            "127.0.0.9 dropped: no NAS registered" in line and "--address 127.0.0.9" in line for line in lines
        )
        assert any("shared secret differs" in line for line in lines)
        assert any("RouterOS before 7.15" in line for line in lines)
        worker.worker.drops._clock = lambda: time.monotonic() + 3600  # an hour later
        send_quietly(stranger, rc.pap(stranger, "maria", "x"))
        wait_for(lambda: any("more since the last line" in line for line in drop_lines(caplog)))
    summary = [r.getMessage() for r in caplog.records if "more since the last line" in r.getMessage()]
    assert summary and "127.0.0.9" in summary[0] and "(2 more since the last line)" in summary[0], summary


def test_the_nas_shows_its_last_request_and_drop(
    worker: RunningWorker, api: Any, db_url: str, tmp_path: Path
) -> None:
    """`GET /nas/{id}` and `aaa nas list` show what the workers saw of the NAS: its requests
    (answered or dropped), its last drop and why, summed over flushes."""
    nas_id = api.get("/nas")["items"][0]["id"]
    assert api.get(f"/nas/{nas_id}")["activity"] is None  # nothing seen yet
    wrong = rc.client(worker.auth_port, worker.acct_port, "not-the-secret-0000", timeout=0.2)
    wrong.retries = 1
    plain = rc.client(worker.auth_port, worker.acct_port, SECRET, timeout=0.2)
    plain.retries = 1
    good = rc.client(worker.auth_port, worker.acct_port, SECRET)
    for _ in range(2):
        send_quietly(wrong, rc.pap(wrong, "maria", "x"))
    send_quietly(plain, rc.pap(plain, "maria", "x", ma=False))
    rc.send(good, rc.pap(good, "nobody", "x"))  # answered (a reject)

    def seen() -> Any:
        activity = api.get(f"/nas/{nas_id}")["activity"]
        return activity if activity and activity["requests"] >= 4 and activity["drops"] >= 3 else None

    activity = wait_for(seen)
    assert activity is not None
    assert activity["requests"] == 4 and activity["drops"] == 3
    assert activity["last_drop_cause"] == "missing_message_authenticator"
    assert activity["last_request_at"] and activity["last_drop_at"]
    listed = api.get("/nas")["items"][0]["activity"]
    assert listed["drops"] == 3

    config = tmp_path / "aaa.toml"
    config.write_text(f'database_url = "{db_url}"\n')
    out = seed(config, "nas", "list")
    header, row = out.splitlines()[0], out.splitlines()[1]
    assert "last_request" in header and "last_drop" in header
    assert "missing_message_authenticator at" in row and " 4 " in row and " 3 " in row
