"""`aaa demo`: a demo ISP, so a fresh install answers `radtest` at once."""

from __future__ import annotations

import argparse
from typing import Any

from aaa.cli.common import Command, settings_of, transaction


def cmd_demo(args: argparse.Namespace) -> int:
    from aaa.cli.demo import create_demo
    from aaa.db.migrate import upgrade

    settings = settings_of(args)
    upgrade(settings.database_url)
    with transaction(settings) as session:
        lines = create_demo(session, settings)
    print("\n".join(lines))
    return 0


def register(sub: Any, command: Command) -> None:
    command("demo", cmd_demo, "create a demo ISP (NAS 127.0.0.1, plans, subscribers) and print radtest lines")
