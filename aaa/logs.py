"""Logging: plain text or one JSON object per line, with a correlation id per request.

The admin API puts each request's id (``X-Request-Id``, or a new one) in ``REQUEST_ID``; RADIUS
log lines carry ``radius:<NAS address>:<packet identifier>``. Passwords and secrets are never
formatted into messages, and SQL parameters never reach a log or an error text (the engines use
``hide_parameters``): a DEBUG log must be safe to paste into a ticket.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
TEXT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "msg": record.getMessage(),
        }
        correlation = getattr(record, "correlation", None) or REQUEST_ID.get()
        if correlation:
            line["correlation"] = correlation
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure(level: str, fmt: str = "text", stream: IO[str] | None = None) -> None:
    """Replace the root handlers: one handler, text or JSON. SQLAlchemy's own loggers stay at
    WARNING whatever the level (at INFO they would print every statement)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
