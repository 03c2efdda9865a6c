"""The `aaa` command: database, servers, and enough management to try it before the admin API.
One module per command group, each with a ``register``; this module only assembles them."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import version
from typing import Any

from sqlalchemy.exc import OperationalError, SQLAlchemyError

from aaa.cli import (
    compare,
    demo_command,
    finance,
    imports,
    ipam,
    logs,
    nas,
    operators,
    plans,
    servers,
    services,
    trace,
)
from aaa.errors import DomainError
from aaa.settings import SettingsError

CONFIG_HELP = "TOML settings file (default: $AAA_CONFIG, else built-in defaults; AAA_* variables override)"
GROUPS = (
    servers,
    operators,
    nas,
    plans,
    services,
    ipam,
    imports,
    compare,
    finance,
    logs,
    trace,
    demo_command,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aaa", description="isp-aaa: RADIUS/AAA backend for ISPs")
    parser.add_argument("--config", "-c", help=CONFIG_HELP)
    parser.add_argument("--version", action="version", version=f"isp-aaa {version('isp-aaa')}")
    # The same option after the subcommand (`aaa service list --config FILE`).
    config_too = argparse.ArgumentParser(add_help=False)
    config_too.add_argument("--config", "-c", help=CONFIG_HELP, default=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True)

    def command(
        name: str, func: Callable[[argparse.Namespace], int], help: str, parent: Any = sub
    ) -> argparse.ArgumentParser:
        p = parent.add_parser(name, help=help, description=help, parents=[config_too])
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
    except SQLAlchemyError as exc:  # one line, never a traceback
        print(f"aaa: {database_problem(exc)}", file=sys.stderr)
        return 1


def database_problem(exc: SQLAlchemyError) -> str:
    """The database error as one line, with what to do about it."""
    first = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    if isinstance(exc, OperationalError) and "no such table" not in first:
        return f"the database cannot be reached: {first} (is it running? is database_url right?)"
    if "no such table" in first or "does not exist" in first:
        return f"the database is not set up: {first} (run `aaa db upgrade`)"
    return f"database error: {first}"
