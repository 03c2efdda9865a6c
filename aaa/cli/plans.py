"""`aaa plan ...`: speed plans."""

from __future__ import annotations

import argparse
from decimal import Decimal
from typing import Any

from aaa.cli.common import Command, decimal_arg, settings_of, table, transaction


def cmd_plan_add(args: argparse.Namespace) -> int:
    from aaa.subscribers.plans import add_plan

    with transaction(settings_of(args)) as session:
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
    command("list", cmd_plan_list, "list plans", plan)
