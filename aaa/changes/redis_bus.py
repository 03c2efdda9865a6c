"""Redis pub/sub for change events: the only module that imports redis.

Redis is an accelerator, never a source of truth: a failed publish or a broken subscription
only means workers learn the change from the database poll a little later.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import redis

from aaa.changes.feed import Change

log = logging.getLogger(__name__)
CHANNEL = "aaa:changes"


def _encode(changes: list[Change]) -> str:
    return "\n".join(f"{kind}\t{key}" for kind, key in changes)


def _decode(payload: str) -> list[Change]:
    return [(kind, key) for kind, _, key in (line.partition("\t") for line in payload.splitlines())]


class RedisBus:
    def __init__(self, url: str):
        self._url = url
        self._client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)

    def publish(self, changes: list[Change]) -> None:
        try:
            self._client.publish(CHANNEL, _encode(changes))
        except redis.RedisError as exc:
            log.warning("redis publish failed (workers will poll the change feed): %s", exc)

    def listen(self, deliver: Callable[[list[Change]], None], stop: threading.Event) -> threading.Thread:
        """Deliver published changes from a daemon thread, reconnecting until ``stop`` is set."""

        def loop() -> None:
            while not stop.is_set():
                try:
                    client = redis.Redis.from_url(
                        self._url, socket_connect_timeout=1, health_check_interval=5
                    )
                    pubsub = client.pubsub(ignore_subscribe_messages=True)
                    pubsub.subscribe(CHANNEL)
                    while not stop.is_set():
                        message = pubsub.get_message(timeout=0.5)
                        if message and isinstance(message.get("data"), bytes):
                            deliver(_decode(message["data"].decode()))
                except redis.RedisError as exc:
                    log.warning("redis subscription lost, retrying in 1 s: %s", exc)
                    stop.wait(1.0)

        thread = threading.Thread(target=loop, name="redis-changes", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        self._client.close()
