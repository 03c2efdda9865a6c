"""Cache invalidation across workers: the database feed alone, and Redis pub/sub."""

from __future__ import annotations

import threading
import time
from typing import Any

import redis
from pyrad import packet

from aaa.changes.feed import ChangeCursor, install_publisher, latest_id, record_change
from aaa.changes.redis_bus import CHANNEL, RedisBus
from aaa.subscribers.service import get_service, update_service
from aaa.tables.changes import ChangeKind
from tests import radius_client as rc
from tests.conftest import SECRET, make_nas, make_service, start_worker, stop_worker, test_settings, wait_for


def test_feed_reads_committed_changes_in_order(factory: Any) -> None:
    with factory() as session:
        cursor = ChangeCursor(latest_id(session))
    with factory.begin() as session:
        record_change(session, ChangeKind.SERVICE, "a")
        record_change(session, ChangeKind.NAS, 7)
    with factory.begin() as session:
        record_change(session, ChangeKind.SESSION, "b")
    with factory() as session:
        assert cursor.poll(session) == [("service", "a"), ("nas", "7"), ("session", "b")]
        assert cursor.poll(session) == []


def test_uncommitted_changes_are_not_published(factory: Any) -> None:
    published: list[Any] = []
    install_publisher(factory, published.extend)
    session = factory()
    record_change(session, ChangeKind.SERVICE, "rolled-back")
    session.rollback()
    session.close()
    with factory.begin() as session:
        record_change(session, ChangeKind.SERVICE, "kept")
    assert published == [("service", "kept")]


def test_redis_bus_round_trip(redis_url: str) -> None:
    bus = RedisBus(redis_url)
    received: list[Any] = []
    stop = threading.Event()
    bus.listen(received.extend, stop)
    try:
        assert wait_for(lambda: bus.publish([("service", "warm-up")]) or received, timeout=3)
        received.clear()
        bus.publish([("service", "maria"), ("nas", "3")])
        assert wait_for(lambda: received[-2:] == [("service", "maria"), ("nas", "3")], timeout=2)
    finally:
        stop.set()
        bus.close()


def test_redis_invalidation_reaches_another_worker_fast(db_url: str, factory: Any, redis_url: str) -> None:
    """The feed poll is set to 9 s here, so only Redis can deliver the change in time."""
    from aaa.composition import build

    with factory.begin() as session:
        make_nas(session)
        make_service(session, login="maria", password="old")
    settings = test_settings(db_url, change_poll_interval=9)
    settings = settings.model_copy(update={"redis_url": redis_url})
    listener_side = build(settings)
    running = start_worker(settings, listener_side.factory, listener_side.bus)
    operator_side = build(settings)  # another process, e.g. the CLI, with its own publisher
    try:
        nas = rc.client(running.auth_port, running.acct_port, SECRET)
        assert rc.send(nas, rc.pap(nas, "maria", "old")).code == packet.AccessAccept
        probe = redis.Redis.from_url(redis_url)
        assert wait_for(lambda: probe.pubsub_numsub(CHANNEL)[0][1] >= 1)  # the worker is subscribed
        probe.close()
        with operator_side.factory.begin() as session:
            update_service(session, get_service(session, "maria"), password="new")
        started = time.monotonic()
        assert wait_for(
            lambda: rc.send(nas, rc.pap(nas, "maria", "new")).code == packet.AccessAccept, timeout=1
        )
        assert time.monotonic() - started < 1.0
    finally:
        stop_worker(running)
        listener_side.close()
        operator_side.close()


def test_redis_down_falls_back_to_the_feed(db_url: str, factory: Any) -> None:
    with factory.begin() as session:
        make_nas(session)
        make_service(session, login="maria", password="old")
    settings = test_settings(db_url).model_copy(
        update={"redis_url": "redis://127.0.0.1:1/0"}
    )  # nothing there
    from aaa.composition import build

    components = build(settings)
    running = start_worker(settings, components.factory, components.bus)
    try:
        nas = rc.client(running.auth_port, running.acct_port, SECRET)
        assert rc.send(nas, rc.pap(nas, "maria", "old")).code == packet.AccessAccept
        with components.factory.begin() as session:  # the publish to Redis fails, the commit does not
            update_service(session, get_service(session, "maria"), password="new")
        assert wait_for(
            lambda: rc.send(nas, rc.pap(nas, "maria", "new")).code == packet.AccessAccept, timeout=1
        )
    finally:
        stop_worker(running)
        components.close()


def test_redis_restart_mid_way_falls_back_then_recovers(db_url: str, factory: Any, tmp_path: Any) -> None:
    """A private Redis (its own port) goes away under a running worker: changes still arrive by
    the feed poll (2 s here) within a few seconds; when Redis returns the worker subscribes
    again and changes arrive in well under the poll interval."""
    import shutil
    import socket
    import subprocess

    from aaa.composition import build

    if shutil.which("redis-server") is None:
        raise AssertionError("redis-server is required (scripts/test.sh installs it)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"redis://127.0.0.1:{port}/0"

    def start_redis() -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(tmp_path),
            ],
            stdout=subprocess.DEVNULL,
        )
        probe = redis.Redis.from_url(url, socket_connect_timeout=0.2)
        assert wait_for(lambda: _pings(probe), timeout=5)
        probe.close()
        return proc

    def subscribed() -> bool:
        probe = redis.Redis.from_url(url, socket_connect_timeout=0.2)
        try:
            return bool(probe.pubsub_numsub(CHANNEL)[0][1] >= 1)
        except redis.RedisError:
            return False
        finally:
            probe.close()

    with factory.begin() as session:
        make_nas(session)
        make_service(session, login="maria", password="p0")
    settings = test_settings(db_url, change_poll_interval=2).model_copy(update={"redis_url": url})
    server = start_redis()
    worker_side, operator_side = build(settings), build(settings)
    running = start_worker(settings, worker_side.factory, worker_side.bus)
    nas = rc.client(running.auth_port, running.acct_port, SECRET)

    def change_and_time(password: str, within: float) -> float:
        with operator_side.factory.begin() as session:
            update_service(session, get_service(session, "maria"), password=password)
        started = time.monotonic()
        assert wait_for(
            lambda: rc.send(nas, rc.pap(nas, "maria", password)).code == packet.AccessAccept, timeout=within
        ), password
        return time.monotonic() - started

    try:
        assert wait_for(subscribed, timeout=5)
        assert change_and_time("p1", 1.0) < 1.0  # Redis
        server.kill()
        server.wait()
        assert change_and_time("p2", 5.0) < 5.0  # the feed poll: Redis is gone
        server = start_redis()
        assert wait_for(subscribed, timeout=10)  # the worker's subscription came back by itself
        assert change_and_time("p3", 1.0) < 1.0
    finally:
        stop_worker(running)
        worker_side.close()
        operator_side.close()
        server.kill()
        server.wait()


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
