"""`aaa service ...`: subscriber services (PPPoE logins)."""

from __future__ import annotations

import argparse
from typing import Any

from aaa.cli.common import (
    Command,
    checked_reply_attributes,
    reply_attribute_arg,
    settings_of,
    table,
    transaction,
)
from aaa.errors import DomainError


def cmd_service_add(args: argparse.Namespace) -> int:
    from aaa.subscribers.customers import add_customer
    from aaa.subscribers.plans import get_plan
    from aaa.subscribers.service import add_service
    from aaa.vocabulary.subscribers import MacBinding, ServiceStatus

    with transaction(settings_of(args)) as session:
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
    from aaa.subscribers.lifecycle import change_status
    from aaa.subscribers.plans import get_plan
    from aaa.subscribers.service import get_service, update_service
    from aaa.vocabulary.subscribers import MacBinding, ServiceStatus

    changes: dict[str, Any] = {}
    settings = settings_of(args)
    if args.reply_attribute or args.clear_reply_attributes:
        changes["reply_attributes"] = checked_reply_attributes(settings, args.reply_attribute or [])
    with transaction(settings) as session:
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
                "--mac-binding, --simultaneous-use, --reply-attribute"
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

    with transaction(settings_of(args)) as session:
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
    table(("id", "login", "plan", "status", "ip", "mac", "mac_binding", "sim_use"), rows)
    return 0


def register(sub: Any, command: Command) -> None:
    from aaa.vocabulary.subscribers import MacBinding, ServiceStatus

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
    p.add_argument(
        "--reply-attribute",
        type=reply_attribute_arg,
        action="append",
        help="'Attribute op value' for this login only, e.g. 'Filter-Id = vip' (repeat; replaces the list)",
    )
    p.add_argument("--clear-reply-attributes", action="store_true")
    command("list", cmd_service_list, "list services", svc)
