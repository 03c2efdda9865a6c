"""The auth log's COPY lines: the one-step line of AuthRecorder.log is the fully escaped line
whenever it is taken, and every value holding COPY's own syntax takes the escaped one.
(tests/integration/test_server.py sends such values through a real COPY.)"""

from __future__ import annotations

import itertools
import re
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from aaa.radius.authlog import AuthRecorder, copy_line

ODD = ["", "plain", "joão → ç", "tab\there", "new\nline", "cr\rhere", "back\\slash", "\\N", "x\\N", "\\."]


def _recorder() -> AuthRecorder:
    # A PostgreSQL engine is never connected to until it is used: this one never is.
    engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    return AuthRecorder(sessionmaker(bind=engine), interval=1.0)


def _fields(line: str) -> list[str]:
    assert line.endswith("\n") and line.count("\n") == 1
    return line[:-1].split("\t")


def test_every_line_is_the_escaped_line_and_has_twelve_fields() -> None:
    recorder = _recorder()
    cases = []
    for login, mac, port, reason in itertools.product(ODD, [None, *ODD[:4]], [None, *ODD], ODD[:5]):
        values: dict[str, Any] = {
            "nas_id": 7,
            "login": login,
            "service_id": None if mac is None else 42,
            "method": "pap",
            "mac": mac,
            "nas_port_id": port,
            "result": "accept",
            "reason": reason,
            "mac_differs": port is None,
            "interface_differs": True,
            "granted": None if port is None else '{"plan": "Fibra \\u00e7"}',
        }
        cases.append(values)
        recorder.log(**values)
    lines = recorder._rows
    assert len(lines) == len(cases)
    for line, values in zip(lines, cases, strict=True):
        assert isinstance(line, str)
        stamp = _fields(line)[0]
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\+00", stamp)
        assert line == copy_line(stamp, values)
        assert len(_fields(line)) == 12


def test_escaped_values_read_back_as_sent() -> None:
    """COPY text's reading of a field: \\N alone is NULL, a backslash escapes what follows."""
    unescape = {"\\\\": "\\", "\\t": "\t", "\\n": "\n", "\\r": "\r"}

    def read(field: str) -> str | None:
        return None if field == "\\N" else re.sub(r"\\[\\tnr]", lambda m: unescape[m.group()], field)

    recorder = _recorder()
    for value in ODD:
        recorder.log(
            nas_id=1,
            login=value,
            service_id=None,
            method="chap",
            mac=None,
            nas_port_id=value,
            result="reject",
            reason=value,
            mac_differs=False,
            interface_differs=False,
            granted=None,
        )
    for value, line in zip(ODD, recorder._rows, strict=True):
        assert isinstance(line, str)
        fields = _fields(line)
        assert [read(fields[i]) for i in (2, 3, 5, 6, 8, 11)] == [value, None, None, value, value, None]
        assert fields[9:11] == ["f", "f"]
