"""Sessions change in place: an Accounting Start, Stop, the reaper and the reconciler update the
login's open sessions in every worker's snapshot from the change itself, so a subscriber who
connects, disconnects and dials again is answered from memory, with no snapshot reload."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from pyrad import packet
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session, sessionmaker

from aaa import metrics
from aaa.accounting.store import reap
from aaa.db.base import utcnow
from aaa.tables.accounting import AcctSession
from aaa.tables.changes import ChangeEvent, ChangeKind
from tests import radius_client as rc
from tests.conftest import SECRET, RunningWorker, feed_applied, make_nas, make_service, wait_for

MAC = "AA:BB:CC:00:00:01"
OTHER_MAC = "AA:BB:CC:00:00:02"


@pytest.fixture
def nas(worker: RunningWorker) -> Any:
    return rc.client(worker.auth_port, worker.acct_port, SECRET)


def shared_loads() -> float:
    return metrics.CACHE_LOOKUPS.labels("shared_load")._value.get()


def sessions_cached(worker: RunningWorker, login: str) -> list[str] | None:
    entry = worker.worker.cache._entries.get(login)
    return None if entry is None else [s.acct_session_id for s in entry.sessions]


class Loads:
    """Statements that load a snapshot or open sessions (the request path's database reads)."""

    def __init__(self, factory: sessionmaker[Session]):
        self.engine = factory.kw["bind"]
        self.seen: list[str] = []

    def __enter__(self) -> Loads:
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *_: Any) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)

    def _count(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if threading.current_thread().name.startswith("snapshot-load"):
            self.seen.append(statement)


def test_start_and_stop_change_the_snapshot_without_a_reload(
    worker: RunningWorker, nas: Any, factory: sessionmaker[Session]
) -> None:
    with factory.begin() as s:
        make_service(s, login="maria", password="maria-pass", simultaneous_use=1)
    assert feed_applied(factory, worker)
    accept = rc.pap(nas, "maria", "maria-pass", Calling_Station_Id=MAC, NAS_Port_Id="ether1")
    assert rc.send(nas, accept).code == packet.AccessAccept  # loads the snapshot
    assert sessions_cached(worker, "maria") == []

    with Loads(factory) as loads:
        start = rc.accounting(nas, "Start", "maria", "81a00001", Calling_Station_Id=MAC, NAS_Port_Id="ether1")
        assert rc.send(nas, start).code == packet.AccountingResponse
        assert wait_for(lambda: sessions_cached(worker, "maria") == ["81a00001"])

        # Another CPE is over the limit: rejected from memory (the open session is known).
        other = rc.pap(nas, "maria", "maria-pass", Calling_Station_Id=OTHER_MAC, NAS_Port_Id="ether2")
        assert rc.send(nas, other).code == packet.AccessReject
        loads_after_reject = len(loads.seen)  # the reject rechecked the database once (a Stop may race it)

        stop = rc.accounting(nas, "Stop", "maria", "81a00001", Calling_Station_Id=MAC, Acct_Session_Time=60)
        assert rc.send(nas, stop).code == packet.AccountingResponse
        assert wait_for(lambda: sessions_cached(worker, "maria") == [])

        # Dialling again right after the Stop: answered from memory. (The worker applied its
        # own commits at once and reads them again from the feed poll; a late copy of the
        # Start does not count the closed session again.)
        for _ in range(5):
            assert rc.send(nas, rc.pap(nas, "maria", "maria-pass", Calling_Station_Id=MAC)).code == (
                packet.AccessAccept
            )
    assert loads_after_reject > 0  # the counter works
    assert len(loads.seen) == loads_after_reject, loads.seen[loads_after_reject:]


def test_a_late_copy_of_a_start_does_not_count_the_closed_session_again(
    worker: RunningWorker, nas: Any, factory: sessionmaker[Session]
) -> None:
    """The worker applies its own Start and Stop at once and reads both again from the feed
    poll: a poll that read the Start before the Stop was applied hands it over after the Stop.
    Here that late copy (the Start's own feed row) reaches the running worker after the Stop:
    the session stays closed, and another CPE dials in from memory."""
    with factory.begin() as s:
        make_service(s, login="maria", password="maria-pass", simultaneous_use=1)
    assert feed_applied(factory, worker)  # maria's creation is applied
    assert (
        rc.send(nas, rc.pap(nas, "maria", "maria-pass", Calling_Station_Id=MAC)).code == packet.AccessAccept
    )
    start = rc.accounting(nas, "Start", "maria", "81a00002", Calling_Station_Id=MAC, NAS_Port_Id="ether1")
    assert rc.send(nas, start).code == packet.AccountingResponse
    assert wait_for(lambda: sessions_cached(worker, "maria") == ["81a00002"])
    with factory() as s:
        row = s.execute(
            select(ChangeEvent.kind, ChangeEvent.keys).where(
                ChangeEvent.kind == ChangeKind.SESSION_OPEN.value, ChangeEvent.keys.contains("81a00002")
            )
        ).one()
    stop = rc.accounting(nas, "Stop", "maria", "81a00002", Calling_Station_Id=MAC, Acct_Session_Time=60)
    assert rc.send(nas, stop).code == packet.AccountingResponse
    assert feed_applied(factory, worker)
    assert sessions_cached(worker, "maria") == []

    applied = threading.Event()
    late_copy = [(row.kind, key) for key in row.keys.split("\n")]
    worker.loop.call_soon_threadsafe(worker.worker.apply_changes, late_copy)
    worker.loop.call_soon_threadsafe(applied.set)
    assert applied.wait(5)
    assert sessions_cached(worker, "maria") == []
    with Loads(factory) as loads:
        other = rc.pap(nas, "maria", "maria-pass", Calling_Station_Id=OTHER_MAC, NAS_Port_Id="ether2")
        assert rc.send(nas, other).code == packet.AccessAccept
    assert loads.seen == []


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_the_accounting_worker_applies_its_own_session_changes_once(
    worker: RunningWorker, nas: Any, factory: sessionmaker[Session]
) -> None:
    """It applies them from its commit's result and the feed poll skips their rows (PostgreSQL:
    the merge returns the ids). Without the skip, every change is applied twice; a poll that
    reads a row between its commit and the result's arrival may still apply one twice."""
    with factory.begin() as s:
        make_service(s, login="maria", password="maria-pass", simultaneous_use=0)
    assert feed_applied(factory, worker)
    assert rc.send(nas, rc.pap(nas, "maria", "maria-pass")).code == packet.AccessAccept  # cached

    def applied(change: str) -> float:
        return metrics.CACHE_SESSION_UPDATES.labels(change)._value.get()

    opened, closed, ignored = applied("opened"), applied("closed"), applied("stale_open_ignored")
    for n in range(20):
        start = rc.accounting(nas, "Start", "maria", f"own{n:04d}", Calling_Station_Id=MAC)
        assert rc.send(nas, start).code == packet.AccountingResponse
        stop = rc.accounting(nas, "Stop", "maria", f"own{n:04d}", Calling_Station_Id=MAC, Acct_Session_Time=1)
        assert rc.send(nas, stop).code == packet.AccountingResponse
    assert feed_applied(factory, worker)
    assert sessions_cached(worker, "maria") == []
    # A second copy of a Start arriving after its Stop is ignored (and counted so), of a Stop
    # applied again: without the skip, 20 ignored and 40 closed.
    assert 20 <= applied("opened") - opened <= 24
    assert 20 <= applied("closed") - closed <= 24
    assert applied("stale_open_ignored") - ignored <= 4


def test_the_reaper_closes_cached_sessions_in_place(
    worker: RunningWorker, nas: Any, factory: sessionmaker[Session]
) -> None:
    with factory.begin() as s:
        nas_id = make_nas(s, address="127.0.0.2", name="other")
        make_service(s, login="joao", password="joao-pass", simultaneous_use=1)
        old = utcnow() - timedelta(hours=2)
        s.add(
            AcctSession(
                nas_id=nas_id, acct_session_id="stale1", login="joao", start_time=old, last_update=old
            )
        )
    assert feed_applied(factory, worker)  # joao's creation is applied
    assert rc.send(nas, rc.pap(nas, "joao", "joao-pass", Calling_Station_Id=MAC)).code == (
        packet.AccessReject
    )  # the stale session counts
    assert sessions_cached(worker, "joao") == ["stale1"]
    with factory.begin() as s:
        assert reap(s, utcnow(), 3.0, 300) == ["joao"]
    assert wait_for(lambda: sessions_cached(worker, "joao") == [])
    with Loads(factory) as loads:
        assert rc.send(nas, rc.pap(nas, "joao", "joao-pass", Calling_Station_Id=MAC)).code == (
            packet.AccessAccept
        )
    assert loads.seen == []


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_concurrent_misses_for_one_login_share_one_load(
    worker: RunningWorker, factory: sessionmaker[Session]
) -> None:
    """Requests that miss while a load of their login runs wait for that load (PostgreSQL: a
    lock on the service table holds the load until every request has arrived)."""
    with factory.begin() as s:
        make_service(s, login="ana", password="ana-pass")
    assert feed_applied(factory, worker)
    clients = [rc.client(worker.auth_port, worker.acct_port, SECRET) for _ in range(6)]
    replies: list[int] = []
    with Loads(factory) as loads, factory() as locker:
        locker.execute(text("LOCK TABLE service IN ACCESS EXCLUSIVE MODE"))
        threads = [
            threading.Thread(target=lambda c=c: replies.append(rc.send(c, rc.pap(c, "ana", "ana-pass")).code))
            for c in clients
        ]
        for t in threads:
            t.start()
        assert wait_for(lambda: worker.worker.misses.in_flight == 1 and shared_loads() >= 5)
        locker.rollback()  # releases the lock: the one load runs
        for t in threads:
            t.join(10)
    assert replies == [packet.AccessAccept] * 6
    assert sum("FROM acct_session" in s for s in loads.seen) == 1, loads.seen  # one load
    assert sessions_cached(worker, "ana") == []
