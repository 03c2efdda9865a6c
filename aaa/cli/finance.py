"""`aaa finance`: bank return files (arquivo retorno)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from aaa.cli.common import Command, settings_of, table, transaction


def cmd_retorno(args: argparse.Namespace) -> int:
    """Import a CNAB 240 / Banco do Brasil CNAB 400 return file and print its report."""
    from zoneinfo import ZoneInfo

    from aaa.audit.log import actor_of
    from aaa.db.base import utcnow
    from billing_bridge.bank_return import OUTCOMES, import_return
    from billing_bridge.payment_slips import agreement_of

    settings = settings_of(args)
    path = Path(args.file)
    content = path.read_bytes()
    with transaction(settings) as session:
        record, new, moved = import_return(
            session,
            content,
            path.name,
            agreement=agreement_of(settings.billing),
            by=actor_of(session).name,
            now=utcnow(),
            zone=ZoneInfo(settings.policy.timezone),
            cash_box=settings.billing.gateway_cash_box,
        )
        lines = list(record.lines)
        counts = dict(record.counts)
        layout, bank, imported_at = record.layout, record.bank, record.imported_at
    if not new:
        print(f"{path.name} was imported before ({imported_at:%d/%m/%Y %H:%M}); nothing applied again")
    print(f"{layout} bank {bank}: " + ", ".join(f"{o} {counts.get(o, 0)}" for o in OUTCOMES if counts.get(o)))
    table(
        ["line", "nosso número", "code", "paid", "outcome", "invoice", "reason"],
        [
            [
                e["line"],
                e.get("nosso_numero", ""),
                e.get("code", ""),
                e.get("amount_paid", ""),
                e["outcome"],
                e.get("invoice_id") or "",
                e.get("reason", ""),
            ]
            for e in lines
        ],
    )
    if moved:
        print(f"{len(moved)} service(s) re-enabled")
    return 0


def register(sub: Any, command: Command) -> None:
    finance = sub.add_parser("finance", help="payments from banks and providers").add_subparsers(
        dest="finance_command", required=True
    )
    p = command("retorno", cmd_retorno, "import a bank return file (CNAB 240 or BB CNAB 400)", finance)
    p.add_argument("file", help="the return file as the bank sent it")
