"""What every `aaa` command shares: settings from --config, a transaction audited as the local
user, the schema check, plain tables."""

from __future__ import annotations

import argparse
import getpass
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aaa.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# command(name, func, help, parent): a subcommand that runs func(args) -> exit code
Command = Callable[..., argparse.ArgumentParser]


def settings_of(args: argparse.Namespace) -> Settings:
    return load_settings(args.config)


@contextmanager
def transaction(settings: Settings) -> Iterator[Session]:
    """One transaction, audited as the local user running the command."""
    from aaa.audit.log import Actor, act_as
    from aaa.composition import build

    require_existing_database(settings)
    components = build(settings)
    try:
        with components.factory.begin() as session:
            act_as(session, Actor(f"cli:{getpass.getuser()}", "local"))
            yield session
    finally:
        components.close()


def require_current_schema(settings: Settings) -> None:
    from aaa.db.engine import make_engine
    from aaa.db.migrate import is_current

    require_existing_database(settings)
    engine = make_engine(settings.database_url)
    try:
        current = is_current(engine)
    finally:
        engine.dispose()
    if not current:
        raise SettingsError(
            f"the database {engine.url!r} is not at the newest migration: run `aaa db upgrade`"
        )


def require_existing_database(settings: Settings) -> None:
    """An SQLite file that is not there is an error, not a new empty database: a command run
    from another directory, or without its --config, would otherwise create ./aaa.db and find
    nothing in it. Only `aaa db upgrade` and `aaa demo` create the database."""
    from sqlalchemy.engine import make_url

    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return
    path = Path(url.database)
    if not path.exists():
        raise SettingsError(
            f"no database at {path.resolve()}: run `aaa db upgrade` to create it, or give the "
            "installation's settings (--config FILE or AAA_CONFIG)"
        )


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [list(map(str, header))] + [[str(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def decimal_arg(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a decimal amount (use 99.90)") from exc


_REPLY = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9_.-]*)\s*(:=|\+=|=)\s*(.*?)\s*$")


def reply_attribute_arg(text: str) -> list[str]:
    """'Session-Timeout := 86400' (FreeRADIUS's notation) as [attribute, operator, value]."""
    found = _REPLY.match(text)
    if found is None or not found.group(3):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not 'Attribute op value' (op: = := +=), e.g. 'Session-Timeout := 86400'"
        )
    value = found.group(3)
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return [found.group(1), found.group(2), value]


def checked_reply_attributes(settings: Settings, items: list[list[str]]) -> list[list[str]]:
    """Checked against the dictionary the workers load (radius.dictionary)."""
    from aaa.radius.reply_attributes import check_reply_attributes

    return check_reply_attributes(settings.radius.dictionary, items)
