"""What a worker reads from the database, and when: misses that arrive together are one query
for all their logins; a plan or pool edit is written into the plan every snapshot on it shares,
so it reaches every subscriber without dropping (and reloading) a single snapshot."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from pyrad import packet
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from aaa.ipam.subnets import add_pool
from aaa.subscribers.plans import update_plan
from aaa.tables.ipam import Pool
from aaa.tables.subscribers import Plan
from aaa.vocabulary.ipam import PoolKind, PoolMode
from tests import radius_client as rc
from tests.conftest import SECRET, RunningWorker, feed_applied, make_plan, make_service, wait_for
from tests.integration.test_sessions_in_place import Loads

LOGINS = [f"lote{n:02d}" for n in range(40)]


def rate(reply: Any) -> str:
    return str(reply["Mikrotik-Rate-Limit"][0])


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_misses_that_arrive_together_are_one_query(
    worker: RunningWorker, factory: sessionmaker[Session]
) -> None:
    """40 logins nobody asked for yet, all at once, while a lock holds the first loads: the
    requests queued meanwhile go to the database as one query, not 40."""
    with factory.begin() as s:
        for login in LOGINS:
            make_service(s, login=login, password=f"{login}-pass")
    assert feed_applied(factory, worker)
    replies: list[int] = []
    with Loads(factory) as loads, factory() as locker:
        locker.execute(text("LOCK TABLE service IN ACCESS EXCLUSIVE MODE"))
        threads = [
            threading.Thread(
                target=lambda login=login: replies.append(
                    rc.send(
                        # They wait behind the lock for as long as starting 40 threads takes
                        # (seconds on a loaded CI machine): more than a NAS's usual 2 s.
                        client := rc.client(worker.auth_port, 0, SECRET, timeout=15.0),
                        rc.pap(client, login, f"{login}-pass"),
                    ).code
                )
            )
            for login in LOGINS
        ]
        for t in threads:
            t.start()
        assert wait_for(lambda: worker.worker.misses.in_flight == len(LOGINS))
        locker.rollback()  # the loads run: the two held by the lock, then one for the rest
        for t in threads:
            t.join(20)
    assert replies == [packet.AccessAccept] * len(LOGINS)
    services = [s for s in loads.seen if "FROM service" in s]
    assert len(services) <= 3, services
    assert sum("FROM acct_session" in s for s in loads.seen) == len(services)  # sessions: one per batch
    assert all(worker.worker.cache._entries[login].subscriber for login in LOGINS)


@pytest.mark.parametrize("db_url", ["postgresql", "sqlite"], indirect=True)
def test_a_plan_edit_reaches_every_snapshot_without_a_reload(
    worker: RunningWorker, factory: sessionmaker[Session]
) -> None:
    with factory.begin() as s:
        plan = make_plan(s, name="Fibra 50M", download=50_000, upload=25_000)
        trial = make_plan(s, name="Fibra 1G", download=1_000_000, upload=500_000)
        for login in LOGINS[:10]:
            make_service(s, login=login, password=f"{login}-pass", plan=plan)
        plan_id, trial_id = plan.id, trial.id
    assert feed_applied(factory, worker)
    nas = rc.client(worker.auth_port, worker.acct_port, SECRET)
    for login in LOGINS[:10]:  # every snapshot loaded
        assert rate(rc.send(nas, rc.pap(nas, login, f"{login}-pass"))) == "25M/50M"
    snapshots = {login: worker.worker.cache._entries[login].subscriber for login in LOGINS[:10]}

    with Loads(factory) as loads:
        with factory.begin() as s:
            edited = s.get(Plan, plan_id)
            assert edited is not None
            update_plan(s, edited, download_kbps=60_000)
        assert feed_applied(factory, worker)
        assert wait_for(lambda: worker.worker.plans.of(None, plan_id).download_kbps == 60_000)  # type: ignore[arg-type]
        for login in LOGINS[:10]:
            assert rate(rc.send(nas, rc.pap(nas, login, f"{login}-pass"))) == "25M/60M"
    assert loads.seen == []  # no snapshot was loaded again
    assert all(worker.worker.cache._entries[login].subscriber is snapshots[login] for login in snapshots)
    assert worker.worker.plans.of(None, trial_id).download_kbps == 1_000_000  # type: ignore[arg-type]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_pool_renamed_reaches_the_plan_in_every_snapshot(
    worker: RunningWorker, factory: sessionmaker[Session]
) -> None:
    """The plan's pool goes to the NAS by name (Framed-Pool): renamed, every subscriber on the
    plan gets the new name, from the snapshot it has."""
    with factory.begin() as s:
        pool = add_pool(s, name="cgnat-a", kind=PoolKind.IPV4, mode=PoolMode.NAS)
        plan = make_plan(s, name="Com pool", ipv4_pool_id=pool.id)
        make_service(s, login="ana", password="ana-pass", plan=plan)
    assert feed_applied(factory, worker)
    nas = rc.client(worker.auth_port, worker.acct_port, SECRET)
    assert rc.send(nas, rc.pap(nas, "ana", "ana-pass"))["Framed-Pool"] == ["cgnat-a"]
    with Loads(factory) as loads:
        with factory.begin() as s:
            renamed = s.scalar(select(Pool).where(Pool.name == "cgnat-a"))
            assert renamed is not None
            renamed.name = "cgnat-b"
        assert feed_applied(factory, worker)
        assert wait_for(
            lambda: rc.send(nas, rc.pap(nas, "ana", "ana-pass"))["Framed-Pool"] == ["cgnat-b"], timeout=5
        )
    assert loads.seen == []
