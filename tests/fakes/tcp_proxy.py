"""A TCP proxy in front of the test PostgreSQL that a test can cut and restore: while cut, every
connection through it is closed and new ones are refused, which is what the application sees
when its database goes down (without stopping the server other tests share)."""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading


class TcpProxy:
    def __init__(self, target: tuple[str, int]):
        self.target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._listener: socket.socket | None = None
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="tcp-proxy", daemon=True)
        self._selector = selectors.DefaultSelector()

    def __enter__(self) -> TcpProxy:
        self.restore()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self.cut()

    def restore(self) -> None:
        with self._lock:
            if self._listener is None:
                listener = socket.socket()
                listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                listener.bind(("127.0.0.1", self.port))
                listener.listen(64)
                listener.setblocking(False)
                self._listener = listener
                self._selector.register(listener, selectors.EVENT_READ, None)

    def cut(self) -> None:
        """The database is gone: live connections reset, new ones refused."""
        with self._lock:
            if self._listener is not None:
                self._selector.unregister(self._listener)
                self._listener.close()
                self._listener = None
            for pair in self._pairs:
                for sock in pair:
                    self._drop(sock)
            self._pairs.clear()

    def _drop(self, sock: socket.socket) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(sock)
        sock.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                events = self._selector.select(timeout=0.05) if self._selector.get_map() else []
                for key, _ in events:
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    if sock is self._listener:
                        self._accept()
                    else:
                        self._pump(sock, key.data)
            if not events:
                self._stop.wait(0.01)

    def _accept(self) -> None:
        assert self._listener is not None
        try:
            client, _ = self._listener.accept()
        except BlockingIOError:
            return
        upstream = socket.create_connection(self.target, timeout=3)
        for s in (client, upstream):
            s.setblocking(False)
        self._pairs.append((client, upstream))
        self._selector.register(client, selectors.EVENT_READ, upstream)
        self._selector.register(upstream, selectors.EVENT_READ, client)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            data = source.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if data:
            try:
                sink.setblocking(True)
                sink.sendall(data)
                sink.setblocking(False)
                return
            except OSError:
                pass
        for sock in (source, sink):
            self._drop(sock)
        self._pairs = [p for p in self._pairs if source not in p]
