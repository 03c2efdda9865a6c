"""A small JSON HTTP server on loopback for provider fakes: routes by (method, path pattern),
records every request, can be switched "down" (503) or silent, and optionally speaks TLS with
client certificates (Efí's mutual TLS)."""

from __future__ import annotations

import json
import re
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


Handler = Callable[[Seen, re.Match[str]], tuple[int, Any]]


class JsonFake:
    def __init__(self, tls: ssl.SSLContext | None = None):
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.seen: list[Seen] = []
        self.down = False
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw, parse_float=Decimal) if raw else None
                except ValueError:
                    body = raw.decode("latin-1")
                seen = Seen(
                    self.command,
                    parts.path,
                    {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()},
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                fake.seen.append(seen)
                status, answer = fake._dispatch(seen)
                data = json.dumps(answer, default=str).encode() if answer is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.scheme = "https" if tls else "http"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self.routes.append((method, re.compile(pattern + "$"), handler))

    def _dispatch(self, seen: Seen) -> tuple[int, Any]:
        if self.down:
            return 503, {"message": "Service Unavailable"}
        for method, pattern, handler in self.routes:
            match = pattern.match(seen.path)
            if method == seen.method and match:
                return handler(seen, match)
        return 404, {"message": f"no route {seen.method} {seen.path}"}

    def __enter__(self) -> JsonFake:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()
