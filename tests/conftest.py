"""Shared fixtures: real databases (SQLite and PostgreSQL), real Redis, a real worker on UDP.

PostgreSQL and Redis are required, not optional: the test command (scripts/test.sh) starts
or checks them. Their addresses come from AAA_TEST_PG_URL and AAA_TEST_REDIS_URL.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from aaa.changes.feed import latest_id
from aaa.composition import session_factory
from aaa.db.base import utcnow
from aaa.db.engine import make_engine
from aaa.db.migrate import upgrade
from aaa.ipam.subnets import add_folder, add_subnet
from aaa.models import metadata
from aaa.nas.service import add_nas
from aaa.radius.server import RadiusWorker
from aaa.radius.sockets import bind_udp
from aaa.settings import Settings, load_settings
from aaa.subscribers.customers import add_customer
from aaa.subscribers.plans import add_plan
from aaa.subscribers.service import add_service
from aaa.tables.ipam import IpFolder, Subnet
from aaa.tables.nas import MaMode, VendorProfile
from aaa.tables.subscribers import Plan, Service
from aaa.vocabulary.ipam import SubnetPurpose

PG_URL = os.environ.get("AAA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("AAA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
SECRET = "test-secret-0123456789"
# Published RFC/MikroTik test vectors (hex), copied from the project's shared/vectors/published.json.
VECTORS = Path(__file__).resolve().parent / "vectors" / "published.json"


def _pg_admin() -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(PG_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is required at AAA_TEST_PG_URL={PG_URL} (scripts/test.sh starts it): {exc}",
            pytrace=False,
        )


@contextmanager
def fresh_pg_database(prefix: str) -> Iterator[str]:
    """A new, migrated database of its own (for servers run as processes), dropped after."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        with _pg_admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh database on the PostgreSQL server, migrated, dropped at the end."""
    name = f"aaa_test_{uuid.uuid4().hex[:10]}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_URL.rsplit("/", 1)[0]
    url = f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    upgrade(url)
    yield url
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'aaa.db'}"
    upgrade(url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each test using this runs on both backends, on an emptied, migrated schema."""
    url = request.getfixturevalue("sqlite_database" if request.param == "sqlite" else "pg_database")
    yield url
    empty_database(url)


def empty_database(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
    engine.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def api(db_url: str) -> Iterator[Any]:
    """The admin API in process on ``db_url``, logged in as a superuser (tests.api_client.Api)."""
    from tests.api_client import api_for

    with api_for(db_url) as client:
        yield client


@pytest.fixture
def http(db_url: str) -> Iterator[Any]:
    """The admin API served by uvicorn on a real socket on ``db_url``, logged in as a superuser
    (tests.api_client.Http)."""
    from tests.api_client import running_api

    with running_api(db_url) as client:
        yield client


@pytest.fixture
def pg_factory(pg_database: str) -> Iterator[sessionmaker[Session]]:
    """PostgreSQL only: for races that need real row locks and concurrent connections."""
    engine = make_engine(pg_database, pool_size=60, max_overflow=0)
    yield session_factory(engine)
    engine.dispose()
    empty_database(pg_database)


@pytest.fixture
def redis_url() -> str:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(
            f"Redis is required at AAA_TEST_REDIS_URL={REDIS_URL} (scripts/test.sh starts it): {exc}",
            pytrace=False,
        )
    finally:
        client.close()
    return REDIS_URL


def test_settings(db_url: str, **radius: Any) -> Settings:
    return load_settings(
        None,
        database_url=db_url,
        radius={
            "reject_delay": 0,
            "change_poll_interval": 0.05,
            "authlog_flush_ms": 20,
            "acct_commit_concurrency": 2,
            # Tests send accepts without Starts; the reservations they would hold are tested on
            # their own (test_trust_radius).
            "reservation_seconds": 0,
            **radius,
        },
        metrics={"enabled": False},
        accounting={"spool_dir": tempfile.mkdtemp(prefix="aaa-spool-"), "replay_interval": 0.2},
    )


test_settings.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


# --- data factories (keyword-only) --------------------------------------------------------


def make_plan(
    session: Session, *, name: str = "Fibra 100M", download: int = 100_000, upload: int = 50_000, **extra: Any
) -> Plan:
    return add_plan(
        session, name=name, download_kbps=download, upload_kbps=upload, price=Decimal("99.90"), **extra
    )


def make_service(
    session: Session, *, login: str, password: str = "secret-pass", plan: Plan | None = None, **extra: Any
) -> Service:
    plan = plan or session.query(Plan).first() or make_plan(session)
    customer = add_customer(session, name=f"Customer {login}")
    return add_service(session, customer=customer, plan=plan, login=login, password=password, **extra)


def make_subnet(
    session: Session,
    cidr: str,
    purpose: SubnetPurpose = SubnetPurpose.FIXED,
    folder: str = "Test",
    **extra: Any,
) -> Subnet:
    """A subnet in ``folder`` (created when missing)."""
    found = session.scalar(select(IpFolder).where(IpFolder.name == folder)) or add_folder(session, folder)
    return add_subnet(session, folder_id=found.id, cidr=cidr, purpose=purpose, now=utcnow(), **extra)


def make_nas(session: Session, *, address: str = "127.0.0.1", ma: MaMode = MaMode.YES, **extra: Any) -> int:
    nas = add_nas(
        session,
        name=extra.pop("name", f"nas-{address}"),
        address=address,
        secret=SECRET,
        vendor=extra.pop("vendor", VendorProfile.MIKROTIK),
        require_message_authenticator=ma,
        **extra,
    )
    return nas.id


# --- a real worker on real sockets ------------------------------------------------------------


@dataclass
class RunningWorker:
    worker: RadiusWorker
    auth_port: int
    acct_port: int
    loop: asyncio.AbstractEventLoop
    stop: asyncio.Event
    thread: threading.Thread

    def call(self, func: Any, *args: Any) -> Any:
        """Run ``func`` on the worker's loop thread and return its result."""
        done = threading.Event()
        box: list[Any] = []
        self.loop.call_soon_threadsafe(lambda: (box.append(func(*args)), done.set()))
        done.wait(5)
        return box[0] if box else None


def start_worker(
    settings: Settings, factory: sessionmaker[Session], bus: Any = None, accounting: bool = True
) -> RunningWorker:
    """A worker on its own loop thread; without ``accounting`` it serves authentication only
    (its ``acct_port`` is then 0)."""
    worker = RadiusWorker(settings, factory, bus)
    worker.load()
    auth_sock = bind_udp("127.0.0.1", 0, reuse_port=False)
    acct_sock = bind_udp("127.0.0.1", 0, reuse_port=False) if accounting else None
    ready = threading.Event()
    holder: dict[str, Any] = {}

    def run() -> None:
        async def main() -> None:
            holder["loop"] = asyncio.get_running_loop()
            holder["stop"] = asyncio.Event()
            ready.set()
            await worker.serve(auth_sock, acct_sock, holder["stop"])

        asyncio.run(main())

    thread = threading.Thread(target=run, name="test-worker-loop", daemon=True)
    thread.start()
    assert ready.wait(5)
    acct_port = acct_sock.getsockname()[1] if acct_sock else 0
    return RunningWorker(
        worker, auth_sock.getsockname()[1], acct_port, holder["loop"], holder["stop"], thread
    )


def stop_worker(running: RunningWorker) -> None:
    running.loop.call_soon_threadsafe(running.stop.set)
    running.thread.join(15)


@pytest.fixture
def worker(db_url: str, factory: sessionmaker[Session]) -> Iterator[RunningWorker]:
    with factory.begin() as session:
        make_nas(session)
    running = start_worker(test_settings(db_url), factory)
    yield running
    stop_worker(running)


def wait_for(predicate: Any, timeout: float = 3.0, interval: float = 0.02) -> Any:
    """Poll until ``predicate()`` is truthy (for effects that happen in background writers)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def feed_applied(factory: sessionmaker[Session], worker: RunningWorker) -> bool:
    """Wait until ``worker`` has applied the change feed up to its end as of now."""
    with factory() as session:
        last = latest_id(session)
    return bool(wait_for(lambda: worker.worker.listener.applied_low >= last))


def count_rows(factory: sessionmaker[Session], sql: str, **params: Any) -> int:
    with factory() as session:
        return int(session.execute(text(sql), params).scalar_one())


def seed(config: Path, *args: str) -> str:
    """Run an `aaa` command in this process (setting up data for a test of the server
    processes; the command line itself is tested as a process elsewhere). Its output."""
    import contextlib
    import io

    from aaa.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["--config", str(config), *args])
    assert code == 0, (args, out.getvalue())
    return out.getvalue()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Each test's call report on the item, so a fixture's teardown knows the test failed (the
    browser tests save a screenshot then)."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
