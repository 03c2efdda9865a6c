"""The `aaa` command fails in one line with what to do, never a traceback, and never creates an
empty database by being run in the wrong place."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from pathlib import Path

from aaa.logs import configure

AAA = [sys.executable, "-m", "aaa.cli"]


def run(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AAA_")}
    return subprocess.run(
        [*AAA, *args], cwd=cwd, env={**environment, **env}, capture_output=True, text=True, timeout=60
    )


def test_a_command_in_the_wrong_directory_creates_no_database(tmp_path: Path) -> None:
    done = run("plan", "list", cwd=tmp_path)
    assert done.returncode == 2
    assert "no database at" in done.stderr and "aaa db upgrade" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "aaa.db").exists()


def test_an_unreachable_or_empty_database_is_one_line(tmp_path: Path) -> None:
    down = run("plan", "list", cwd=tmp_path, AAA_DATABASE_URL="postgresql://postgres@127.0.0.1:1/none")
    assert down.returncode == 1 and "cannot be reached" in down.stderr, down.stderr
    assert "Traceback" not in down.stderr and len(down.stderr.strip().splitlines()) == 1
    (tmp_path / "empty.db").touch()
    empty = run("plan", "list", cwd=tmp_path, AAA_DATABASE_URL=f"sqlite:///{tmp_path / 'empty.db'}")
    assert empty.returncode == 1 and "aaa db upgrade" in empty.stderr, empty.stderr
    assert "Traceback" not in empty.stderr


def test_config_after_the_subcommand_and_version(tmp_path: Path) -> None:
    config = tmp_path / "aaa.toml"
    config.write_text(f'database_url = "sqlite:///{tmp_path / "isp.db"}"\n')
    assert run("--config", str(config), "db", "upgrade", cwd=tmp_path).returncode == 0
    listed = run("plan", "list", "--config", str(config), cwd=Path("/"))
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == ["id", "name", "download_kbps", "upload_kbps", "price"]
    version = run("--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("isp-aaa ")


def test_scheduler_runs_are_not_logged_at_info() -> None:
    configure("INFO", stream=io.StringIO())
    assert not logging.getLogger("apscheduler.executors.default").isEnabledFor(logging.INFO)
    configure("DEBUG", stream=io.StringIO())
    assert logging.getLogger("apscheduler.executors.default").isEnabledFor(logging.DEBUG)
    configure("INFO", stream=io.StringIO())


def test_the_demo_says_where_the_server_listens(tmp_path: Path) -> None:
    config = tmp_path / "aaa.toml"
    config.write_text(
        f'database_url = "sqlite:///{tmp_path / "demo.db"}"\n'
        "[radius]\nauth_port = 11812\nacct_port = 11813\n[api]\nport = 18080\n[metrics]\nport = 19812\n"
    )
    shown = run("--config", str(config), "demo", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "RADIUS auth 127.0.0.1:11812, accounting 127.0.0.1:11813" in shown.stdout, shown.stdout
    assert "admin API 127.0.0.1:18080, metrics 127.0.0.1:19812" in shown.stdout
    assert 'radius.bind = "0.0.0.0"' in shown.stdout  # loopback: a real NAS cannot reach it
    assert "radtest -t pap maria maria-pass 127.0.0.1:11812 0" in shown.stdout
