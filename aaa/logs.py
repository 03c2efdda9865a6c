"""Logging: plain text or one JSON object per line, with a correlation id per request.

The admin API puts each request's id (``X-Request-Id``, or a new one) in ``REQUEST_ID``; RADIUS
log lines carry ``radius:<NAS address>:<packet identifier>``. Passwords and secrets are never
formatted into messages, and SQL parameters never reach a log or an error text (the engines use
``hide_parameters``): a DEBUG log must be safe to paste into a ticket.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
TEXT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"
# user:password@ in any URL (database, Redis, a webhook), wherever a message carries one.
_CREDENTIALS = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^:/@\s]*):(?P<password>[^@\s/]+)@", re.IGNORECASE)


def mask_credentials(text: str) -> str:
    """``postgresql://aaa:s3cret@db/aaa`` → ``postgresql://aaa:***@db/aaa``."""
    return _CREDENTIALS.sub(r"\g<head>:***@", text)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask_credentials(super().format(record))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "msg": mask_credentials(record.getMessage()),
        }
        correlation = getattr(record, "correlation", None) or REQUEST_ID.get()
        if correlation:
            line["correlation"] = correlation
        if record.exc_info:
            line["exc"] = mask_credentials(self.formatException(record.exc_info))
        elif record.stack_info:
            line["exc"] = mask_credentials(record.stack_info)
        return json.dumps(line, ensure_ascii=False)


def configure(level: str, fmt: str = "text", stream: IO[str] | None = None) -> None:
    """Replace the root handlers: one handler, text or JSON. SQLAlchemy's own loggers stay at
    WARNING whatever the level (at INFO they would print every statement)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter(TEXT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    # APScheduler says every run of every job at INFO: those lines show at DEBUG only.
    logging.getLogger("apscheduler").setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)
    # Uvicorn's lines (served with log_config=None) and every uncaught traceback, of the main
    # thread or any other, leave through this handler too: in JSON, every line is JSON.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    logging.captureWarnings(True)
    crash = logging.getLogger("aaa.crash")
    sys.excepthook = lambda kind, value, tb: crash.critical("uncaught exception", exc_info=(kind, value, tb))
    threading.excepthook = lambda args: crash.error(
        "uncaught exception in thread %s",
        args.thread.name if args.thread else "?",
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),  # type: ignore[arg-type]
    )
