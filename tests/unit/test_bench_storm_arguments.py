"""`python -m bench.storm --help` prints the help: it must not start a storm against the
benchmark database (it used to, as any unknown option did)."""

from __future__ import annotations

import pytest

from bench.storm import arguments


def test_help_stops_before_any_storm(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        arguments(["--help"])
    assert stopped.value.code == 0
    assert "--flap" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["--flapp"], ["--overlap", "--flap"]])
def test_an_unknown_or_contradictory_option_is_refused(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        arguments(argv)
    assert stopped.value.code == 2


def test_the_storms_are_chosen_by_flag() -> None:
    assert not arguments([]).flap and not arguments([]).overlap
    assert arguments(["--flap"]).flap
    assert arguments(["--overlap"]).overlap
