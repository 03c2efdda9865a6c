"""The `aaa` command: database, servers, and enough management to try it before the admin API."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from aaa.errors import DomainError
from aaa.logs import mask_credentials
from aaa.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(args.config)


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    """One transaction, audited as the local user running the command."""
    from aaa.audit.recorder import Actor, act_as
    from aaa.composition import build

    with build(settings).factory.begin() as session:
        act_as(session, Actor(f"cli:{getpass.getuser()}", "local"))
        yield session


def _require_current_schema(settings: Settings) -> None:
    from aaa.db.engine import make_engine
    from aaa.db.schema import is_current

    engine = make_engine(settings.database_url)
    try:
        current = is_current(engine)
    finally:
        engine.dispose()
    if not current:
        raise SettingsError(
            f"the database {engine.url!r} is not at the newest migration: run `aaa db upgrade`"
        )


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from aaa.db.schema import upgrade

    settings = _settings(args)
    upgrade(settings.database_url)
    print(f"database {mask_credentials(settings.database_url)} is at the newest migration")
    return 0


def cmd_radius(args: argparse.Namespace) -> int:
    from aaa.composition import setup_logging
    from aaa.radius import supervisor

    settings = _settings(args)
    setup_logging(settings)
    _require_current_schema(settings)
    return supervisor.run(settings, with_api=args.command == "serve", reload=lambda: _settings(args))


def cmd_api(args: argparse.Namespace) -> int:
    from admin_api.app import serve

    settings = _settings(args)
    _require_current_schema(settings)
    serve(settings)
    return 0


def cmd_enforcer(args: argparse.Namespace) -> int:
    from aaa.composition import setup_logging
    from aaa.radius.supervisor import enforcer_main

    settings = _settings(args)
    setup_logging(settings)
    _require_current_schema(settings)
    enforcer_main(settings.model_dump())
    return 0


def cmd_reconcile(args: argparse.Namespace) -> int:
    from aaa.composition import build
    from aaa.db.base import utcnow
    from aaa.enforcement.reconcile import reconcile

    settings = _settings(args)
    components = build(settings)
    try:
        reports = reconcile(components.factory, settings, utcnow(), args.nas)
    finally:
        components.close()
    for r in reports:
        print(f"{r.nas} ({r.source}){': ' + r.error if r.error else ''}")
        for label, items in (
            ("closed", r.closed),
            ("unknown to the database", r.unknown),
            ("re-applied", r.reapplied),
        ):
            print(f"  {label}: {', '.join(map(str, items)) or 'none'}")
    return 0


def cmd_operator_add(args: argparse.Namespace) -> int:
    from aaa.operators.service import add_operator

    password = args.password or getpass.getpass(f"password for operator {args.login}: ")
    with _session(_settings(args)) as session:
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


def cmd_nas_add(args: argparse.Namespace) -> int:
    from aaa.nas.models import MaMode, VendorProfile
    from aaa.nas.recipes import recipe
    from aaa.nas.service import add_nas

    settings = _settings(args)
    with _session(settings) as session:
        nas = add_nas(
            session,
            name=args.name,
            address=args.address,
            secret=args.secret,
            vendor=VendorProfile(args.vendor),
            coa_port=args.coa_port,
            require_message_authenticator=MaMode(args.require_message_authenticator),
            swap_octets=args.swap_octets,
            interim_interval=args.interim_interval,
            api_port=args.api_port,
            api_username=args.api_username,
            api_password=args.api_password,
            api_tls=args.api_tls,
            api_tls_verify=args.api_tls_verify,
            allow_wide_prefix=args.allow_wide_prefix,
            allow_short_secret=args.allow_short_secret,
        )
        print(
            f"NAS {nas.id} {nas.name} at {nas.address} ({nas.vendor.value}, CoA port {nas.coa_port}, "
            f"require Message-Authenticator: {nas.require_message_authenticator.value})"
        )
        r = settings.radius
        lines = recipe(
            nas.vendor,
            server=r.bind,
            auth_port=r.auth_port,
            acct_port=r.acct_port,
            secret=nas.secret,
            coa_port=nas.coa_port,
            interim_seconds=nas.interim_interval or r.acct_interim_interval,
        )
        print("\n".join(["", *lines]))
    return 0


def cmd_nas_list(args: argparse.Namespace) -> int:
    from aaa.nas.service import list_nas

    with _session(_settings(args)) as session:
        rows = [
            (
                n.id,
                n.name,
                n.address,
                n.vendor.value,
                n.coa_port,
                n.require_message_authenticator.value,
                "yes" if n.swap_octets else "no",
                "SHORT, rotate it" if n.allow_short_secret else "ok",
                "api-ssl" if n.api_tls else ("api (clear text)" if n.api_username else "-"),
            )
            for n in list_nas(session)
        ]
    _table(
        ("id", "name", "address", "vendor", "coa_port", "require_ma", "swap_octets", "secret", "routeros"),
        rows,
    )
    return 0


def cmd_plan_add(args: argparse.Namespace) -> int:
    from aaa.subscribers.plans import add_plan

    with _session(_settings(args)) as session:
        plan = add_plan(
            session,
            name=args.name,
            download_kbps=args.download,
            upload_kbps=args.upload,
            price=args.price,
            burst_download_kbps=args.burst_download,
            burst_upload_kbps=args.burst_upload,
            burst_time_s=args.burst_time,
        )
        print(
            f"plan {plan.id} {plan.name}: {plan.download_kbps}/{plan.upload_kbps} kbit/s, price {plan.price}"
        )
    return 0


def cmd_plan_list(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from aaa.subscribers.models import Plan

    with _session(_settings(args)) as session:
        rows = [
            (p.id, p.name, p.download_kbps, p.upload_kbps, p.price) for p in session.scalars(select(Plan))
        ]
    _table(("id", "name", "download_kbps", "upload_kbps", "price"), rows)
    return 0


def cmd_service_add(args: argparse.Namespace) -> int:
    from aaa.subscribers.customers import add_customer
    from aaa.subscribers.plans import get_plan
    from aaa.subscribers.service import add_service
    from aaa.subscribers.types import MacBinding, ServiceStatus

    with _session(_settings(args)) as session:
        customer = add_customer(session, name=args.customer or args.login)
        service = add_service(
            session,
            customer=customer,
            plan=get_plan(session, args.plan),
            login=args.login,
            password=args.password,
            status=ServiceStatus(args.status),
            simultaneous_use=args.simultaneous_use,
            mac_binding=MacBinding(args.mac_binding),
            mac=args.mac,
            fixed_ipv4=args.ip,
        )
        print(
            f"service {service.id} login {service.login} password {service.password} "
            f"plan {service.plan.name} status {service.status.value}" + (f" IP {args.ip}" if args.ip else "")
        )
    return 0


def cmd_service_set(args: argparse.Namespace) -> int:
    from aaa.subscribers.plans import get_plan
    from aaa.subscribers.service import change_status, get_service, update_service
    from aaa.subscribers.types import MacBinding, ServiceStatus

    changes: dict[str, Any] = {}
    with _session(_settings(args)) as session:
        service = get_service(session, args.login)
        if args.password is not None:
            changes["password"] = args.password
        if args.plan is not None:
            changes["plan"] = get_plan(session, args.plan)
        if args.mac_binding is not None:
            changes["mac_binding"] = MacBinding(args.mac_binding)
        if args.mac is not None:
            changes["mac"] = args.mac or None
        if args.simultaneous_use is not None:
            changes["simultaneous_use"] = args.simultaneous_use
        if not changes and args.status is None:
            raise DomainError(
                "nothing to change: give at least one of --password, --status, --plan, --mac, "
                "--mac-binding, --simultaneous-use"
            )
        if changes:
            update_service(session, service, **changes)
        if args.status is not None:
            change_status(session, service, ServiceStatus(args.status), reason=args.reason)
            changes["status"] = args.status
        print(f"service {service.id} login {args.login} updated: {', '.join(sorted(changes))}")
    return 0


def cmd_service_list(args: argparse.Namespace) -> int:
    from aaa.ipam.assignments import addresses_by_service
    from aaa.subscribers.service import list_services

    with _session(_settings(args)) as session:
        services = list_services(session)[0]
        held = addresses_by_service(session, [s.id for s in services])
        rows = [
            (
                s.id,
                s.login,
                s.plan.name,
                s.status.value,
                " ".join(held.get(s.id, ())),
                s.mac or "",
                s.mac_binding.value,
                s.simultaneous_use,
            )
            for s in services
        ]
    _table(("id", "login", "plan", "status", "ip", "mac", "mac_binding", "sim_use"), rows)
    return 0


def cmd_sessions(args: argparse.Namespace) -> int:
    from aaa.accounting.store import history

    with _session(_settings(args)) as session:
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
    _table(
        ("session", "start", "stop", "seconds", "upload_octets", "download_octets", "ip", "mac", "cause"),
        rows,
    )
    return 0


def cmd_authlog(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from aaa.accounting.models import AuthLog

    with _session(_settings(args)) as session:
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
    _table(("time", "login", "method", "result", "mac", "interface", "", "", "reason"), rows)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from aaa.db.schema import upgrade
    from aaa.demo import create_demo

    settings = _settings(args)
    upgrade(settings.database_url)
    with _session(settings) as session:
        lines = create_demo(session, settings)
    print("\n".join(lines))
    return 0


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [list(map(str, header))] + [[str(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a decimal amount (use 99.90)") from exc


def build_parser() -> argparse.ArgumentParser:
    from aaa.nas.models import MaMode, VendorProfile
    from aaa.subscribers.types import MacBinding, ServiceStatus

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

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db_command", required=True)
    command("upgrade", cmd_db_upgrade, "apply every migration (PostgreSQL or SQLite)", db)
    command("serve", cmd_radius, "run everything: RADIUS workers, admin API, housekeeping, /metrics")
    command("radius", cmd_radius, "run the RADIUS server (auth + accounting workers)")
    command("api", cmd_api, "run the admin HTTP API alone (docs at /api/v1/docs)")
    command(
        "enforcer", cmd_enforcer, "run the enforcer alone (outbox → CoA/Disconnect/RouterOS API; reconciler)"
    )
    p = command(
        "reconcile",
        cmd_reconcile,
        "compare each NAS's sessions with the database now and print what differed",
    )
    p.add_argument("--nas", type=int, help="only this NAS id")

    op = sub.add_parser("operator", help="operators of the admin API").add_subparsers(
        dest="operator_command", required=True
    )
    p = command("add", cmd_operator_add, "create an operator (the first one: --superuser)", op)
    p.add_argument("login")
    p.add_argument("--name")
    p.add_argument("--password", help="asked for when omitted")
    p.add_argument("--superuser", action="store_true", help="every permission, present and future")
    p.add_argument("--permission", action="append", help="a permission to grant (repeatable)")

    nas = sub.add_parser("nas", help="NAS registry").add_subparsers(dest="nas_command", required=True)
    p = command("add", cmd_nas_add, "register a NAS (concentrator)", nas)
    p.add_argument("--name", required=True)
    p.add_argument("--address", required=True, help="source IP of its RADIUS packets, or a CIDR")
    p.add_argument("--secret", required=True)
    p.add_argument("--vendor", default="mikrotik", choices=[v.value for v in VendorProfile])
    p.add_argument("--coa-port", type=int, help="default 3799 (RFC 5176; RouterOS: /radius incoming print)")
    p.add_argument("--require-message-authenticator", default="yes", choices=[m.value for m in MaMode])
    p.add_argument("--swap-octets", action="store_true", help="the NAS reports octets from the client's view")
    p.add_argument("--interim-interval", type=int, help="Acct-Interim-Interval sent to this NAS (seconds)")
    p.add_argument("--api-username", help="RouterOS API user (enforcement fallback, reconciler)")
    p.add_argument("--api-password")
    p.add_argument("--api-port", type=int, help="default 8729 with --api-tls, else 8728")
    p.add_argument(
        "--api-tls", action="store_true", help="RouterOS api-ssl: the API password is not sent in clear"
    )
    p.add_argument("--api-tls-verify", action="store_true", help="check the router's certificate")
    p.add_argument("--allow-wide-prefix", action="store_true", help="accept an address wider than /24 (/64)")
    p.add_argument("--allow-short-secret", action="store_true", help="accept a secret under 16 characters")
    command("list", cmd_nas_list, "list NASes", nas)

    plan = sub.add_parser("plan", help="speed plans").add_subparsers(dest="plan_command", required=True)
    p = command("add", cmd_plan_add, "create a plan", plan)
    p.add_argument("--name", required=True)
    p.add_argument("--download", type=int, required=True, help="kbit/s")
    p.add_argument("--upload", type=int, required=True, help="kbit/s")
    p.add_argument("--price", type=_decimal, default=Decimal("0.00"))
    p.add_argument("--burst-download", type=int)
    p.add_argument("--burst-upload", type=int)
    p.add_argument("--burst-time", type=int)
    command("list", cmd_plan_list, "list plans", plan)

    svc = sub.add_parser("service", help="subscriber services").add_subparsers(
        dest="service_command", required=True
    )
    p = command("add", cmd_service_add, "create a service (PPPoE login) for a new customer", svc)
    p.add_argument("--login", required=True)
    p.add_argument("--password", help="generated when omitted")
    p.add_argument("--plan", required=True, help="plan name or id")
    p.add_argument("--customer", help="customer name (default: the login)")
    p.add_argument("--status", default="enabled", choices=[s.value for s in ServiceStatus])
    p.add_argument("--ip", help="fixed IPv4 address")
    p.add_argument("--mac")
    p.add_argument("--mac-binding", default="off", choices=[m.value for m in MacBinding])
    p.add_argument("--simultaneous-use", type=int, default=1, help="0 = no limit")
    p = command("set", cmd_service_set, "change a service; online workers see it within a second", svc)
    p.add_argument("login")
    p.add_argument("--password")
    p.add_argument("--status", choices=[s.value for s in ServiceStatus])
    p.add_argument("--reason", default="changed from the command line", help="why (kept in the history)")
    p.add_argument("--plan")
    p.add_argument("--mac", help="registered MAC ('' clears it)")
    p.add_argument("--mac-binding", choices=[m.value for m in MacBinding])
    p.add_argument("--simultaneous-use", type=int)
    command("list", cmd_service_list, "list services", svc)

    from aaa.cli_ipam import register

    register(sub, command)

    p = command("sessions", cmd_sessions, "connection history of a login (newest first)")
    p.add_argument("login")
    p.add_argument("--limit", type=int, default=50)
    p = command("authlog", cmd_authlog, "authentication log (newest first)")
    p.add_argument("login", nargs="?")
    p.add_argument("--limit", type=int, default=50)
    command("demo", cmd_demo, "create a demo ISP (NAS 127.0.0.1, plans, subscribers) and print radtest lines")
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


if __name__ == "__main__":
    sys.exit(main())
