"""One table of changes, both paths: every change that reaches a login refreshes what its
RADIUS snapshot holds (a change-feed event: the login's, or the plan or pool that every
snapshot on it shares) and, when it changes an online subscriber's answer, enqueues its
enforcement (an outbox row). Both come from aaa.subscribers.reach, so they cannot disagree:
editing the speed of a plan that a service is trialling reaches both (it used to reach only the
outbox, so workers kept answering the old trial speed).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from aaa.audit.log import Actor, act_as
from aaa.db.base import utcnow
from aaa.ipam.assignments import set_fixed_ipv4
from aaa.ipam.subnets import add_pool
from aaa.subscribers.lifecycle import change_status
from aaa.subscribers.overlays import start_trial
from aaa.subscribers.plans import update_plan
from aaa.subscribers.service import update_service
from aaa.tables.accounting import AcctSession
from aaa.tables.changes import ChangeEvent, ChangeKind
from aaa.tables.enforcement import Enforcement
from aaa.tables.ipam import Pool
from aaa.tables.subscribers import BillingMethod, Plan, Service
from aaa.vocabulary.ipam import PoolKind, PoolMode, SubnetPurpose
from aaa.vocabulary.subscribers import ServiceStatus
from tests.conftest import make_nas, make_plan, make_service, make_subnet

Change = Callable[[Session, Service], Any]


def _suspend(s: Session, svc: Service) -> None:
    change_status(s, svc, ServiceStatus.SUSPENDED_DEBT, reason="overdue")


def _plan_speed(s: Session, svc: Service) -> None:
    update_plan(s, svc.plan, download_kbps=svc.plan.download_kbps + 1000)


def _trial_plan_speed(s: Session, svc: Service) -> None:
    assert svc.trial_plan is not None
    update_plan(s, svc.trial_plan, download_kbps=svc.trial_plan.download_kbps + 1000)


def _method_reduction(s: Session, svc: Service) -> None:
    method = s.get(BillingMethod, svc.billing_method_id)
    assert method is not None
    method.reduction_percent = 10
    s.flush()


def _fixed_address(s: Session, svc: Service) -> None:
    set_fixed_ipv4(s, svc, "10.9.0.5", utcnow())


def _plan_pool_renamed(s: Session, svc: Service) -> None:
    pool = s.scalar(select(Pool).where(Pool.name == "reach-pool"))
    assert pool is not None
    pool.name = "reach-pool-2"
    s.flush()


def _service_note(s: Session, svc: Service) -> None:
    update_service(s, svc, nas_port_id="ether9")


# (change, the feed event that refreshes the snapshot, changes the live answer); a plan or pool
# edit is one event for the plan or pool, never one per login on it
TABLE: list[tuple[str, Change, str, bool]] = [
    ("status", _suspend, "login", True),
    ("plan speed", _plan_speed, "plan", True),
    ("trial plan speed", _trial_plan_speed, "trial plan", True),
    ("billing method reduction", _method_reduction, "login", True),
    ("fixed address", _fixed_address, "login", True),
    ("pool of the plan renamed", _plan_pool_renamed, "pool", False),
    ("interface binding", _service_note, "login", False),
]


def _online_trialling(factory: sessionmaker[Session]) -> tuple[int, str]:
    """A service online on a plan using a pool, trialling a faster plan, paying with a method."""
    now = utcnow()
    with factory.begin() as s:
        nas_id = make_nas(s)
        pool = add_pool(s, name="reach-pool", kind=PoolKind.IPV4, mode=PoolMode.NAS)
        base = make_plan(s, name="Base", download=50_000, upload=25_000, ipv4_pool_id=pool.id)
        fast = make_plan(s, name="Fast", download=300_000, upload=150_000)
        make_subnet(s, "10.9.0.0/24", SubnetPurpose.FIXED)
        method = BillingMethod(name="Boleto", reduction="relative", reduction_percent=30)
        s.add(method)
        s.flush()
        svc = make_service(s, login="ana", plan=base)
        svc.billing_method_id = method.id
        start_trial(s, svc, plan=fast, until=now + timedelta(days=7), now=now)
        s.add(
            AcctSession(
                nas_id=nas_id,
                acct_session_id="81a00001",
                login="ana",
                service_id=svc.id,
                start_time=now,
                last_update=now,
            )
        )
        return svc.id, "ana"


def _feed_after(s: Session, watermark: int) -> set[tuple[str, str]]:
    rows = s.execute(select(ChangeEvent.kind, ChangeEvent.keys).where(ChangeEvent.id > watermark))
    return {(kind, key) for kind, keys in rows for key in keys.splitlines()}


@pytest.mark.parametrize(("name", "change", "refreshes", "live"), TABLE, ids=[row[0] for row in TABLE])
def test_a_change_reaches_the_cache_and_the_outbox_alike(
    factory: sessionmaker[Session], name: str, change: Change, refreshes: str, live: bool
) -> None:
    service_id, login = _online_trialling(factory)
    with factory() as s:
        svc = s.get(Service, service_id)
        assert svc is not None and svc.trial_plan_id is not None
        pool = s.scalar(select(Pool.id).where(Pool.name == "reach-pool"))
        expected = {
            "login": (ChangeKind.SERVICE, login),
            "plan": (ChangeKind.PLAN, str(svc.plan_id)),
            "trial plan": (ChangeKind.PLAN, str(svc.trial_plan_id)),
            "pool": (ChangeKind.NAS, f"pool {pool}"),
        }[refreshes]
    with factory() as s:
        watermark = s.scalar(select(ChangeEvent.id).order_by(ChangeEvent.id.desc()).limit(1)) or 0
        s.query(Enforcement).delete()
        s.commit()
    with factory.begin() as s:
        act_as(s, Actor("operator:test", "127.0.0.1"))
        svc = s.get(Service, service_id)
        assert svc is not None
        change(s, svc)
    with factory() as s:
        feed = _feed_after(s, watermark)
        enqueued = s.scalars(select(Enforcement.cause).where(Enforcement.service_id == service_id)).all()
    assert expected in feed, f"{name}: {expected} not in the feed {feed}"
    if refreshes != "login":  # the plan's or pool's subscribers keep their snapshots
        assert (ChangeKind.SERVICE, login) not in feed, f"{name}: {login} dropped"
    assert bool(enqueued) is live, f"{name}: outbox {enqueued}, expected live={live}"


def test_a_new_plan_reaches_nobody(factory: sessionmaker[Session]) -> None:
    _online_trialling(factory)
    with factory() as s:
        watermark = s.scalar(select(ChangeEvent.id).order_by(ChangeEvent.id.desc()).limit(1)) or 0
        s.query(Enforcement).delete()
        s.commit()
    with factory.begin() as s:
        make_plan(s, name="Nobody's", download=10_000, upload=5_000)
    with factory() as s:
        assert _feed_after(s, watermark) == set()
        assert s.scalar(select(Enforcement.id)) is None
        assert s.scalar(select(Plan.id).where(Plan.name == "Nobody's")) is not None
