"""Readable process titles (``aaa: radius worker 1``, ``aaa: enforcer``, ``aaa: api``), so that
ps, top and systemd show which process of a node is which."""

from __future__ import annotations

import setproctitle


def set_title(role: str) -> None:
    setproctitle.setproctitle(f"aaa: {role}")
