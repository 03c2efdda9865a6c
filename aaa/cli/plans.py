"""`aaa plan ...`: speed plans."""

from __future__ import annotations

import argparse
from decimal import Decimal
from typing import Any

from aaa.cli.common import (
    Command,
    checked_reply_attributes,
    decimal_arg,
    reply_attribute_arg,
    settings_of,
    table,
    transaction,
)


def cmd_plan_add(args: argparse.Namespace) -> int:
    from aaa.subscribers.plans import add_plan

    settings = settings_of(args)
    replies = checked_reply_attributes(settings, args.reply_attribute or [])
    with transaction(settings) as session:
        plan = add_plan(
            session,
            name=args.name,
            download_kbps=args.download,
            upload_kbps=args.upload,
            price=args.price,
            burst_download_kbps=args.burst_download,
            burst_upload_kbps=args.burst_upload,
            burst_time_s=args.burst_time,
            reply_attributes=replies,
        )
        print(
            f"plan {plan.id} {plan.name}: {plan.download_kbps}/{plan.upload_kbps} kbit/s, price {plan.price}"
        )
    return 0


def cmd_plan_set(args: argparse.Namespace) -> int:
    from aaa.errors import DomainError
    from aaa.subscribers.plans import get_plan, update_plan

    settings = settings_of(args)
    changes: dict[str, Any] = {}
    if args.reply_attribute or args.clear_reply_attributes:
        changes["reply_attributes"] = checked_reply_attributes(settings, args.reply_attribute or [])
    for field in ("download", "upload", "price"):
        if getattr(args, field) is not None:
            changes[field if field == "price" else f"{field}_kbps"] = getattr(args, field)
    if not changes:
        raise DomainError("nothing to change: give --download, --upload, --price or --reply-attribute")
    with transaction(settings) as session:
        plan = update_plan(session, get_plan(session, args.plan), **changes)
        print(f"plan {plan.id} {plan.name} updated: {', '.join(sorted(changes))}")
    return 0


def cmd_plan_list(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from aaa.tables.subscribers import Plan

    with transaction(settings_of(args)) as session:
        rows = [
            (p.id, p.name, p.download_kbps, p.upload_kbps, p.price) for p in session.scalars(select(Plan))
        ]
    table(("id", "name", "download_kbps", "upload_kbps", "price"), rows)
    return 0


def register(sub: Any, command: Command) -> None:
    plan = sub.add_parser("plan", help="speed plans").add_subparsers(dest="plan_command", required=True)
    p = command("add", cmd_plan_add, "create a plan", plan)
    p.add_argument("--name", required=True)
    p.add_argument("--download", type=int, required=True, help="kbit/s")
    p.add_argument("--upload", type=int, required=True, help="kbit/s")
    p.add_argument("--price", type=decimal_arg, default=Decimal("0.00"))
    p.add_argument("--burst-download", type=int)
    p.add_argument("--burst-upload", type=int)
    p.add_argument("--burst-time", type=int)
    p.add_argument("--reply-attribute", type=reply_attribute_arg, action="append", help=REPLY_HELP)
    p = command("set", cmd_plan_set, "change a plan; online subscribers on it follow", plan)
    p.add_argument("plan", help="plan name or id")
    p.add_argument("--download", type=int, help="kbit/s")
    p.add_argument("--upload", type=int, help="kbit/s")
    p.add_argument("--price", type=decimal_arg)
    p.add_argument("--reply-attribute", type=reply_attribute_arg, action="append", help=REPLY_HELP)
    p.add_argument("--clear-reply-attributes", action="store_true")
    command("list", cmd_plan_list, "list plans", plan)


REPLY_HELP = (
    "'Attribute op value' added to every Access-Accept, e.g. 'Session-Timeout := 86400' "
    "(repeat; replaces the list)"
)
