"""`aaa sessions` and `aaa authlog`: connection history and the authentication log."""

from __future__ import annotations

import argparse
from typing import Any

from aaa.cli.common import Command, settings_of, table, transaction


def cmd_sessions(args: argparse.Namespace) -> int:
    from aaa.accounting.store import history

    with transaction(settings_of(args)) as session:
        rows = [
            (
                s.acct_session_id,
                f"~{s.start_time}" if s.start_estimated else s.start_time,  # no Start arrived
                s.stop_time or "online",
                s.session_time,
                s.input_octets,
                s.output_octets,
                s.framed_ip or "",
                s.calling_station_id or "",
                s.terminate_cause or "",
            )
            for s in history(session, args.login, args.limit)
        ]
    table(
        ("session", "start", "stop", "seconds", "upload_octets", "download_octets", "ip", "mac", "cause"),
        rows,
    )
    return 0


def cmd_authlog(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from aaa.tables.accounting import AuthLog

    with transaction(settings_of(args)) as session:
        query = select(AuthLog).order_by(AuthLog.id.desc()).limit(args.limit)
        if args.login:
            query = query.where(AuthLog.login == args.login)
        rows = [
            (
                r.time,
                r.login,
                r.method,
                r.result.value,
                r.mac or "",
                r.nas_port_id or "",
                "MAC!" if r.mac_differs else "",
                "IF!" if r.interface_differs else "",
                r.reason,
            )
            for r in session.scalars(query)
        ]
    table(("time", "login", "method", "result", "mac", "interface", "", "", "reason"), rows)
    return 0


def register(sub: Any, command: Command) -> None:
    p = command("sessions", cmd_sessions, "connection history of a login (newest first)")
    p.add_argument("login")
    p.add_argument("--limit", type=int, default=50)
    p = command("authlog", cmd_authlog, "authentication log (newest first)")
    p.add_argument("login", nargs="?")
    p.add_argument("--limit", type=int, default=50)
