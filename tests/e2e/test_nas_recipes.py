"""`aaa nas add` prints what to paste on the NAS, with the ports and secret it was registered with."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from aaa.nas.recipes import recipe
from aaa.tables.nas import VendorProfile
from tests.e2e.test_e2e import AAA


def test_nas_add_prints_the_routeros_commands_and_the_coa_port_agrees(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "AAA_DATABASE_URL": f"sqlite:///{tmp_path / 'aaa.db'}",
        "AAA_RADIUS__BIND": "0.0.0.0",
    }
    subprocess.run([*AAA, "db", "upgrade"], env=env, check=True, capture_output=True)
    out = subprocess.run(
        [*AAA, "nas", "add", "--name", "bras1", "--address", "10.0.0.9", "--secret", "a-long-secret-0123456"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "CoA port 3799" in out
    assert "/radius add service=ppp address=<this server's address> secret=a-long-secret-0123456" in out
    assert "/radius incoming set accept=yes port=3799" in out
    assert "/ppp aaa set use-radius=yes accounting=yes interim-update=5m" in out
    accel = subprocess.run(
        [
            *AAA,
            "nas",
            "add",
            "--name",
            "bras2",
            "--address",
            "10.0.0.10",
            "--secret",
            "a-long-secret-0123456",
            "--vendor",
            "accel-ppp",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "dae-server=0.0.0.0:3799,a-long-secret-0123456" in accel and "[shaper]" in accel


def test_a_loopback_bind_is_called_out() -> None:
    lines = recipe(
        VendorProfile.MIKROTIK,
        server="127.0.0.1",
        auth_port=1812,
        acct_port=1813,
        secret="s" * 16,
        coa_port=3799,
        interim_seconds=300,
    )
    assert 'set radius.bind = "0.0.0.0"' in lines[0]
