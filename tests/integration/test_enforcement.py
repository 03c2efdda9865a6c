"""Live enforcement against real wire formats: a UDP CoA/Disconnect responder that behaves like
RouterOS and a RouterOS API server speaking the sentence protocol to librouteros.

Every test runs on SQLite and PostgreSQL. The enforcer runs in the test's own event loop, one
round at a time, so what it did can be checked in between.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from pyrad import packet
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session, sessionmaker

from aaa.audit.log import Actor, act_as
from aaa.db.base import utcnow
from aaa.enforcement import outbox as outbox_module
from aaa.enforcement.enforcer import Enforcer
from aaa.settings import Settings, load_settings
from aaa.subscribers import overlays
from aaa.subscribers.lifecycle import change_status
from aaa.subscribers.service import update_service
from aaa.tables.accounting import AcctSession, AuthLog, AuthResult, ClosedBy
from aaa.tables.enforcement import Enforcement, EnforcementAttempt, EnforcementState
from aaa.tables.nas import Nas
from aaa.tables.subscribers import BillingMethod, Service
from aaa.vocabulary.subscribers import ServiceStatus
from tests import radius_client as rc
from tests.conftest import (
    SECRET,
    RunningWorker,
    make_nas,
    make_service,
    start_worker,
    stop_worker,
    test_settings,
    wait_for,
)
from tests.fakes.coa_responder import CoaResponder
from tests.fakes.routeros_api import RouterOsFake

PLAN_RATE: dict[str, Any] = {"rate": "50M/100M", "address_list": None, "addresses": []}


def settings_for(db_url: str, **policy: Any) -> Settings:
    return load_settings(
        None,
        database_url=db_url,
        policy=policy,
        enforcer={
            "timeout": 0.15,
            "retransmits": 1,
            "backoff_seconds": 0.01,
            "max_attempts": 2,
            "breaker_failures": 1000,
        },
        metrics={"enabled": False},
    )


def enforce(settings: Settings, factory: sessionmaker[Session], rounds: int = 10) -> int:
    """Run enforcer rounds until nothing is due (or ``rounds``); returns the rows handled."""

    async def main() -> int:
        enforcer = Enforcer(settings, factory)
        await enforcer.start()
        handled = 0
        try:
            for _ in range(rounds):
                done = await enforcer.run_once()
                handled += done
                if not done:
                    break
        finally:
            enforcer.close()
        return handled

    return asyncio.run(main())


@pytest.fixture
def responder() -> Iterator[CoaResponder]:
    with CoaResponder(SECRET) as r:
        yield r


@pytest.fixture
def router() -> Iterator[RouterOsFake]:
    with RouterOsFake() as r:
        yield r


def add_nas(
    factory: sessionmaker[Session], responder: CoaResponder, router: RouterOsFake | None = None
) -> int:
    api: dict[str, Any] = (
        {"api_port": router.port, "api_username": "admin", "api_password": "secret"} if router else {}
    )
    with factory.begin() as s:
        return make_nas(s, coa_port=responder.port, **api)


def go_online(
    factory: sessionmaker[Session],
    login: str,
    nas_id: int,
    session_id: str,
    ip: str,
    responder: CoaResponder | None = None,
    router: RouterOsFake | None = None,
    granted: dict[str, Any] | None = PLAN_RATE,
) -> int:
    """An Access-Accept (in the auth log, with what it granted) and its Accounting-Start."""
    now = utcnow()
    with factory.begin() as s:
        service = s.scalar(select(Service).where(Service.login == login))
        assert service is not None
        s.add(
            AuthLog(
                time=now - timedelta(seconds=1),
                nas_id=nas_id,
                login=login,
                service_id=service.id,
                method="pap",
                result=AuthResult.ACCEPT,
                granted=granted,
            )
        )
        s.add(
            AcctSession(
                nas_id=nas_id,
                acct_session_id=session_id,
                login=login,
                service_id=service.id,
                framed_ip=ip,
                start_time=now,
                last_update=now,
            )
        )
        service_id = service.id
    if responder:
        responder.online(login, session_id)
    if router:
        router.add_active(login, ip, session_id)
    return service_id


def service(factory: sessionmaker[Session], login: str, **extra: Any) -> int:
    with factory.begin() as s:
        return make_service(s, login=login, **extra).id


def change(factory: sessionmaker[Session], service_id: int, func: Any, **kwargs: Any) -> None:
    with factory.begin() as s:
        act_as(s, Actor("operator:test", "127.0.0.1"))
        func(s, s.get(Service, service_id), **kwargs)


def attempts(factory: sessionmaker[Session], service_id: int) -> list[tuple[str, str]]:
    with factory() as s:
        rows = s.scalars(
            select(EnforcementAttempt)
            .where(EnforcementAttempt.service_id == service_id)
            .order_by(EnforcementAttempt.id)
        )
        return [(a.method.value, a.result.value) for a in rows]


def outbox(factory: sessionmaker[Session], service_id: int) -> list[Enforcement]:
    with factory() as s:
        return list(
            s.scalars(
                select(Enforcement).where(Enforcement.service_id == service_id).order_by(Enforcement.id)
            )
        )


def maria_online(
    db_url: str,
    factory: sessionmaker[Session],
    responder: CoaResponder,
    router: RouterOsFake | None = None,
    **policy: Any,
) -> tuple[Settings, int, int]:
    """Settings, a NAS (with the RouterOS API when ``router``) and maria online on it."""
    nas_id = add_nas(factory, responder, router)
    service_id = service(factory, "maria")
    go_online(factory, "maria", nas_id, "81a00001", "100.64.0.7", responder, router)
    return settings_for(db_url, **policy), nas_id, service_id


def crowd(factory: sessionmaker[Session], responder: CoaResponder, nas_id: int, count: int) -> list[int]:
    """``count`` subscribers online, all given a custom speed in one transaction."""
    ids = []
    for n in range(count):
        ids.append(service(factory, f"user{n}"))
        go_online(factory, f"user{n}", nas_id, f"81a{n:05x}", f"100.64.1.{n + 1}", responder)
    with factory.begin() as s:
        for service_id in ids:
            overlays.set_custom_speed(s, s.get(Service, service_id), **custom(20_000, 10_000))  # type: ignore[arg-type]
    return ids


def custom(download: int, upload: int, until: Any = None) -> dict[str, Any]:
    return {"download_kbps": download, "upload_kbps": upload, "until": until, "now": utcnow()}


# --- end to end: worker, API, enforcer, responder -------------------------------------------------


def test_custom_speed_from_the_api_reaches_the_online_subscriber(
    db_url: str, factory: sessionmaker[Session], responder: CoaResponder, api: Any
) -> None:
    settings = settings_for(db_url)
    with factory.begin() as s:
        nas_id = make_nas(s, coa_port=responder.port)
        service_id = make_service(s, login="maria", password="pw").id
    running: RunningWorker = start_worker(test_settings(db_url), factory)
    try:
        client = rc.client(running.auth_port, running.acct_port, SECRET)
        assert rc.send(client, rc.pap(client, "maria", "pw")).code == packet.AccessAccept
        start = rc.accounting(client, "Start", "maria", "81a00001", Framed_IP_Address="100.64.0.7")
        assert rc.send(client, start).code == packet.AccountingResponse
        responder.online("maria", "81a00001")
        assert wait_for(lambda: _granted(factory, "maria"))  # the auth log keeps what the accept gave
    finally:
        stop_worker(running)

    until = (utcnow() + timedelta(hours=2)).isoformat()
    api.put(
        f"/services/{service_id}/custom-speed",
        {"download_kbps": 300_000, "upload_kbps": 150_000, "until": until},
    )
    assert enforce(settings, factory) == 1
    coa = responder.received[-1]
    assert coa.code == packet.CoARequest
    assert coa.first("Mikrotik-Rate-Limit") == "150M/300M"  # rx/tx: upload/download
    assert (coa.first("User-Name"), coa.first("Acct-Session-Id"), coa.first("Framed-IP-Address")) == (
        "maria",
        "81a00001",
        "100.64.0.7",
    )
    history = api.get(f"/services/{service_id}/enforcement")["items"]
    assert (
        history[0]["state"] == "done"
        and history[0]["cause"] == "changed: custom_download_kbps, custom_until, custom_upload_kbps"
    )
    assert [(a["method"], a["result"], a["nas_id"]) for a in history[0]["attempt_log"]] == [
        ("coa", "ack", nas_id)
    ]

    # The custom speed's end passes (frozen clock): the scheduled expiry puts the plan speed back.
    with factory.begin() as s:
        act_as(s, Actor("scheduler", "local"))
        assert overlays.expire_overlays(s, utcnow() + timedelta(hours=3)) == [service_id]
    assert enforce(settings, factory) == 1
    assert responder.received[-1].first("Mikrotik-Rate-Limit") == "50M/100M"
    # Nothing changed since: a reconcile finds the session in sync and sends nothing.
    assert api.post("/enforcement/reconcile")[0]["reapplied"] == []
    assert len(responder.received) == 2


def _granted(factory: sessionmaker[Session], login: str) -> Any:
    with factory() as s:
        return s.scalar(select(AuthLog.granted).where(AuthLog.login == login))


def test_suspension_into_the_address_list_and_back(
    db_url: str, factory: sessionmaker[Session], responder: CoaResponder, router: RouterOsFake
) -> None:
    settings, _nas_id, service_id = maria_online(
        db_url, factory, responder, router, suspended_action="address_list", blocked_address_list="overdue"
    )

    change(
        factory, service_id, change_status, target=ServiceStatus.SUSPENDED_DEBT, reason="invoice 12 overdue"
    )
    enforce(settings, factory)
    assert router.rows("/ip/firewall/address-list") == [
        {".id": "*2", "list": "overdue", "address": "100.64.0.7", "comment": "maria"}
    ]
    assert responder.received[-1].first("Mikrotik-Rate-Limit") == "512k/512k"
    assert attempts(factory, service_id) == [("api_address_list", "ack"), ("coa", "ack")]

    # Trust unlock (reason and date required): out of the list, plan speed, without a reconnect.
    change(
        factory,
        service_id,
        overlays.trust_unlock,
        until=utcnow() + timedelta(days=2),
        reason="promised to pay on Friday",
        now=utcnow(),
        settings=settings.policy,
        granted_by="operator:test",
    )
    enforce(settings, factory)
    assert router.rows("/ip/firewall/address-list") == []
    assert responder.received[-1].first("Mikrotik-Rate-Limit") == "50M/100M"
    assert router.rows("/ppp/active")  # still online

    # The payment clears the debt: enabled, and the decision is already what the session has.
    change(factory, service_id, change_status, target=ServiceStatus.ENABLED, reason="paid")
    enforce(settings, factory)
    assert attempts(factory, service_id)[-1] == ("none", "in_sync")
    assert len(responder.received) == 2


def test_suspension_without_the_api_uses_coa_then_reconnects_to_leave(
    db_url: str, factory: sessionmaker[Session], responder: CoaResponder
) -> None:
    settings, _nas_id, service_id = maria_online(db_url, factory, responder, suspended_action="address_list")
    change(factory, service_id, change_status, target=ServiceStatus.SUSPENDED_DEBT, reason="overdue")
    enforce(settings, factory)
    coa = responder.received[-1]
    assert (coa.code, coa.first("Mikrotik-Address-List"), coa.first("Mikrotik-Rate-Limit")) == (
        packet.CoARequest,
        "blocked",
        "512k/512k",
    )
    # CoA cannot take an address off a list: the payment disconnects, the re-login is clean.
    change(factory, service_id, change_status, target=ServiceStatus.ENABLED, reason="paid")
    enforce(settings, factory)
    assert responder.received[-1].code == packet.DisconnectRequest
    assert attempts(factory, service_id)[-1] == ("disconnect", "ack")


def test_suspension_when_the_isp_rejects_disconnects(
    db_url: str, factory: sessionmaker[Session], responder: CoaResponder
) -> None:
    settings = settings_for(db_url)  # suspended_action = reject
    nas_id = add_nas(factory, responder)
    service_id = service(factory, "maria")
    go_online(factory, "maria", nas_id, "81a00001", "100.64.0.7", responder)
    change(factory, service_id, change_status, target=ServiceStatus.SUSPENDED_DEBT, reason="overdue")
    enforce(settings, factory)
    request = responder.received[-1]
    assert request.code == packet.DisconnectRequest and "Mikrotik-Rate-Limit" not in request.attributes
    assert responder.sessions == set()
    assert outbox(factory, service_id)[-1].state is EnforcementState.DONE


def test_reduced_speed_and_plan_trial_are_live_changes(
    db_url: str, factory: sessionmaker[Session], responder: CoaResponder
) -> None:
    settings = settings_for(
        db_url, reduction="absolute", reduction_download_kbps=2000, reduction_upload_kbps=1000
    )
    nas_id = add_nas(factory, responder)
    service_id = service(factory, "maria")
    go_online(factory, "maria", nas_id, "81a00001", "100.64.0.7", responder)
    change(factory, service_id, change_status, target=ServiceStatus.REDUCED_DEBT, reason="overdue")
    enforce(settings, factory)
    assert responder.received[-1].first("Mikrotik-Rate-Limit") == "1M/2M"
    change(factory, service_id, change_status, target=ServiceStatus.ENABLED, reason="paid")
    with factory.begin() as s:
        from tests.conftest import make_plan

        fast = make_plan(s, name="Fibra 300M", download=300_000, upload=150_000)
        act_as(s, Actor("operator:test", "127.0.0.1"))
        maria = s.get(Service, service_id)
        assert maria is not None
        overlays.start_trial(s, maria, plan=fast, until=utcnow() + timedelta(days=7), now=utcnow())
    enforce(settings, factory)
    assert responder.received[-1].first("Mikrotik-Rate-Limit") == "150M/300M"
    assert attempts(factory, service_id) == [("coa", "ack"), ("coa", "ack")]  # paid + trial: one round


# --- failures: silence, NAK, wrong secret, the breaker ------------------------------------------------


def test_silent_nas_falls_back_to_the_api(
    db_url: str, factory: sessionmaker[Session], responder: CoaResponder, router: RouterOsFake
) -> None:
    settings, _nas_id, service_id = maria_online(db_url, factory, responder, router)
    responder.silent = True
    change(factory, service_id, overlays.set_custom_speed, **custom(20_000, 10_000))
    enforce(settings, factory)
    assert attempts(factory, service_id) == [("coa", "timeout"), ("api_kick", "ack")]
    assert router.rows("/ppp/active") == []  # kicked: the redial gets the custom speed
    assert responder.ignored == 2  # sent twice (one retransmission), same packet
    with factory() as s:
        detail = s.scalars(
            select(EnforcementAttempt.detail).where(EnforcementAttempt.service_id == service_id)
        ).all()
    assert detail[0] == f"127.0.0.1:{responder.port}: no answer after 2 transmissions"  # where it went


def test_silent_nas_without_api_is_retried_then_failed(
    db_url: str, factory: sessionmaker[Session], responder: CoaResponder
) -> None:
    settings, _nas_id, service_id = maria_online(db_url, factory, responder)
    responder.silent = True
    change(factory, service_id, overlays.set_custom_speed, **custom(20_000, 10_000))
    enforce(settings, factory, rounds=1)
    row = outbox(factory, service_id)[-1]
    assert (row.state, row.attempts) == (EnforcementState.PENDING, 1) and row.outcome.startswith(
        "round 1 failed"
    )
    time.sleep(0.05)  # the backoff
    enforce(settings, factory)
    row = outbox(factory, service_id)[-1]
    assert (row.state, row.attempts) == (EnforcementState.FAILED, 2)
    assert attempts(factory, service_id) == [("coa", "timeout"), ("disconnect", "timeout")] * 2


def test_unknown_session_nak_503_and_wrong_secret(
    db_url: str, factory: sessionmaker[Session], responder: CoaResponder
) -> None:
    settings = settings_for(db_url)
    nas_id = add_nas(factory, responder)
    service_id = service(factory, "maria")
    go_online(factory, "maria", nas_id, "81a00001", "100.64.0.7")  # the NAS does not have it
    change(factory, service_id, overlays.set_custom_speed, **custom(20_000, 10_000))
    enforce(settings, factory)
    assert attempts(factory, service_id) == [("coa", "nak"), ("disconnect", "gone")]
    with factory() as s:
        causes = s.scalars(
            select(EnforcementAttempt.error_cause).where(EnforcementAttempt.service_id == service_id)
        ).all()
    assert causes == [503, 503]
    assert outbox(factory, service_id)[-1].state is EnforcementState.DONE

    with factory.begin() as s:
        s.get(Nas, nas_id).secret = "not-what-the-nas-has"  # type: ignore[union-attr]
    responder.online("maria", "81a00001")
    change(factory, service_id, overlays.set_custom_speed, **custom(30_000, 10_000))
    enforce(settings, factory, rounds=1)
    assert responder.ignored >= 2 and attempts(factory, service_id)[-2:] == [
        ("coa", "timeout"),
        ("disconnect", "timeout"),
    ]


def test_breaker_and_concurrency_keep_a_dead_nas_cheap(
    db_url: str, factory: sessionmaker[Session], responder: CoaResponder
) -> None:
    settings = settings_for(db_url)
    settings.enforcer.breaker_failures = 3
    nas_id = add_nas(factory, responder)
    responder.silent = True
    ids = crowd(factory, responder, nas_id, 20)
    started = time.monotonic()
    enforce(settings, factory, rounds=1)
    elapsed = time.monotonic() - started
    # Concurrent: 20 rows cost about one row's timeouts, not twenty.
    assert elapsed < 20 * 2 * 0.3
    results = [a for i in ids for a in attempts(factory, i)]
    assert any(result == "circuit_open" for _, result in results)
    assert responder.ignored < 20 * 4  # the open circuit stopped sending


# --- the outbox itself ------------------------------------------------------------------------------


def test_outbox_rows_follow_the_transaction(
    db_url: str, factory: sessionmaker[Session], responder: CoaResponder
) -> None:
    nas_id = add_nas(factory, responder)
    online = service(factory, "maria")
    offline = service(factory, "joao")
    go_online(factory, "maria", nas_id, "81a00001", "100.64.0.7", responder)
    with factory() as s:
        overlays.set_custom_speed(s, s.get(Service, online), **custom(20_000, 10_000))  # type: ignore[arg-type]
        s.rollback()
    assert outbox(factory, online) == []  # a rolled back change is never enforced
    change(factory, offline, overlays.set_custom_speed, **custom(20_000, 10_000))
    assert outbox(factory, offline) == []  # nobody online to change
    change(factory, online, overlays.set_custom_speed, **custom(20_000, 10_000))
    change(factory, online, overlays.set_custom_speed, **custom(30_000, 10_000))
    change(factory, online, update_service, password="new")
    assert len(outbox(factory, online)) == 1  # coalesced; a password change alters no live session


def test_plan_speed_edit_reaches_its_online_subscribers(
    db_url: str, factory: sessionmaker[Session], responder: CoaResponder
) -> None:
    settings, _nas_id, service_id = maria_online(db_url, factory, responder)
    with factory.begin() as s:
        s.get(Service, service_id).plan.download_kbps = 200_000  # type: ignore[union-attr]
    enforce(settings, factory)
    assert responder.received[-1].first("Mikrotik-Rate-Limit") == "50M/200M"


# --- the reconciler -----------------------------------------------------------------------------------


def test_reconciler_closes_flags_and_reapplies(
    db_url: str, factory: sessionmaker[Session], responder: CoaResponder, router: RouterOsFake, api: Any
) -> None:
    settings = settings_for(db_url)
    nas_id = add_nas(factory, responder, router)
    maria = service(factory, "maria")
    service(factory, "joao")
    go_online(factory, "maria", nas_id, "81a00001", "100.64.0.7", responder, router)
    go_online(factory, "joao", nas_id, "81a00002", "100.64.0.8")  # its Stop was lost: not on the NAS
    router.add_active("pedro", "100.64.0.9")  # online, but its Start never reached us
    # An enforcement that failed for good leaves maria's session drifted.
    responder.silent = True
    with factory.begin() as s:
        s.get(Nas, nas_id).api_username = None  # type: ignore[union-attr]
    change(factory, maria, overlays.set_custom_speed, **custom(20_000, 10_000))
    # Rounds until its backoff has passed and its attempts are spent.
    assert wait_for(
        lambda: (
            enforce(settings, factory) >= 0 and outbox(factory, maria)[-1].state is EnforcementState.FAILED
        )
    )
    with factory.begin() as s:
        s.get(Nas, nas_id).api_username = "admin"  # type: ignore[union-attr]
    responder.silent = False

    [report] = api.post("/enforcement/reconcile", params={"nas_id": nas_id})
    assert report["source"] == "routeros"
    assert report["closed"] == ["joao (81a00002)"]
    assert report["unknown"] == ["pedro (100.64.0.9)"]
    assert report["reapplied"] == [maria]
    with factory() as s:
        joao = s.scalar(select(AcctSession).where(AcctSession.login == "joao"))
        assert joao is not None and joao.closed_by is ClosedBy.RECONCILE and joao.stop_time is not None
    enforce(settings, factory)
    assert responder.received[-1].first("Mikrotik-Rate-Limit") == "10M/20M"
    assert api.post("/enforcement/reconcile", params={"nas_id": nas_id})[0]["reapplied"] == []


def test_two_enforcers_share_the_outbox_without_doubles(
    pg_database: str, pg_factory: sessionmaker[Session], responder: CoaResponder
) -> None:
    """PostgreSQL: two enforcers (two nodes) claim rows with SKIP LOCKED; each change is sent once."""
    settings = settings_for(pg_database)
    nas_id = add_nas(pg_factory, responder)
    crowd(pg_factory, responder, nas_id, 40)

    async def both() -> list[int]:
        nodes = [Enforcer(settings, pg_factory), Enforcer(settings, pg_factory)]
        for node in nodes:
            await node.start()
        try:
            return list(await asyncio.gather(*(node.run_once(limit=25) for node in nodes)))
        finally:
            for node in nodes:
                node.close()

    handled = asyncio.run(both())
    assert sum(handled) == 40 and all(handled)  # both worked, and between them took every row once
    assert len(responder.received) == 40
    assert sorted(r.first("User-Name") for r in responder.received) == sorted(f"user{n}" for n in range(40))


def test_billing_method_reduction_edit_reaches_reduced_subscribers(
    db_url: str, factory: sessionmaker[Session], responder: CoaResponder
) -> None:
    settings, _, service_id = maria_online(db_url, factory, responder)
    with factory.begin() as s:
        method = BillingMethod(name="Boleto", reduction="relative", reduction_percent=50)
        s.add(method)
        s.flush()
        maria = s.get(Service, service_id)
        assert maria is not None
        maria.billing_method_id = method.id
        change_status(s, maria, ServiceStatus.REDUCED_DEBT, reason="overdue")
    enforce(settings, factory)
    assert responder.received[-1].first("Mikrotik-Rate-Limit") == "25M/50M"
    with factory.begin() as s:
        found = s.get(BillingMethod, method.id)
        assert found is not None
        found.reduction_percent = 10
    enforce(settings, factory)
    assert responder.received[-1].first("Mikrotik-Rate-Limit") == "5M/10M"


def test_a_plan_edit_reaching_more_services_than_a_chunk_looks_them_up_once(
    pg_database: str, pg_factory: sessionmaker[Session], responder: CoaResponder
) -> None:
    """PostgreSQL: the outbox finds the online services of a plan edit with one query whatever
    their number (an array parameter); a query per 10,000 services scanned every open session
    each time. Every online service on the plan gets its row, the offline ones none."""
    count = outbox_module._CHUNK + 500
    nas_id = add_nas(pg_factory, responder)
    template = service(pg_factory, "template")
    with pg_factory.begin() as s:
        columns = [c.name for c in Service.__table__.columns if c.name not in ("id", "login")]
        names = ", ".join(columns)
        s.execute(
            text(
                f"INSERT INTO service (login, {names}) SELECT 'many' || n, {names} "
                "FROM service, generate_series(1, :count) AS n WHERE service.id = :template"
            ),
            {"count": count, "template": template},
        )
        s.execute(  # every other copy online
            text(
                "INSERT INTO acct_session (nas_id, acct_session_id, login, service_id, start_time, "
                "last_update, session_time, input_octets, output_octets, input_packets, output_packets) "
                "SELECT :nas, 'm' || id, login, id, now(), now(), 0, 0, 0, 0, 0 FROM service "
                "WHERE login LIKE 'many%' AND id % 2 = 0"
            ),
            {"nas": nas_id},
        )
        online = set(s.scalars(select(AcctSession.service_id).where(AcctSession.stop_time.is_(None))))
    lookups: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM acct_session" in statement and "DISTINCT" in statement.upper():
            lookups.append(statement)

    engine = pg_factory.kw["bind"]
    event.listen(engine, "before_cursor_execute", seen)
    try:
        with pg_factory.begin() as s:
            s.get(Service, template).plan.download_kbps = 200_000  # type: ignore[union-attr]
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert len(lookups) == 1
    with pg_factory() as s:
        queued = set(s.scalars(select(Enforcement.service_id)))
    assert len(online) == (count + 1) // 2 and queued == online
