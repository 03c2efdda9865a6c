"""Packaging: the wheel carries what the server reads at run time (dictionaries, migrations),
so a `pip install` of it into a clean virtual environment serves RADIUS to radtest from any
directory; the container files agree with the settings and the Compose Specification."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

from aaa.settings import load_settings
from tests.conftest import SECRET, wait_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp_path = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return next(tmp_path.glob("isp_aaa-*.whl"))


def test_the_wheel_ships_the_dictionaries_and_the_migrations(wheel: Path, tmp_path: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "aaa/dictionaries/dictionary",
        "aaa/dictionaries/dictionary.rfc",
        "aaa/dictionaries/dictionary.mikrotik",
        "aaa/dictionaries/dictionary.microsoft",
        "aaa/dictionaries/dictionary.huawei",
        "aaa/dictionaries/dictionary.cisco",
        "aaa/dictionaries/dictionary.erx",
        "aaa/migrations/env.py",
        "aaa/migrations/script.py.mako",
        "aaa/cli/__main__.py",
        "admin_api/console/templates/service.html",
        "admin_api/console/static/console.css",
        "admin_api/console/static/vendor/htmx.min.js",
        "admin_api/console/static/vendor/pico.min.css",
    ):
        assert needed in names, needed
    assert any(n.startswith("aaa/migrations/versions/0011_") for n in names)

    # Unpacked away from the checkout: the default dictionary is the package's, and it loads.
    unpacked = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(unpacked)
    code = (
        "from aaa.settings import load_settings; from aaa.radius.codec import Codec; "
        "s = load_settings(None); print(s.radius.dictionary); Codec(s.radius.dictionary)"
    )
    found = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={"PYTHONPATH": str(unpacked), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == str(unpacked / "aaa" / "dictionaries" / "dictionary")


def _port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_installed_wheel_answers_radtest_from_a_clean_venv(wheel: Path, tmp_path: Path) -> None:
    """pip install of the wheel alone (its dependencies from the package index), then the
    quick start from another directory: migrate, register, serve, radtest."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    installed = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", str(wheel)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert installed.returncode == 0, installed.stderr[-2000:]
    aaa = str(venv / "bin" / "aaa")
    home = tmp_path / "elsewhere"
    home.mkdir()
    auth, acct = _port(socket.SOCK_DGRAM), _port(socket.SOCK_DGRAM)
    (home / "aaa.toml").write_text(
        f'database_url = "sqlite:///{home / "aaa.db"}"\n'
        f"[radius]\nauth_port = {auth}\nacct_port = {acct}\nworkers = 1\n"
        f'[metrics]\nenabled = false\n[accounting]\nspool_dir = "{home / "spool"}"\n'
    )
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "AAA_CONFIG": str(home / "aaa.toml"), "HOME": str(home)}

    def run(*args: str) -> str:
        done = subprocess.run([aaa, *args], cwd=home, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout

    run("db", "upgrade")
    run("nas", "add", "--name", "bras1", "--address", "127.0.0.1", "--secret", SECRET)
    run("plan", "add", "--name", "Fibra 100M", "--download", "100000", "--upload", "50000")
    run("service", "add", "--login", "maria", "--password", "maria-pass", "--plan", "Fibra 100M")
    server = subprocess.Popen(
        [aaa, "radius"], cwd=home, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:

        def radtest() -> str | None:
            out = subprocess.run(
                ["radtest", "maria", "maria-pass", f"127.0.0.1:{auth}", "0", SECRET],
                capture_output=True,
                text=True,
                timeout=30,
            ).stdout
            return out if "Access-Accept" in out else None

        reply = wait_for(radtest, timeout=60, interval=0.5)
        assert reply is not None, server.stdout.read1(100_000) if server.stdout else ""  # type: ignore[union-attr]
        assert 'Mikrotik-Rate-Limit = "50M/100M"' in reply
    finally:
        server.terminate()
        server.wait(30)


def test_the_container_files_agree_with_the_settings_and_the_compose_spec(tmp_path: Path) -> None:
    """No Docker engine runs here: compose.yaml is checked against the Compose Specification's
    JSON schema, and the Dockerfile's settings against the settings model. Where an engine
    runs, the image is built too."""
    checked = subprocess.run(
        [
            str(Path(sys.executable).parent / "check-jsonschema"),
            "--builtin-schema",
            "vendor.compose-spec",
            str(ROOT / "compose.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "aaa"}
    assert all("healthcheck" in service for service in services.values())
    assert services["aaa"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    assert {"1812:1812/udp", "1813:1813/udp"} <= set(services["aaa"]["ports"])
    # The image's and the compose file's environment is a valid configuration.
    dockerfile = (ROOT / "Dockerfile").read_text()
    env = dict(
        pair.split("=", 1)
        for line in dockerfile.replace("\\\n", " ").splitlines()
        if line.startswith("ENV AAA_")
        for pair in line.removeprefix("ENV ").split()
    )
    env |= services["aaa"]["environment"]
    saved = dict(os.environ)
    try:
        os.environ.update(env)
        settings = load_settings(None)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert settings.radius.bind == "0.0.0.0" and settings.database_url.startswith("postgresql+psycopg://aaa:")
    assert settings.redis_url == "redis://redis:6379/0"
    for line in dockerfile.splitlines():  # every file it copies exists
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), source
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"]["text"] == "AGPL-3.0-or-later"
    assert "GNU AFFERO GENERAL PUBLIC LICENSE" in (ROOT / "LICENSE").read_text()[:200]
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "info"], capture_output=True, timeout=30).returncode == 0:
        built = subprocess.run(
            [docker, "build", "-q", "-t", "isp-aaa:test", str(ROOT)],
            capture_output=True,
            text=True,
            timeout=1800,
        )
        assert built.returncode == 0, built.stderr[-2000:]
