"""`aaa sessions`, `aaa kick` and `aaa authlog`: who is online, the connection history, the
kick button and the authentication log, with the API's filters (aaa.connections)."""

from __future__ import annotations

import argparse
from typing import Any

from aaa.cli.common import Command, settings_of, table, transaction


def nas_id_of(session: Any, name: str | None) -> int | None:
    from sqlalchemy import select

    from aaa.errors import NotFound
    from aaa.tables.nas import Nas

    if name is None:
        return None
    found = session.scalar(select(Nas.id).where(Nas.name == name))
    if found is None:
        raise NotFound(f"no NAS named {name!r} (aaa nas list)")
    return int(found)


def cmd_sessions(args: argparse.Namespace) -> int:
    from aaa.connections import SessionFilter, find_sessions
    from aaa.subscribers.customers import EVERYWHERE

    with transaction(settings_of(args)) as session:
        wanted = SessionFilter(
            online=True if args.online else None,
            login=args.login,
            nas_id=nas_id_of(session, args.nas),
            ip=args.ip,
            ipv6_prefix=args.ipv6_prefix,
            mac=args.mac,
        )
        found, total = find_sessions(session, EVERYWHERE, wanted, limit=args.limit, offset=0)
        rows = [
            (
                s.id,
                s.login,
                s.nas_id,
                s.acct_session_id,
                f"~{s.start_time}" if s.start_estimated else s.start_time,  # no Start arrived
                s.stop_time or "online",
                s.session_time,
                s.input_octets,
                s.output_octets,
                s.framed_ip or "",
                s.delegated_ipv6_prefix or s.framed_ipv6_prefix or "",
                s.calling_station_id or "",
                s.terminate_cause or "",
            )
            for s in found
        ]
    table(
        (
            "id",
            "login",
            "nas",
            "session",
            "start",
            "stop",
            "seconds",
            "upload_octets",
            "download_octets",
            "ip",
            "ipv6",
            "mac",
            "cause",
        ),
        rows,
    )
    if total > len(rows):
        print(f"({len(rows)} of {total}; --limit to see more)")
    return 0


def cmd_kick(args: argparse.Namespace) -> int:
    from aaa.enforcement.kick import kick_service
    from aaa.subscribers.service import get_service

    with transaction(settings_of(args)) as session:
        service = get_service(session, args.login)
        kick, count = kick_service(session, service, args.reason)
        print(
            f"disconnecting {count} session(s) of {args.login} (outbox row {kick.id}); "
            f"the enforcer sends the Disconnect-Request: see `aaa sessions {args.login} --online`"
        )
    return 0


def cmd_authlog(args: argparse.Namespace) -> int:
    from aaa.connections import AuthFilter, find_auth_log
    from aaa.policies.decision import RejectReason
    from aaa.subscribers.customers import EVERYWHERE
    from aaa.tables.accounting import AuthResult

    with transaction(settings_of(args)) as session:
        wanted = AuthFilter(
            login=args.login,
            nas_id=nas_id_of(session, args.nas),
            result=AuthResult(args.result) if args.result else None,
            reason=RejectReason(args.reason) if args.reason else None,
            mac=args.mac,
        )
        found, _ = find_auth_log(session, EVERYWHERE, wanted, limit=args.limit, offset=0)
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
            for r in found
        ]
    table(("time", "login", "method", "result", "mac", "interface", "", "", "reason"), rows)
    return 0


def register(sub: Any, command: Command) -> None:
    from aaa.policies.decision import RejectReason
    from aaa.tables.accounting import AuthResult

    p = command("sessions", cmd_sessions, "sessions: who is online (--online) and the history, newest first")
    p.add_argument("login", nargs="?")
    p.add_argument("--online", action="store_true", help="open sessions only")
    p.add_argument("--nas", help="NAS name")
    p.add_argument("--ip", help="Framed-IP-Address")
    p.add_argument("--ipv6-prefix", help="Framed-IPv6-Prefix or Delegated-IPv6-Prefix")
    p.add_argument("--mac", help="the CPE's MAC, any spelling")
    p.add_argument("--limit", type=int, default=50)
    p = command("kick", cmd_kick, "disconnect every open session of a login (derrubar conexão)")
    p.add_argument("login")
    p.add_argument("--reason", default="", help="kept in the service's history")
    p = command("authlog", cmd_authlog, "authentication log (newest first)")
    p.add_argument("login", nargs="?")
    p.add_argument("--nas", help="NAS name")
    p.add_argument("--result", choices=[r.value for r in AuthResult])
    p.add_argument("--reason", choices=[r.value for r in RejectReason], help="rejects for this reason")
    p.add_argument("--mac", help="the CPE's MAC, any spelling")
    p.add_argument("--limit", type=int, default=50)
