"""`aaa db`, `serve`, `radius`, `api`, `enforcer`, `reconcile`: the schema and the servers."""

from __future__ import annotations

import argparse
from typing import Any

from aaa.cli.common import Command, require_current_schema, require_existing_database, settings_of
from aaa.logs import mask_credentials


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from aaa.db.migrate import upgrade

    settings = settings_of(args)
    upgrade(settings.database_url)
    print(f"database {mask_credentials(settings.database_url)} is at the newest migration")
    return 0


def cmd_db_downgrade(args: argparse.Namespace) -> int:
    from aaa.db.migrate import downgrade

    settings = settings_of(args)
    require_existing_database(settings)
    downgrade(settings.database_url, args.revision)
    print(f"database {mask_credentials(settings.database_url)} is at migration {args.revision}")
    return 0


def cmd_radius(args: argparse.Namespace) -> int:
    from aaa.composition import setup_logging
    from aaa.node import supervisor
    from aaa.node.titles import set_title

    settings = settings_of(args)
    setup_logging(settings)
    require_current_schema(settings)
    set_title(f"supervisor ({args.command})")
    return supervisor.run(settings, with_api=args.command == "serve", reload=lambda: settings_of(args))


def cmd_api(args: argparse.Namespace) -> int:
    from aaa.node.titles import set_title
    from admin_api.app import serve

    settings = settings_of(args)
    require_current_schema(settings)
    set_title("api")
    serve(settings)
    return 0


def cmd_enforcer(args: argparse.Namespace) -> int:
    from aaa.composition import setup_logging
    from aaa.node.processes import enforcer_main

    settings = settings_of(args)
    setup_logging(settings)
    require_current_schema(settings)
    enforcer_main(settings.model_dump(), supervised=False)
    return 0


def cmd_reconcile(args: argparse.Namespace) -> int:
    from aaa.composition import build
    from aaa.db.base import utcnow
    from aaa.enforcement.reconcile import reconcile

    settings = settings_of(args)
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


def register(sub: Any, command: Command) -> None:
    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db_command", required=True)
    command("upgrade", cmd_db_upgrade, "apply every migration (PostgreSQL or SQLite)", db)
    p = command("downgrade", cmd_db_downgrade, "undo migrations down to REVISION (e.g. 0012)", db)
    p.add_argument("revision")
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
