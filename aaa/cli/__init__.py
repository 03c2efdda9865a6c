"""The `aaa` command: database, servers, and enough management to try it before the admin API.
One module per command group, each with a ``register``; this module only assembles them."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from aaa.cli import demo_command, ipam, logs, nas, operators, plans, servers, services
from aaa.errors import DomainError
from aaa.settings import SettingsError

GROUPS = (servers, operators, nas, plans, services, ipam, logs, demo_command)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aaa", description="isp-aaa: RADIUS/AAA backend for ISPs")
    parser.add_argument(
        "--config",
        "-c",
        help="TOML settings file (default: $AAA_CONFIG, else built-in defaults; AAA_* variables override)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def command(
        name: str, func: Callable[[argparse.Namespace], int], help: str, parent: Any = sub
    ) -> argparse.ArgumentParser:
        p = parent.add_parser(name, help=help, description=help)
        p.set_defaults(func=func)
        return p

    for group in GROUPS:
        group.register(sub, command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except SettingsError as exc:
        print(f"aaa: configuration error: {exc}", file=sys.stderr)
        return 2
    except DomainError as exc:
        print(f"aaa: {exc}", file=sys.stderr)
        return 1
