"""A RouterOS API server (TCP) that speaks the real sentence protocol to librouteros.

Words are length-prefixed (1–5 octet lengths, MikroTik manual "API"), a sentence ends with an
empty word. Implemented: post-6.43 ``/login``; ``print`` with ``=.proplist=`` and queries
(``?name``, ``?-name``, ``?=name=v``/``?name=v``, ``?<``/``?>``, ``?#`` stack operations, the
stack ANDed at the end); ``add`` (``!done =ret=*ID``), ``remove``, for ``/ppp/active`` and
``/ip/firewall/address-list``; ``!trap`` (then ``!done``) for a refused login, an unknown
command or item. Every sentence received is recorded.
"""

from __future__ import annotations

import itertools
import socket
import socketserver
import ssl
import threading
from typing import Any


def encode_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    if n < 0x4000:
        return (n | 0x8000).to_bytes(2, "big")
    if n < 0x200000:
        return (n | 0xC00000).to_bytes(3, "big")
    if n < 0x10000000:
        return (n | 0xE0000000).to_bytes(4, "big")
    return b"\xf0" + n.to_bytes(4, "big")


def read_length(read: Any) -> int:
    first = read(1)[0]
    if first < 0x80:
        return first
    if first < 0xC0:
        return ((first & 0x3F) << 8) | read(1)[0]
    if first < 0xE0:
        return ((first & 0x1F) << 16) | int.from_bytes(read(2), "big")
    if first < 0xF0:
        return ((first & 0x0F) << 24) | int.from_bytes(read(3), "big")
    if first == 0xF0:
        return int.from_bytes(read(4), "big")
    raise ValueError(f"control byte {first:#x}")


def encode_sentence(words: list[str]) -> bytes:
    out = b""
    for word in words:
        data = word.encode()
        out += encode_length(len(data)) + data
    return out + b"\x00"


class RouterOsFake:
    def __init__(self, username: str = "admin", password: str = "secret", tls: ssl.SSLContext | None = None):
        """``tls``: serve api-ssl (RouterOS's port 8729 service) with this server context."""
        self.username, self.password = username, password
        self.tables: dict[str, list[dict[str, str]]] = {"/ppp/active": [], "/ip/firewall/address-list": []}
        self.sentences: list[list[str]] = []
        self.logins = 0
        self.tls_failures = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        fake = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                if tls is None:
                    fake._session(self.request)
                    return
                try:
                    wrapped = tls.wrap_socket(self.request, server_side=True)
                except (ssl.SSLError, OSError):
                    fake.tls_failures += 1
                    return
                fake._session(wrapped)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, name="routeros-fake", daemon=True)

    def __enter__(self) -> RouterOsFake:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def add_active(self, name: str, address: str, session_id: str = "", caller_id: str = "") -> str:
        return self._add(
            "/ppp/active",
            {
                "name": name,
                "address": address,
                "session-id": session_id,
                "caller-id": caller_id,
                "service": "pppoe",
            },
        )

    def rows(self, path: str) -> list[dict[str, str]]:
        with self._lock:
            return [dict(r) for r in self.tables[path]]

    def commands(self) -> list[str]:
        return [s[0] for s in self.sentences]

    def _add(self, path: str, row: dict[str, str]) -> str:
        with self._lock:
            item = {".id": f"*{next(self._ids):X}", **row}
            self.tables[path].append(item)
            return item[".id"]

    # --- the wire ---------------------------------------------------------------------------

    def _session(self, sock: socket.socket) -> None:
        def read(n: int) -> bytes:
            data = b""
            while len(data) < n:
                chunk = sock.recv(n - len(data))
                if not chunk:
                    raise ConnectionError("closed")
                data += chunk
            return data

        logged_in = False
        try:
            while True:
                words = []
                while (length := read_length(read)) > 0:
                    words.append(read(length).decode())
                if not words:
                    continue
                self.sentences.append(words)
                command, attrs, queries = (
                    words[0],
                    _attributes(words),
                    [w for w in words if w.startswith("?")],
                )
                if command == "/login":
                    if attrs.get("name") == self.username and attrs.get("password") == self.password:
                        logged_in = True
                        self.logins += 1
                        replies = [["!done"]]
                    else:
                        replies = _trap("invalid user name or password (6)")
                elif not logged_in:
                    replies = _trap("not logged in")
                else:
                    replies = self._command(command, attrs, queries)
                sock.sendall(b"".join(encode_sentence(r) for r in replies))
        except (ConnectionError, OSError, IndexError):
            return

    def _command(self, command: str, attrs: dict[str, str], queries: list[str]) -> list[list[str]]:
        path, _, verb = command.rpartition("/")
        if path not in self.tables:
            return _trap("no such command prefix")
        if verb == "print":
            props = attrs.get(".proplist")
            with self._lock:
                rows = [r for r in self.tables[path] if _matches(r, queries)]
            out = []
            for row in rows:
                shown = {k: v for k, v in row.items() if props is None or k in props.split(",")}
                out.append(["!re", *(f"={k}={v}" for k, v in shown.items())])
            return [*out, ["!done"]]
        if verb == "add":
            return [
                [
                    "!done",
                    f"=ret={self._add(path, {k: v for k, v in attrs.items() if not k.startswith('.')})}",
                ]
            ]
        if verb == "remove":
            ids = attrs.get(".id", "").split(",")
            with self._lock:
                known = {r[".id"] for r in self.tables[path]}
                if not all(i in known for i in ids):
                    return _trap("no such item")
                self.tables[path] = [r for r in self.tables[path] if r[".id"] not in ids]
            return [["!done"]]
        return _trap("no such command")


def _attributes(words: list[str]) -> dict[str, str]:
    out = {}
    for word in words[1:]:
        if word.startswith("="):
            name, _, value = word[1:].partition("=")
            out[name] = value
    return out


def _trap(message: str) -> list[list[str]]:
    return [["!trap", f"=message={message}"], ["!done"]]


def _matches(row: dict[str, str], queries: list[str]) -> bool:
    stack: list[bool] = []
    for query in queries:
        word = query[1:]
        if word.startswith("#"):
            for op in word[1:]:
                if op == "!":
                    stack.append(not stack.pop())
                elif op in "&|":
                    b, a = stack.pop(), stack.pop()
                    stack.append(a and b if op == "&" else a or b)
                elif op == ".":
                    stack.append(stack[-1])
            continue
        if word.startswith("-"):
            stack.append(word[1:] not in row)
        elif word[:1] in "=<>":
            name, _, value = word[1:].partition("=")
            have = row.get(name)
            if word[0] == "=":
                stack.append(have == value)
            else:
                stack.append(have is not None and (have < value if word[0] == "<" else have > value))
        elif "=" in word:
            name, _, value = word.partition("=")
            stack.append(row.get(name) == value)
        else:
            stack.append(word in row)
    return all(stack)
