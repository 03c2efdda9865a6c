"""`aaa ipam ...`: folders, pools, subnets, next free, fixed assignment, reports and imports."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from aaa.cli.common import Command, settings_of, table, transaction
from aaa.db.base import utcnow
from aaa.errors import NotFound


def cmd_folder_add(args: argparse.Namespace) -> int:
    from aaa.ipam.subnets import add_folder

    with transaction(settings_of(args)) as session:
        folder = add_folder(session, args.name, args.description)
        print(f"folder {folder.id} {folder.name}")
    return 0


def cmd_pool_add(args: argparse.Namespace) -> int:
    from aaa.ipam.subnets import add_pool
    from aaa.vocabulary.ipam import PoolKind, PoolMode

    with transaction(settings_of(args)) as session:
        pool = add_pool(session, args.name, PoolKind(args.kind), PoolMode(args.mode), args.lease_seconds)
        print(f"pool {pool.id} {pool.name} {pool.kind.value} ({pool.mode.value} allocates)")
    return 0


def cmd_pool_attach(args: argparse.Namespace) -> int:
    """A plan or NAS uses the pool for its kind of address."""
    from sqlalchemy import select

    from aaa.ipam.subnets import POOL_FIELDS, by_name
    from aaa.nas.service import update_nas
    from aaa.subscribers.plans import get_plan, update_plan
    from aaa.tables.ipam import Pool
    from aaa.tables.nas import Nas

    with transaction(settings_of(args)) as session:
        pool = by_name(session, Pool, args.pool)
        field = next(name for name, kind in POOL_FIELDS.items() if kind is pool.kind)
        if args.plan:
            update_plan(session, get_plan(session, args.plan), **{field: pool.id})
        if args.nas:
            nas = session.scalar(select(Nas).where(Nas.name == args.nas))
            if nas is None:
                raise NotFound(f"no NAS named {args.nas!r}")
            update_nas(session, nas, **{field: pool.id})
        print(f"pool {pool.name} attached to {'plan ' + args.plan if args.plan else 'NAS ' + args.nas}")
    return 0


def cmd_subnet_add(args: argparse.Namespace) -> int:
    from aaa.ipam.subnets import add_subnet, by_name
    from aaa.tables.ipam import IpFolder, Pool
    from aaa.vocabulary.ipam import SubnetPurpose

    with transaction(settings_of(args)) as session:
        subnet = add_subnet(
            session,
            folder_id=by_name(session, IpFolder, args.folder).id,
            cidr=args.cidr,
            purpose=SubnetPurpose(args.purpose),
            unit_len=args.unit_len,
            pool_id=by_name(session, Pool, args.pool).id if args.pool else None,
            gateway=args.gateway,
            use_all=args.use_all,
            name=args.name,
            now=utcnow(),
        )
        print(f"subnet {subnet.id} {subnet.cidr} {subnet.purpose.value} in folder {subnet.folder.name}")
    return 0


def cmd_subnet_list(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from aaa.ipam.reports import subnet_usage
    from aaa.tables.ipam import Subnet

    with transaction(settings_of(args)) as session:
        subnets = list(session.scalars(select(Subnet).order_by(Subnet.folder_id, Subnet.id)))
        usage = subnet_usage(session, subnets)
        rows = [
            (
                s.folder.name,
                s.cidr,
                s.purpose.value,
                s.pool.name if s.pool else "",
                usage[s.id].used,
                usage[s.id].free,
                f"{usage[s.id].percent}%",
            )
            for s in subnets
        ]
    table(("folder", "subnet", "purpose", "pool", "used", "free", "used%"), rows)
    return 0


def cmd_next_free(args: argparse.Namespace) -> int:
    from aaa.ipam.allocator import next_free
    from aaa.ipam.subnets import subnet_by_cidr

    with transaction(settings_of(args)) as session:
        print(next_free(session, subnet_by_cidr(session, args.cidr), args.length))
    return 0


def cmd_assign(args: argparse.Namespace) -> int:
    from aaa.ipam.assignments import assign_fixed
    from aaa.ipam.subnets import subnet_by_cidr
    from aaa.subscribers.service import get_service

    with transaction(settings_of(args)) as session:
        service = get_service(session, args.login)
        row = assign_fixed(
            session,
            service,
            subnet_id=subnet_by_cidr(session, args.subnet).id if args.subnet else None,
            address=args.ip,
            length=args.length,
            now=utcnow(),
        )
        print(f"{args.login}: {row.address} (fixed, assignment {row.id})")
    return 0


def cmd_who(args: argparse.Namespace) -> int:
    from aaa.ipam.allocator import conflict
    from aaa.ipam.assignments import history_of, holder_of

    with transaction(settings_of(args)) as session:
        holder = holder_of(session, args.address)
        subnet, history = history_of(session, args.address, args.limit)
        print(
            f"{subnet.cidr}: "
            + (conflict(session, args.address, holder) if holder else f"{args.address} is free")
        )
        rows = [
            (
                r.assigned_at.isoformat(timespec="seconds"),
                r.kind.value,
                r.service_id or "",
                r.address,
                r.released_at.isoformat(timespec="seconds") if r.released_at else "",
                r.release_reason.value if r.release_reason else "",
            )
            for r in history
        ]
    table(("from", "kind", "service", "block", "until", "why"), rows)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from aaa.ipam.importer import import_fixed, read_csv, read_radreply

    rows = (
        read_csv(Path(args.source).read_text())
        if args.format == "csv"
        else read_radreply(args.source, args.table)
    )
    with transaction(settings_of(args)) as session:
        report = import_fixed(session, rows, utcnow())
        for line, login, address, reason in report.conflicts:
            print(f"conflict (row {line}) {login} {address}: {reason}")
        print(
            f"{'would import' if args.dry_run else 'imported'} {len(report.imported)}, "
            f"already there {len(report.unchanged)}, conflicts {len(report.conflicts)}"
        )
        if args.dry_run:
            session.rollback()
    return 0


def register(sub: Any, command: Command) -> None:
    from aaa.vocabulary.ipam import PoolKind, PoolMode, SubnetPurpose

    ipam = sub.add_parser("ipam", help="IP folders, pools, subnets and assignments").add_subparsers(
        dest="ipam_command", required=True
    )
    folder = ipam.add_parser("folder", help="folders (pastas)").add_subparsers(
        dest="folder_command", required=True
    )
    p = command("add", cmd_folder_add, "create a folder", folder)
    p.add_argument("name")
    p.add_argument("--description", default="")

    pool = ipam.add_parser("pool", help="address pools").add_subparsers(dest="pool_command", required=True)
    p = command("add", cmd_pool_add, "create a pool", pool)
    p.add_argument("name", help="also the pool's name on the NAS (nas mode)")
    p.add_argument("--kind", required=True, choices=[k.value for k in PoolKind])
    p.add_argument("--mode", default="nas", choices=[m.value for m in PoolMode])
    p.add_argument(
        "--lease-seconds", type=int, default=300, help="how long an unclaimed server lease is held"
    )
    p = command("attach", cmd_pool_attach, "make a plan or a NAS use the pool", pool)
    p.add_argument("pool")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--plan")
    target.add_argument("--nas")

    subnet = ipam.add_parser("subnet", help="subnets (subredes)").add_subparsers(
        dest="subnet_command", required=True
    )
    p = command("add", cmd_subnet_add, "add a subnet to a folder", subnet)
    p.add_argument("cidr")
    p.add_argument("--folder", required=True)
    p.add_argument("--purpose", required=True, choices=[x.value for x in SubnetPurpose])
    p.add_argument("--pool", help="the pool it belongs to (dynamic, blocked, delegation)")
    p.add_argument("--gateway")
    p.add_argument("--unit-len", type=int, help="IPv6: prefix length per holder (default 64, delegation 56)")
    p.add_argument("--use-all", action="store_true", help="hand out network/broadcast too")
    p.add_argument("--name", default="")
    command("list", cmd_subnet_list, "subnets with their utilization", subnet)

    p = command("next-free", cmd_next_free, "the lowest free address (or block) of a subnet", ipam)
    p.add_argument("cidr")
    p.add_argument("--length", type=int, help="a block, e.g. 29")
    p = command("assign", cmd_assign, "give a service a fixed address", ipam)
    p.add_argument("login")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--subnet", help="take this subnet's next free address")
    where.add_argument("--ip", help="this address")
    p.add_argument("--length", type=int, help="a routed block, e.g. 29")
    p = command("who", cmd_who, "who holds an address, and its history", ipam)
    p.add_argument("address")
    p.add_argument("--limit", type=int, default=20)
    p = command("import", cmd_import, "import fixed IPs; conflicts are reported, never overwritten", ipam)
    p.add_argument("format", choices=["csv", "radreply"])
    p.add_argument("source", help="CSV file (login,address), or the FreeRADIUS database URL")
    p.add_argument("--table", default="radreply")
    p.add_argument("--dry-run", action="store_true")
