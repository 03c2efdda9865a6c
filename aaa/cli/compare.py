"""`aaa compare`: the same Access-Requests to this server and to FreeRADIUS, and the differences."""

from __future__ import annotations

import argparse
import csv
from typing import Any

from aaa.cli.common import Command, settings_of, table


def _server(text: str, secret: str) -> Any:
    from aaa.radius.compare import Server

    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise SystemExit(f"aaa: {text!r} is not HOST:PORT")
    return Server(host, int(port), secret.encode())


def cmd_compare(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from aaa.cli.common import transaction
    from aaa.radius.codec import Codec
    from aaa.radius.compare import compare
    from aaa.tables.subscribers import Service

    settings = settings_of(args)
    ours = _server(args.ours or f"127.0.0.1:{settings.radius.auth_port}", args.secret)
    theirs = _server(args.freeradius, args.freeradius_secret or args.secret)
    if args.passwords:
        with open(args.passwords, newline="", encoding="utf-8") as source:
            cases = [(row["login"], row["password"]) for row in csv.DictReader(source)]
    else:  # the logins whose password this server knows in clear
        with transaction(settings) as session:
            query = select(Service.login, Service.password).where(
                Service.login.is_not(None), Service.password_scheme == "cleartext"
            )
            if args.login:
                query = query.where(Service.login.in_(args.login))
            cases = [(login, password) for login, password in session.execute(query.order_by(Service.id))]
    cases = cases[: args.sample]
    count, differences = compare(
        Codec(settings.radius.dictionary),
        ours,
        theirs,
        cases,
        args.method or ["pap"],
        nas_ip=args.nas_ip,
        timeout=args.timeout,
        ignore=args.ignore or (),
    )
    print(f"{count} request(s) compared, {len(differences)} difference(s)")
    if differences:
        table(
            ["login", "method", "differs in", "this server", "FreeRADIUS"],
            [[d.login, d.method, d.what, d.ours, d.theirs] for d in differences],
        )
    return 1 if differences else 0


def register(sub: Any, command: Command) -> None:
    p = command(
        "compare",
        cmd_compare,
        "send the same Access-Requests here and to FreeRADIUS and show what differs (cut-over check)",
    )
    p.add_argument("--freeradius", required=True, help="HOST:PORT of the FreeRADIUS being replaced")
    p.add_argument("--secret", required=True, help="the shared secret of this NAS address on this server")
    p.add_argument("--freeradius-secret", help="its secret on FreeRADIUS, if different")
    p.add_argument("--ours", help="HOST:PORT of this server (default 127.0.0.1 and radius.auth_port)")
    p.add_argument("--nas-ip", default="127.0.0.1", help="NAS-IP-Address to send (a NAS both servers know)")
    p.add_argument("--method", action="append", choices=["pap", "chap", "mschapv2"], help="default: pap")
    p.add_argument("--login", action="append", help="only these logins (repeatable)")
    p.add_argument("--sample", type=int, default=200, help="at most this many logins (default 200)")
    p.add_argument("--passwords", help="CSV login,password for logins this server knows only by hash")
    p.add_argument("--timeout", type=float, default=2.0)
    p.add_argument(
        "--ignore",
        action="append",
        help="leave this attribute out of the comparison (repeatable; see docs/cutover.md)",
    )
    p.set_defaults(method=None)
