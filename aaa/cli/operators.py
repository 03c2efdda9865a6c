"""`aaa operator ...`: operators of the admin API."""

from __future__ import annotations

import argparse
import getpass
from typing import Any

from aaa.cli.common import Command, settings_of, transaction


def cmd_operator_add(args: argparse.Namespace) -> int:
    from aaa.operators.service import add_operator

    password = args.password or getpass.getpass(f"password for operator {args.login}: ")
    with transaction(settings_of(args)) as session:
        operator = add_operator(
            session,
            login=args.login,
            name=args.name or args.login,
            password=password,
            superuser=args.superuser,
            permissions=args.permission or [],
        )
        print(f"operator {operator.id} {operator.login}" + (" (superuser)" if operator.superuser else ""))
    return 0


def register(sub: Any, command: Command) -> None:
    op = sub.add_parser("operator", help="operators of the admin API").add_subparsers(
        dest="operator_command", required=True
    )
    p = command("add", cmd_operator_add, "create an operator (the first one: --superuser)", op)
    p.add_argument("login")
    p.add_argument("--name")
    p.add_argument("--password", help="asked for when omitted")
    p.add_argument("--superuser", action="store_true", help="every permission, present and future")
    p.add_argument("--permission", action="append", help="a permission to grant (repeatable)")
