"""The wheel carries what the server reads at run time (dictionaries, migrations), so a
`pip install .` (not editable) serves RADIUS from any directory."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_ships_the_dictionaries_and_the_migrations(tmp_path: Path) -> None:
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
    wheel = next(tmp_path.glob("isp_aaa-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "aaa/dictionaries/dictionary",
        "aaa/dictionaries/dictionary.rfc",
        "aaa/dictionaries/dictionary.mikrotik",
        "aaa/dictionaries/dictionary.microsoft",
        "aaa/migrations/env.py",
        "aaa/migrations/script.py.mako",
        "aaa/cli/__main__.py",
    ):
        assert needed in names, needed
    assert any(n.startswith("aaa/migrations/versions/0010_") for n in names)

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
