"""IPAM on SQLite and PostgreSQL: subnets, next free, fixed assignment and its errors, leases and
their release, reports, imports; and, on PostgreSQL, 50 threads assigning from one subnet."""

from __future__ import annotations

import re
import threading
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from aaa.accounting.records import AcctRecord, StatusType
from aaa.accounting.store import apply_records
from aaa.composition import session_factory
from aaa.db.base import utcnow
from aaa.db.engine import make_engine
from aaa.db.migrate import upgrade
from aaa.errors import Conflict, Invalid, NotFound
from aaa.ipam import allocator, assignments, importer, reports, subnets
from aaa.snapshots import load_subscriber
from aaa.subscribers.lifecycle import change_status
from aaa.subscribers.migration import migrate_plan
from aaa.tables.audit import AuditEntry
from aaa.tables.ipam import IpAssignment
from aaa.vocabulary.ipam import AssignmentKind, PoolKind, PoolMode, ReleaseReason, SubnetPurpose
from aaa.vocabulary.subscribers import ServiceStatus
from tests.conftest import PG_URL, make_nas, make_plan, make_service, make_subnet

NOW = utcnow()


def test_next_free_skips_network_gateway_reservations_and_exclusions(factory: sessionmaker[Session]) -> None:
    with factory.begin() as s:
        net = make_subnet(s, "10.0.0.0/24", gateway="10.0.0.1")
        subnets.hold(s, net, AssignmentKind.RESERVED, "10.0.0.2", note="OLT", now=NOW)
        subnets.exclude(s, net, "10.0.0.3", "10.0.0.9", note="NAS range", now=NOW)
        assert allocator.next_free(s, net) == "10.0.0.10"
        assert allocator.next_free(s, net, 29) == "10.0.0.16/29"  # 10.0.0.8/29 overlaps the exclusion
        service = make_service(s, login="maria")
        assignments.assign_fixed(s, service, subnet_id=net.id, now=NOW)
        assert allocator.next_free(s, net) == "10.0.0.11"


def test_next_free_reads_past_the_first_page_of_gaps(factory: sessionmaker[Session]) -> None:
    with factory.begin() as s:
        net = make_subnet(s, "10.1.0.0/22")
        for offset in range(2, 1000, 2):  # 499 one-address holes: no room for a /30 below .1000
            subnets.hold(
                s, net, AssignmentKind.RESERVED, f"10.1.{offset // 256}.{offset % 256}", note="", now=NOW
            )
        assert allocator.next_free(s, net) == "10.1.0.1"
        assert allocator.next_free(s, net, 30) == "10.1.3.232/30"  # offset 1000


def test_next_free_stays_the_lowest_as_addresses_come_and_go(factory: sessionmaker[Session]) -> None:
    with factory.begin() as s:
        net = make_subnet(s, "10.0.0.0/24")
        services = [make_service(s, login=f"u{i}") for i in range(4)]
        held = [assignments.assign_fixed(s, sv, subnet_id=net.id, now=NOW) for sv in services]
        assert [h.address for h in held] == ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"]
        assignments.unassign(s, services[1], held[1].id, NOW)
        assert allocator.next_free(s, net) == "10.0.0.2"
        assert assignments.assign_fixed(s, services[1], subnet_id=net.id, now=NOW).address == "10.0.0.2"
        change_status(s, services[0], ServiceStatus.CANCELLED, reason="gone")
        assert allocator.next_free(s, net) == "10.0.0.1"
        other = make_subnet(s, "10.0.1.0/24")
        subnets.exclude(s, other, "10.0.1.0", "10.0.1.9", note="starts below the usable range", now=NOW)
        assert allocator.next_free(s, other) == "10.0.1.10"


def test_fixed_assignment_errors_name_the_conflict(factory: sessionmaker[Session]) -> None:
    with factory.begin() as s:
        net = make_subnet(s, "100.64.0.0/24", gateway="100.64.0.1")
        subnets.hold(s, net, AssignmentKind.RESERVED, "100.64.0.5", note="router da torre", now=NOW)
        subnets.exclude(s, net, "100.64.0.200", "100.64.0.210", note="CGNAT", now=NOW)
        maria, joao = make_service(s, login="maria"), make_service(s, login="joao")
        assignments.assign_fixed(s, maria, address="100.64.0.7", now=NOW)
        cases = {
            "100.64.0.7": f"100.64.0.7 is already assigned to service {maria.id} (login 'maria')",
            "100.64.0.5": "100.64.0.5 is reserved: router da torre",
            "100.64.0.1": "100.64.0.1 is the subnet's gateway",
            "100.64.0.205": "100.64.0.205 overlaps 100.64.0.200-100.64.0.210, which is excluded: CGNAT",
            "100.64.0.0": "includes the network address of 100.64.0.0/24",
            "100.64.0.255": "includes the broadcast address",
        }
        for address, message in cases.items():
            with pytest.raises(Conflict, match=re.escape(message)):
                assignments.assign_fixed(s, joao, address=address, now=NOW)
        with pytest.raises(Invalid, match=r"no subnet contains 192.0.2.1"):
            assignments.assign_fixed(s, joao, address="192.0.2.1", now=NOW)
        with pytest.raises(Invalid, match=r"100.64.1.1 is outside 100.64.0.0/24"):
            assignments.assign_fixed(s, joao, subnet_id=net.id, address="100.64.1.1", now=NOW)
        with pytest.raises(Conflict, match=r"already has 100.64.0.7 as its Framed-IP-Address"):
            assignments.assign_fixed(s, maria, address="100.64.0.8", now=NOW)
        block = assignments.assign_fixed(s, maria, subnet_id=net.id, length=29, now=NOW)  # routed block: fine
        assert block.address == "100.64.0.8/29"
        pool = subnets.add_pool(s, "clientes", PoolKind.IPV4, PoolMode.SERVER)
        dynamic = make_subnet(s, "100.65.0.0/24", SubnetPurpose.DYNAMIC, pool_id=pool.id)
        with pytest.raises(Conflict, match="is a dynamic pool; fixed addresses come from fixed"):
            assignments.assign_fixed(s, joao, subnet_id=dynamic.id, now=NOW)


def test_subnets_never_overlap_and_pools_match_their_subnets(factory: sessionmaker[Session]) -> None:
    with factory.begin() as s:
        make_subnet(s, "10.0.0.0/16")
        with pytest.raises(
            Conflict, match=r"10.0.4.0/22 overlaps subnet \d+ \(10.0.0.0/16\) in folder 'Test'"
        ):
            make_subnet(s, "10.0.4.0/22")
        v6 = subnets.add_pool(s, "v6", PoolKind.IPV6)
        with pytest.raises(Invalid, match="must be a ipv4 pool; pool 'v6' is ipv6"):
            make_subnet(s, "10.1.0.0/24", SubnetPurpose.DYNAMIC, pool_id=v6.id)
        with pytest.raises(Invalid, match="prefix delegation is IPv6 only"):
            make_subnet(s, "10.2.0.0/24", SubnetPurpose.DELEGATION)
        with pytest.raises(Invalid, match="a fixed subnet belongs to no pool"):
            make_subnet(s, "10.3.0.0/24", pool_id=v6.id)
        with pytest.raises(Invalid, match="unit_len is 32"):
            make_subnet(s, "10.4.0.0/24", unit_len=30)
        with pytest.raises(Invalid, match="must be a ipv4 pool"):
            make_plan(s, name="bad", ipv4_pool_id=v6.id)


def test_reply_attributes_of_fixed_addresses(factory: sessionmaker[Session]) -> None:
    with factory.begin() as s:
        make_subnet(s, "203.0.113.0/24")
        make_subnet(s, "2001:db8::/40", SubnetPurpose.DELEGATION)
        make_subnet(s, "2001:db9::/48")  # fixed IPv6: a /64 per holder
        service = make_service(s, login="empresa", fixed_ipv4="203.0.113.10")
        assignments.assign_fixed(s, service, address="203.0.113.16/29", now=NOW)
        assignments.assign_fixed(s, service, address="2001:db8:1:100::/56", now=NOW)
        assignments.assign_fixed(s, service, address="2001:db9:0:7::/64", now=NOW)
    with factory() as s:
        sub = load_subscriber(s, "empresa")
    assert sub is not None and set(sub.fixed) == {
        ("Framed-IP-Address", "203.0.113.10"),
        ("Framed-Route", "203.0.113.16/29 0.0.0.0 1"),
        ("Delegated-IPv6-Prefix", "2001:db8:1:100::/56"),
        ("Framed-IPv6-Prefix", "2001:db9:0:7::/64"),
    }


def test_cancel_frees_every_address_and_history_keeps_it(factory: sessionmaker[Session]) -> None:
    with factory.begin() as s:
        net = make_subnet(s, "100.64.0.0/24")
        service = make_service(s, login="maria", fixed_ipv4="100.64.0.7")
        change_status(s, service, ServiceStatus.CANCELLED, reason="moved away")
        assert assignments.holder_of(s, "100.64.0.7") is None
        other = make_service(s, login="joao", fixed_ipv4="100.64.0.7")
        _, history = assignments.history_of(s, "100.64.0.7")
        assert [(r.service_id, r.release_reason) for r in history] == [
            (other.id, None),
            (service.id, ReleaseReason.CANCELLED),
        ]
        audit = s.scalars(select(AuditEntry.note).where(AuditEntry.service_id == service.id)).all()
        assert "fixed 100.64.0.7 from 100.64.0.0/24" in audit and "100.64.0.7 freed: cancelled" in audit
        assert reports.subnet_usage(s, [net])[net.id].fixed == 1


def test_plan_migration_keeps_the_fixed_ip(factory: sessionmaker[Session]) -> None:
    with factory.begin() as s:
        make_subnet(s, "100.64.0.0/24")
        old = make_service(s, login="maria", fixed_ipv4="100.64.0.9")
        new = migrate_plan(s, old, make_plan(s, name="600M"), immediate=True, reason="upgrade")
        assert [r.address for r in assignments.fixed_of(s, new.id)] == ["100.64.0.9"]
        assert assignments.fixed_of(s, old.id) == []


def test_utilization_per_subnet_and_folder(factory: sessionmaker[Session]) -> None:
    with factory.begin() as s:
        net = make_subnet(s, "10.0.0.0/28", gateway="10.0.0.1")  # 14 usable
        with pytest.raises(
            Conflict, match=r"10.0.0.0-10.0.0.4 overlaps 10.0.0.1, which is the subnet's gateway"
        ):
            subnets.exclude(s, net, "10.0.0.0", "10.0.0.4", note="", now=NOW)
        subnets.exclude(s, net, "10.0.0.0", "10.0.0.0", note="", now=NOW)  # not usable anyway: no change
        subnets.exclude(s, net, "10.0.0.2", "10.0.0.4", note="", now=NOW)
        make_service(s, login="a", fixed_ipv4="10.0.0.5")
        usage = reports.subnet_usage(s, [net])[net.id]
        assert (usage.usable, usage.used, usage.fixed, usage.free, str(usage.percent)) == (
            11,  # 14 less the 3 excluded
            2,  # the gateway and the fixed IP
            1,
            9,
            "18.2",
        )
        make_subnet(s, "2001:db8::/46", SubnetPurpose.DELEGATION)  # 1024 /56s
        totals = reports.folder_usage(s, net.folder_id)
        assert totals[4].usable == 11 and totals[6].usable == 1024 and totals[6].used == 0


def test_import_reports_conflicts_and_never_overwrites(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    with factory.begin() as s:
        make_subnet(s, "100.64.0.0/24")
        for login in ("ana", "bia", "caio", "dani"):
            make_service(s, login=login)
        assignments.assign_fixed(s, make_service(s, login="eva"), address="100.64.0.30", now=NOW)
    rows = importer.read_csv(
        "login;address\nana;100.64.0.10\nbia;100.64.0.30\nnobody;100.64.0.11\ncaio;192.0.2.1\ndani;100.64.0.12\n"
    )
    with factory.begin() as s:
        report = importer.import_fixed(s, rows, NOW)
    assert report.imported == [("ana", "100.64.0.10"), ("dani", "100.64.0.12")]
    assert [(line, login) for line, login, _, _ in report.conflicts] == [
        (3, "bia"),
        (4, "nobody"),
        (5, "caio"),
    ]
    assert "already assigned to service" in report.conflicts[0][3] and "'eva'" in report.conflicts[0][3]
    # a FreeRADIUS radreply table: ana is already there (unchanged), bia conflicts again
    radius_db = f"sqlite:///{tmp_path / 'freeradius.db'}"
    engine = sa.create_engine(radius_db)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE radreply"
                " (id INTEGER PRIMARY KEY, username TEXT, attribute TEXT, op TEXT, value TEXT)"
            )
        )
        conn.execute(
            sa.text("INSERT INTO radreply (username, attribute, op, value) VALUES (:u, :a, ':=', :v)"),
            [
                {"u": "ana", "a": "Framed-IP-Address", "v": "100.64.0.10"},
                {"u": "bia", "a": "Framed-IP-Address", "v": "100.64.0.30"},
                {"u": "caio", "a": "Framed-IP-Address", "v": "100.64.0.40"},
                {"u": "caio", "a": "Mikrotik-Rate-Limit", "v": "10M/10M"},
            ],
        )
    engine.dispose()
    with factory.begin() as s:
        report = importer.import_fixed(s, importer.read_radreply(radius_db), NOW)
    assert report.unchanged == [("ana", "100.64.0.10")] and report.imported == [("caio", "100.64.0.40")]
    assert [c[1] for c in report.conflicts] == ["bia"]
    with pytest.raises(Invalid, match="must name the columns login and address"):
        importer.read_csv("user,ip\nana,1.2.3.4\n")


# --- leases ------------------------------------------------------------------------------------


def _pool(s: Session, cidr: str = "100.65.0.0/29", **extra: Any) -> int:
    pool = subnets.add_pool(s, "clientes", PoolKind.IPV4, PoolMode.SERVER, lease_seconds=60)
    make_subnet(s, cidr, SubnetPurpose.DYNAMIC, folder="Pools", pool_id=pool.id, **extra)
    return pool.id


def _stop(login: str, session_id: str, nas: int, ip: str, session_time: int = 5) -> AcctRecord:
    return AcctRecord(
        StatusType.STOP, nas, utcnow(), session_id, login, framed_ip=ip, session_time=session_time
    )


def test_leases_are_sticky_exhaust_and_are_freed_on_stop(factory: sessionmaker[Session]) -> None:
    with factory.begin() as s:
        nas = make_nas(s)
        pool = _pool(s)  # a /29: 6 usable addresses
        ids = [make_service(s, login=f"u{i}").id for i in range(7)]
    with factory.begin() as s:
        leases = [
            allocator.lease(s, service_id=i, pool_id=pool, nas_id=nas, now=utcnow()).address for i in ids[:6]
        ]
        assert leases == [f"100.65.0.{n}" for n in range(1, 7)]
        with pytest.raises(allocator.PoolExhausted, match="pool clientes is exhausted"):
            allocator.lease(s, service_id=ids[6], pool_id=pool, nas_id=nas, now=utcnow())
        # asked again before any session started: the same lease, not a second one
        assert (
            allocator.lease(s, service_id=ids[0], pool_id=pool, nas_id=nas, now=utcnow()).address == leases[0]
        )
    with factory.begin() as s:
        apply_records(s, [_stop("u0", "s1", nas, "100.65.0.1"), _stop("u1", "s2", nas, "100.65.0.9")])
    with factory.begin() as s:
        assert assignments.holder_of(s, "100.65.0.1") is None
        assert assignments.holder_of(s, "100.65.0.2") is not None  # u1's Stop named another address
        # u6 takes the freed address; u0 comes back to a different one... after u6's is gone, its own again
        assert (
            allocator.lease(s, service_id=ids[6], pool_id=pool, nas_id=nas, now=utcnow()).address
            == "100.65.0.1"
        )
    with factory.begin() as s:
        apply_records(s, [_stop("u6", "s3", nas, "100.65.0.1")])
        assert (
            allocator.lease(s, service_id=ids[0], pool_id=pool, nas_id=nas, now=utcnow()).address
            == "100.65.0.1"
        )


def test_a_late_stop_does_not_free_a_lease_offered_again(factory: sessionmaker[Session]) -> None:
    with factory.begin() as s:
        nas = make_nas(s)
        pool = _pool(s)
        service = make_service(s, login="maria").id
        allocator.lease(s, service_id=service, pool_id=pool, nas_id=nas, now=utcnow() - timedelta(hours=2))
        allocator.lease(s, service_id=service, pool_id=pool, nas_id=nas, now=utcnow())  # re-offered now
        # the Stop of a session that started two hours ago (and was reaped) arrives late
        apply_records(s, [_stop("maria", "old", nas, "100.65.0.1", session_time=7200)])
        assert assignments.holder_of(s, "100.65.0.1") is not None


def test_a_blocked_pool_leases_like_any_other(factory: sessionmaker[Session]) -> None:
    """The suspension policy sends suspended subscribers here (Framed-Pool, or a server lease)."""
    with factory.begin() as s:
        nas = make_nas(s)
        blocked = subnets.add_pool(s, "bloqueados", PoolKind.IPV4, PoolMode.SERVER)
        make_subnet(s, "10.24.0.0/22", SubnetPurpose.BLOCKED, folder="Pools", pool_id=blocked.id)
        service = make_service(s, login="devedor")
        row = allocator.lease(s, service_id=service.id, pool_id=blocked.id, nas_id=nas, now=utcnow())
        assert row.address == "10.24.0.1" and row.kind is AssignmentKind.DYNAMIC


def test_a_stop_never_frees_a_fixed_address(factory: sessionmaker[Session]) -> None:
    with factory.begin() as s:
        nas = make_nas(s)
        make_subnet(s, "100.64.0.0/24")
        make_service(s, login="maria", fixed_ipv4="100.64.0.7")
        apply_records(
            s, [_stop("maria", "s1", nas, "100.64.0.7"), AcctRecord(StatusType.ACCOUNTING_ON, nas, utcnow())]
        )
        allocator.reap_leases(s, utcnow() + timedelta(days=1))
        holder = assignments.holder_of(s, "100.64.0.7")
        assert holder is not None and holder.kind is AssignmentKind.FIXED


def test_no_such_pool_for_this_nas_and_accounting_on_frees_its_leases(factory: sessionmaker[Session]) -> None:
    with factory.begin() as s:
        nas1, nas2 = make_nas(s, address="127.0.0.1"), make_nas(s, address="127.0.0.2")
        pool = _pool(s, nas_id=nas1)
        a, b = make_service(s, login="a").id, make_service(s, login="b").id
    with factory.begin() as s:
        with pytest.raises(allocator.NoSuchPool, match=f"has no subnet for NAS {nas2}"):
            allocator.lease(s, service_id=a, pool_id=pool, nas_id=nas2, now=utcnow())
        allocator.lease(s, service_id=a, pool_id=pool, nas_id=nas1, now=utcnow())
        allocator.lease(s, service_id=b, pool_id=pool, nas_id=nas1, now=utcnow())
    with factory.begin() as s:
        apply_records(s, [AcctRecord(StatusType.ACCOUNTING_ON, nas1, utcnow())])
    with factory() as s:
        reasons = s.scalars(
            select(IpAssignment.release_reason).where(IpAssignment.kind == AssignmentKind.DYNAMIC)
        )
        assert list(reasons) == [ReleaseReason.NAS_REBOOT] * 2


def test_reaper_frees_unclaimed_leases_and_keeps_held_ones(factory: sessionmaker[Session]) -> None:
    with factory.begin() as s:
        nas = make_nas(s)
        pool = _pool(s)
        a, b = make_service(s, login="a").id, make_service(s, login="b").id
        allocator.lease(s, service_id=a, pool_id=pool, nas_id=nas, now=utcnow())
        allocator.lease(s, service_id=b, pool_id=pool, nas_id=nas, now=utcnow())
        start = AcctRecord(StatusType.START, nas, utcnow(), "s-b", "b", framed_ip="100.65.0.2")
        apply_records(s, [start])
    with factory.begin() as s:
        assert allocator.reap_leases(s, utcnow()) == 0  # not expired yet
        assert allocator.reap_leases(s, utcnow() + timedelta(seconds=61)) == 1  # a's; b's session holds its
        assert assignments.holder_of(s, "100.65.0.1") is None
        assert assignments.holder_of(s, "100.65.0.2") is not None


def test_errors_for_unknown_things(factory: sessionmaker[Session]) -> None:
    with factory.begin() as s:
        with pytest.raises(NotFound, match="subnet 999 does not exist"):
            subnets.get_subnet(s, 999)
        net = make_subnet(s, "10.0.0.0/24")
        folder = subnets.get_folder(s, net.folder_id)
        with pytest.raises(Conflict, match="still has subnets"):
            subnets.delete_folder(s, folder)
        make_service(s, login="maria", fixed_ipv4="10.0.0.9")
        with pytest.raises(Conflict, match="has assignment history"):
            subnets.delete_subnet(s, net)


# --- concurrency ---------------------------------------------------------------------------------


def test_fifty_threads_get_fifty_distinct_addresses(pg_factory: sessionmaker[Session]) -> None:
    with pg_factory.begin() as s:
        net = make_subnet(s, "100.70.0.0/24", folder="Race")
        ids = [make_service(s, login=f"race{i}").id for i in range(50)]
    barrier = threading.Barrier(50)
    results: list[str] = []
    errors: list[BaseException] = []

    def assign(service_id: int) -> None:
        try:
            barrier.wait()
            with pg_factory.begin() as s:
                service = s.get(assignments.Service, service_id)
                assert service is not None
                results.append(assignments.assign_fixed(s, service, subnet_id=net.id, now=utcnow()).address)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=assign, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors[:3]
    assert len(results) == len(set(results)) == 50
    assert sorted(results, key=lambda a: int(a.rsplit(".", 1)[1])) == [f"100.70.0.{n}" for n in range(1, 51)]


# --- the migration that moved service.fixed_ipv4 into IPAM -----------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migration_0003_keeps_every_fixed_ipv4(backend: str, tmp_path: Path) -> None:
    url, drop = _fresh_database(backend, tmp_path)
    try:
        upgrade(url, "0002")
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            t = NOW
            conn.execute(
                sa.text(
                    "INSERT INTO customer (id, kind, name, phones, emails, created_at)"
                    " VALUES (1, 'person', 'A', '[]', '[]', :t)"
                ),
                {"t": t},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO plan (id, name, price, download_kbps, upload_kbps, created_at)"
                    " VALUES (1, 'P', 0, 1000, 1000, :t)"
                ),
                {"t": t},
            )
            for n, ip in ((1, "100.64.0.7"), (2, "100.64.0.9"), (3, "100.65.1.1"), (4, None)):
                conn.execute(
                    sa.text(
                        "INSERT INTO service (id, customer_id, plan_id, login, password, status,"
                        " simultaneous_use, mac_binding, fixed_ipv4, price, created_at, updated_at)"
                        " VALUES (:n, 1, 1, :login, 'x', 'enabled', 1, 'off', :ip, 0, :t, :t)"
                    ),
                    {"n": n, "login": f"u{n}", "ip": ip, "t": t},
                )
        engine.dispose()
        upgrade(url)
        factory = session_factory(make_engine(url))
        with factory() as s:
            held = {
                r.service_id: (r.address, r.subnet.cidr, r.subnet.folder.name)
                for r in s.scalars(select(IpAssignment))
            }
            assert held == {
                1: ("100.64.0.7", "100.64.0.0/24", "Migrated fixed IPs"),
                2: ("100.64.0.9", "100.64.0.0/24", "Migrated fixed IPs"),
                3: ("100.65.1.1", "100.65.1.0/24", "Migrated fixed IPs"),
            }
            assert load_subscriber(s, "u3").fixed == (("Framed-IP-Address", "100.65.1.1"),)  # type: ignore[union-attr]
    finally:
        drop()


def _fresh_database(backend: str, tmp_path: Path) -> tuple[str, Any]:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'm.db'}", lambda: None
    name = f"aaa_mig_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return PG_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}", drop
