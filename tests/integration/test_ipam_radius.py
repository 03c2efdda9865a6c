"""IPAM on the wire (a real worker on UDP, pyrad as the NAS): fixed blocks and IPv6 prefixes in the
Access-Accept, pool names for the NAS, server leases freed on Stop, distinct rejects per cause."""

from __future__ import annotations

from typing import Any

from pyrad import packet
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from aaa import metrics
from aaa.db.base import utcnow
from aaa.ipam import assignments, subnets
from aaa.subscribers.plans import update_plan
from aaa.tables.accounting import AcctSession
from aaa.tables.ipam import IpAssignment
from aaa.tables.nas import Nas
from aaa.vocabulary.ipam import PoolKind, PoolMode, ReleaseReason, SubnetPurpose
from tests import radius_client as rc
from tests.conftest import SECRET, RunningWorker, make_plan, make_service, make_subnet, wait_for
from tests.integration.test_server import auth_log


def _client(worker: RunningWorker) -> Any:
    return rc.client(worker.auth_port, worker.acct_port, SECRET)


def test_fixed_block_and_ipv6_prefixes_travel_in_the_accept(
    worker: RunningWorker, factory: sessionmaker[Session]
) -> None:
    with factory.begin() as s:
        make_subnet(s, "203.0.113.0/24")
        make_subnet(s, "2001:db8::/40", SubnetPurpose.DELEGATION)
        service = make_service(s, login="empresa", password="p", fixed_ipv4="203.0.113.10")
        assignments.assign_fixed(s, service, address="203.0.113.16/29", now=utcnow())
        assignments.assign_fixed(s, service, address="2001:db8:0:100::/56", now=utcnow())
    nas = _client(worker)
    reply = rc.send(nas, rc.pap(nas, "empresa", "p"))
    assert reply.code == packet.AccessAccept
    assert reply["Framed-IP-Address"] == ["203.0.113.10"]
    assert reply["Framed-Route"] == ["203.0.113.16/29 0.0.0.0 1"]
    assert reply["Delegated-IPv6-Prefix"] == ["2001:db8:0:100::/56"]


def test_an_assignment_reaches_an_online_worker_at_the_next_login(
    worker: RunningWorker, factory: sessionmaker[Session]
) -> None:
    with factory.begin() as s:
        make_subnet(s, "100.64.0.0/24")
        make_service(s, login="maria", password="p")
    nas = _client(worker)
    assert "Framed-IP-Address" not in rc.send(nas, rc.pap(nas, "maria", "p"))  # cached now
    with factory.begin() as s:
        service = s.scalar(select(assignments.Service).where(assignments.Service.login == "maria"))
        assert service is not None
        assignments.assign_fixed(s, service, address="100.64.0.77", now=utcnow())
    assert wait_for(
        lambda: rc.send(nas, rc.pap(nas, "maria", "p")).get("Framed-IP-Address") == ["100.64.0.77"]
    )


def test_nas_mode_pools_send_their_names(worker: RunningWorker, factory: sessionmaker[Session]) -> None:
    with factory.begin() as s:
        v4 = subnets.add_pool(s, "clientes", PoolKind.IPV4)
        pd = subnets.add_pool(s, "pd-clientes", PoolKind.IPV6_PD)
        plan = make_plan(s, name="IPv6", ipv6_pd_pool_id=pd.id)
        nas_row = s.scalar(select(Nas))
        assert nas_row is not None
        nas_row.ipv4_pool_id = v4.id  # the NAS's pool, for plans that name none
        make_service(s, login="maria", password="p", plan=plan)
    nas = _client(worker)
    wait_for(lambda: rc.send(nas, rc.pap(nas, "maria", "p")).get("Framed-Pool") == ["clientes"])
    reply = rc.send(nas, rc.pap(nas, "maria", "p"))
    assert reply["Framed-Pool"] == ["clientes"] and reply["Delegated-IPv6-Prefix-Pool"] == ["pd-clientes"]
    assert "Framed-IP-Address" not in reply


def test_server_lease_in_the_accept_freed_by_the_stop(
    worker: RunningWorker, factory: sessionmaker[Session]
) -> None:
    with factory.begin() as s:
        pool = subnets.add_pool(s, "cgnat", PoolKind.IPV4, PoolMode.SERVER)
        make_subnet(s, "100.65.0.0/30", SubnetPurpose.DYNAMIC, pool_id=pool.id)  # two usable
        v6 = subnets.add_pool(s, "v6pd", PoolKind.IPV6_PD, PoolMode.SERVER)
        make_subnet(s, "2001:db8:8000::/44", SubnetPurpose.DELEGATION, pool_id=v6.id)
        plan = make_plan(s, name="dyn", ipv4_pool_id=pool.id, ipv6_pd_pool_id=v6.id)
        for login in ("a", "b", "c"):
            make_service(s, login=login, password="p", plan=plan)
    nas = _client(worker)
    first = rc.send(nas, rc.pap(nas, "a", "p"))
    assert first.code == packet.AccessAccept
    assert first["Framed-IP-Address"] == ["100.65.0.1"]
    assert first["Delegated-IPv6-Prefix"] == ["2001:db8:8000::/56"]
    assert rc.send(nas, rc.pap(nas, "b", "p"))["Framed-IP-Address"] == ["100.65.0.2"]
    exhausted = rc.send(nas, rc.pap(nas, "c", "p"))
    assert exhausted.code == packet.AccessReject
    assert exhausted["Reply-Message"] == ["Nenhum endereço disponível no momento; tente mais tarde"]
    rows = wait_for(lambda: auth_log(factory, "c"))
    assert "reject: pool_exhausted" in rows[0].reason
    assert metrics.child(metrics.IPAM_LEASES, "pool_exhausted", "cgnat")._value.get() >= 1
    # a's session: Start then Stop with its addresses, recorded, then the lease is free for c
    common: dict[str, Any] = {
        "Framed_IP_Address": "100.65.0.1",
        "Delegated_IPv6_Prefix": "2001:db8:8000::/56",
    }
    rc.send(nas, rc.accounting(nas, "Start", "a", "sa", **common))
    rc.send(nas, rc.accounting(nas, "Stop", "a", "sa", Acct_Session_Time=3, **common))
    with factory() as s:
        stored = s.scalar(select(AcctSession).where(AcctSession.acct_session_id == "sa"))
        assert stored is not None and stored.delegated_ipv6_prefix == "2001:db8:8000::/56"
        reasons = s.scalars(
            select(IpAssignment.release_reason).where(IpAssignment.service_id == stored.service_id)
        ).all()
        assert reasons == [ReleaseReason.STOP, ReleaseReason.STOP]
    assert rc.send(nas, rc.pap(nas, "c", "p"))["Framed-IP-Address"] == ["100.65.0.1"]


def test_a_pool_with_no_subnet_for_this_nas_is_its_own_reject(
    worker: RunningWorker, factory: sessionmaker[Session]
) -> None:
    with factory.begin() as s:
        pool = subnets.add_pool(s, "empty", PoolKind.IPV4, PoolMode.SERVER)
        plan = make_plan(s, name="dyn")
        update_plan(s, plan, ipv4_pool_id=pool.id)
        make_service(s, login="maria", password="p", plan=plan)
    nas = _client(worker)
    reply = rc.send(nas, rc.pap(nas, "maria", "p"))
    assert reply.code == packet.AccessReject
    assert reply["Reply-Message"] == ["Nenhum pool de endereços configurado para este acesso"]
