"""Status-Server (RFC 5997) on both ports, probed with Debian's radclient and raw datagrams."""

from __future__ import annotations

import hashlib
import hmac
import os
import subprocess

import pytest

from tests import radius_client as rc
from tests.conftest import SECRET, RunningWorker

pytestmark = pytest.mark.radclient


def radclient_status(port: int, secret: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["radclient", "-x", "-r", "1", "-t", "2", f"127.0.0.1:{port}", "status", secret],
        input="Message-Authenticator = 0x00\n",
        capture_output=True,
        text=True,
        timeout=20,
    )


def test_status_server_answers_a_registered_nas_on_both_ports(worker: RunningWorker) -> None:
    auth = radclient_status(worker.auth_port, SECRET)
    assert auth.returncode == 0 and "Access-Accept" in auth.stdout, auth.stdout + auth.stderr
    acct = radclient_status(worker.acct_port, SECRET)
    assert acct.returncode == 0 and "Accounting-Response" in acct.stdout, acct.stdout + acct.stderr
    # A wrong secret, or no Message-Authenticator: silence (RFC 5997 §3).
    assert radclient_status(worker.auth_port, "not-the-secret-00000").returncode != 0
    ident, authenticator = 7, os.urandom(16)
    bare = rc.header(12, ident, 20, authenticator)
    assert rc.raw_exchange(worker.auth_port, bare, timeout=1) is None
    signed_body = bytes([80, 18]) + b"\x00" * 16
    packet = rc.header(12, ident, 38, authenticator) + signed_body
    digest = hmac.new(SECRET.encode(), packet, hashlib.md5).digest()
    packet = packet[:22] + digest
    reply = rc.raw_exchange(worker.auth_port, packet, timeout=2)
    assert reply is not None and reply[0] == 2 and reply[1] == ident
