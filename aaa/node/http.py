"""The node's own HTTP endpoint: /metrics (every process's metrics plus the database-derived
gauges), /healthz and /readyz, with the same answers as the API's (aaa.monitoring). Its
/readyz also turns not-ready once the accounting spool holds half its room (the database is
gone for long, or replay cannot keep up)."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aaa.composition import Components, database_collector
from aaa.monitoring import ALIVE, metrics_page, metrics_registry, ready_answer
from aaa.settings import Settings

log = logging.getLogger(__name__)


def serve_health(settings: Settings, components: Components) -> None:
    """Start the endpoint on a daemon thread. A port that cannot be had is logged, not fatal:
    RADIUS matters more than its metrics."""
    registry = metrics_registry(database_collector(components.factory))
    a = settings.accounting

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/healthz":
                code, body, kind = 200, json.dumps(ALIVE).encode(), "application/json"
            elif path == "/readyz":
                code, answer = ready_answer(components.engine, a.spool_dir, a.spool_max_bytes // 2)
                body, kind = json.dumps(answer).encode(), "application/json"
            elif path == "/metrics":
                code = 200
                body, kind = metrics_page(registry)
            else:
                code, body, kind = 404, b"not found: /metrics, /healthz, /readyz\n", "text/plain"
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    m = settings.metrics
    try:
        server = ThreadingHTTPServer((m.bind, m.port), Handler)
    except OSError as exc:
        log.error("metrics endpoint %s:%d not started: %s", m.bind, m.port, exc)
        return
    threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True).start()
