"""Attacks on a running node (`aaa serve` / `aaa radius` as processes): a second instance on the
same ports, a port taken by another program, demo credentials left in place, passwords in URLs,
log lines that are not JSON."""

from __future__ import annotations

import io
import json
import logging
import os
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from aaa.logs import configure, mask_credentials
from tests.conftest import PG_URL, fresh_pg_database
from tests.e2e.test_e2e import AAA, free_port


def config(tmp: Path, name: str, url: str, auth: int, acct: int, *, api: bool = True) -> Path:
    path = tmp / f"{name}.toml"
    path.write_text(
        f'database_url = "{url}"\nlog_format = "json"\n'
        f"[radius]\nauth_port = {auth}\nacct_port = {acct}\nworkers = 1\n"
        f"[metrics]\nport = {free_port(socket.SOCK_STREAM)}\n"
        f"[api]\nenabled = {'true' if api else 'false'}\nport = {free_port(socket.SOCK_STREAM)}\n"
        f'[accounting]\nspool_dir = "{tmp / name}-spool"\n'
    )
    return path


def start(tmp: Path, name: str, path: Path, command: str = "serve") -> subprocess.Popen[bytes]:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp / f"{name}-metrics")}
    os.makedirs(env["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)
    return subprocess.Popen(
        [*AAA, "--config", str(path), command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )


def read_lines(proc: subprocess.Popen[bytes], until: str, timeout: float = 30) -> list[str]:
    """stderr lines of ``proc`` until one contains ``until`` (or the time is up)."""
    lines: list[str] = []
    done = threading.Event()

    def pump() -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            lines.append(raw.decode(errors="replace").rstrip("\n"))
            if until in lines[-1]:
                done.set()
        done.set()

    threading.Thread(target=pump, daemon=True).start()
    done.wait(timeout)
    return lines


def test_a_node_owns_its_ports_and_says_what_it_must_not_keep(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'aaa.db'}"
    auth, acct = free_port(), free_port()
    first_config = config(tmp_path, "first", url, auth, acct)
    demo = subprocess.run(
        [*AAA, "--config", str(first_config), "demo"], capture_output=True, text=True, timeout=60
    )
    assert demo.returncode == 0, demo.stderr
    first = start(tmp_path, "first", first_config)
    try:
        lines = read_lines(first, "worker 0 serving")
        assert any("must change" in line and "admin" in line for line in lines), lines
        for line in lines:
            json.loads(line)  # every line is JSON, uvicorn's included
        # A second instance on the same ports would take part of the traffic: it must refuse.
        second = start(tmp_path, "second", config(tmp_path, "second", url, auth, acct))
        assert second.wait(30) != 0
        _, err = second.communicate()
        assert b"held by another isp-aaa instance" in err, err
    finally:
        first.terminate()
        first.wait(30)
    # A port another program holds: one clear line, a non-zero exit, no restart loop.
    squatter = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    squatter.bind(("127.0.0.1", 0))
    try:
        taken = config(tmp_path, "third", url, squatter.getsockname()[1], free_port(), api=False)
        began = time.monotonic()
        third = start(tmp_path, "third", taken, "radius")
        assert third.wait(30) != 0 and time.monotonic() - began < 20
        _, err = third.communicate()
        assert b"cannot be bound" in err, err
    finally:
        squatter.close()


@pytest.mark.pg
def test_database_urls_are_masked_wherever_they_are_shown(tmp_path: Path) -> None:
    with fresh_pg_database("aaa_mask") as url:
        secret_url = url.replace("postgres@", "postgres:hunter2-secret@", 1)  # trust auth ignores it
        env = {**os.environ, "AAA_DATABASE_URL": secret_url}
        for args in (["db", "upgrade"], ["demo"]):
            out = subprocess.run([*AAA, *args], capture_output=True, text=True, env=env, timeout=60)
            assert out.returncode == 0, out.stderr
            assert "hunter2-secret" not in out.stdout + out.stderr
            assert "postgres:***@" in out.stdout, out.stdout
    assert PG_URL  # the shared server, untouched
    assert (
        mask_credentials("redis://:pw@h:6379/0 and https://u:p@x/y")
        == "redis://:***@h:6379/0 and https://u:***@x/y"
    )


def test_every_log_line_is_json_tracebacks_included() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    configure("INFO", "json", stream)
    try:
        logging.getLogger("uvicorn.error").error("uvicorn says %s", "hi")
        logging.getLogger("aaa").warning("connecting to postgresql://aaa:s3cret@db/aaa")

        def boom() -> None:
            raise RuntimeError("thread died")

        thread = threading.Thread(target=boom, name="doomed")
        thread.start()
        thread.join()
        try:
            raise ValueError("handled elsewhere")
        except ValueError:
            logging.getLogger("aaa").exception("failed")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["logger"] for line in lines] == ["uvicorn.error", "aaa", "aaa.crash", "aaa"]
    assert "s3cret" not in stream.getvalue()
    assert "RuntimeError: thread died" in lines[2]["exc"] and "doomed" in lines[2]["msg"]
    assert "ValueError" in lines[3]["exc"]


def test_a_binary_config_file_is_one_clear_line(tmp_path: Path) -> None:
    binary = tmp_path / "aaa.toml"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
    broken = tmp_path / "broken.toml"
    broken.write_text("[radius\nworkers = 2\n")
    for path, says in ((binary, "is not UTF-8 text"), (broken, "is not valid TOML")):
        out = subprocess.run(
            [*AAA, "--config", str(path), "serve"], capture_output=True, text=True, timeout=60
        )
        assert out.returncode != 0
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and says in lines[0], out.stderr
