"""`aaa import ...`: bring an ISP's base in from FreeRADIUS SQL (and ERP CSV exports)."""

from __future__ import annotations

import argparse
import csv
import getpass
import sys
from pathlib import Path
from typing import Any

from aaa.cli.common import Command, settings_of, table


def _progress() -> tuple[Any, Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("{task.description:>10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=False,
        disable=not sys.stderr.isatty(),
    )
    tasks: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total or 1)
        bar.update(tasks[stage], completed=done if total else 1, total=total or 1)

    return bar, update


def _run(args: argparse.Namespace, kind: str, source: str, reader: Any) -> int:
    from aaa.cli.common import require_current_schema
    from aaa.composition import build
    from aaa.importers import runs

    settings = settings_of(args)
    require_current_schema(settings)
    components = build(settings)
    try:
        run_id = runs.begin(
            components.factory,
            kind=kind,
            source=source,
            dry_run=args.dry_run,
            actor=f"cli:{getpass.getuser()}",
            resume=args.resume,
        )
        bar, update = _progress()
        with bar:
            run = runs.execute(components.factory, run_id, reader, dry_run=args.dry_run, progress=update)
    finally:
        components.close()
    print(f"import {run.id} ({'dry run: nothing written' if run.dry_run else run.status}): {run.source}")
    actions = sorted({a for counts in run.counts.values() for a in counts})
    table(
        ["kind", *actions],
        [[kind_, *(run.counts[kind_].get(a, 0) for a in actions)] for kind_ in sorted(run.counts)],
    )
    problems = [r for r in run.rows if r["action"] in ("error", "conflict")]
    if problems:
        print(f"\n{len(problems)} row(s) not imported:")
        table(
            ["kind", "key", "action", "reason"],
            [[r["kind"], r["key"], r["action"], r["reason"]] for r in problems[:50]],
        )
        if len(problems) > 50:
            print(f"... and {len(problems) - 50} more (--report FILE writes them all)")
    if args.report:
        with open(args.report, "w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, fieldnames=["kind", "key", "action", "reason"])
            writer.writeheader()
            writer.writerows(run.rows)
        print(f"every row not simply created: {args.report}")
    return 0 if run.status == "done" else 1


def cmd_import_freeradius(args: argparse.Namespace) -> int:
    from aaa.importers import freeradius, runs

    mapping = runs.read_mapping(Path(args.mapping).read_text(encoding="utf-8")) if args.mapping else None
    history = runs.since(args.history_since)
    return _run(
        args,
        "freeradius",
        args.url,
        lambda: freeradius.read(args.url, mapping=mapping, history_since=history),
    )


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dry-run", action="store_true", help="write nothing; report what would happen per row")
    p.add_argument("--resume", type=int, help="continue an interrupted import from its checkpoint")
    p.add_argument("--report", help="write every row that was not simply created to this CSV")


def register(sub: Any, command: Command) -> None:
    group = sub.add_parser("import", help="bring an ISP's base in").add_subparsers(
        dest="import_command", required=True
    )
    p = command(
        "freeradius",
        cmd_import_freeradius,
        "import NAS, plans, subscribers, fixed IPs, pools and open sessions from a FreeRADIUS SQL database",
        group,
    )
    p.add_argument("url", help="postgresql://user@host/radius or mysql://user:pass@host/radius")
    p.add_argument("--mapping", help="CSV login,document,name: logins grouped under customers")
    p.add_argument("--history-since", help="also import closed sessions started on or after AAAA-MM-DD")
    _common(p)
