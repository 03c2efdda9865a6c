"""Vendor profiles on the wire: one worker, one NAS of each vendor (each its own loopback
address), Access-Accepts decoded by pyrad; a CoA to a Huawei NAS in Huawei's attributes; and a
vendor's FreeRADIUS dictionary that pyrad alone refuses ("Illegal type: String") loads."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pyrad import packet
from sqlalchemy.orm import Session, sessionmaker

from aaa.audit.log import Actor, act_as
from aaa.db.base import utcnow
from aaa.radius.codec import load_dictionary
from aaa.settings import DEFAULT_DICTIONARY, load_settings
from aaa.subscribers import overlays
from aaa.subscribers.lifecycle import change_status
from aaa.tables.subscribers import Service
from aaa.vocabulary.subscribers import ServiceStatus
from aaa.vocabulary.vendors import VendorProfile
from tests import radius_client as rc
from tests.conftest import (
    SECRET,
    RunningWorker,
    make_nas,
    make_service,
    start_worker,
    stop_worker,
    test_settings,
)
from tests.fakes.coa_responder import CoaResponder
from tests.integration.test_enforcement import enforce, go_online, settings_for

ADDRESSES = {
    VendorProfile.MIKROTIK: "127.0.0.2",
    VendorProfile.ACCEL_PPP: "127.0.0.3",
    VendorProfile.ACCEL_PPP_FILTER_ID: "127.0.0.4",
    VendorProfile.HUAWEI: "127.0.0.5",
    VendorProfile.CISCO: "127.0.0.6",
    VendorProfile.JUNIPER: "127.0.0.7",
}


@pytest.fixture
def vendors_worker(db_url: str, factory: sessionmaker[Session]) -> Iterator[RunningWorker]:
    with factory.begin() as s:
        for vendor, address in ADDRESSES.items():
            make_nas(s, address=address, vendor=vendor, name=vendor.value)
        make_service(s, login="maria")  # Fibra 100M: 100000/50000 kbit/s
        devedor = make_service(s, login="devedor")
        change_status(s, devedor, target=ServiceStatus.SUSPENDED_DEBT, reason="overdue")
    settings = test_settings(db_url).model_copy(
        update={"policy": load_settings(None, policy={"suspended_action": "address_list"}).policy}
    )
    running = start_worker(settings, factory)
    yield running
    stop_worker(running)


def accept(worker: RunningWorker, vendor: VendorProfile, login: str) -> dict[str, list[Any]]:
    nas = rc.client(worker.auth_port, worker.acct_port, SECRET)
    nas.bind((ADDRESSES[vendor], 0))
    reply = rc.send(nas, rc.pap(nas, login, "secret-pass"))
    assert reply.code == packet.AccessAccept, (vendor, login)
    return {name: reply[name] for name in reply.keys() if isinstance(name, str)}  # noqa: SIM118 - names, not codes


def test_each_vendor_gets_the_speed_and_the_blocked_state_in_its_attributes(
    vendors_worker: RunningWorker,
) -> None:
    w = vendors_worker
    assert accept(w, VendorProfile.MIKROTIK, "maria")["Mikrotik-Rate-Limit"] == ["50M/100M"]
    assert accept(w, VendorProfile.ACCEL_PPP, "maria")["Mikrotik-Rate-Limit"] == ["50M/100M"]
    accel = accept(w, VendorProfile.ACCEL_PPP_FILTER_ID, "maria")
    assert accel["Filter-Id"] == ["100000/50000"] and "Mikrotik-Rate-Limit" not in accel
    huawei = accept(w, VendorProfile.HUAWEI, "maria")
    assert (huawei["Huawei-Input-Average-Rate"], huawei["Huawei-Output-Average-Rate"]) == (
        [50_000_000],
        [100_000_000],
    )
    assert "Mikrotik-Rate-Limit" not in huawei
    cisco = accept(w, VendorProfile.CISCO, "maria")["Cisco-AVPair"]
    assert [pair.split()[1:3] for pair in cisco] == [["input", "50000000"], ["output", "100000000"]]
    juniper = accept(w, VendorProfile.JUNIPER, "maria")
    assert juniper["ERX-Qos-Profile-Name"] == ["isp-aaa-subscriber"]
    assert juniper["ERX-Qos-Parameters"] == ["download-rate 100000000", "upload-rate 50000000"]
    # Suspended for debt with suspended_action = address_list: the blocked list, vendor by vendor.
    assert accept(w, VendorProfile.MIKROTIK, "devedor")["Mikrotik-Address-List"] == ["blocked"]
    assert accept(w, VendorProfile.HUAWEI, "devedor")["Filter-Id"] == ["blocked"]
    assert accept(w, VendorProfile.CISCO, "devedor")["Filter-Id"] == ["blocked.in"]
    assert accept(w, VendorProfile.JUNIPER, "devedor")["ERX-Ingress-Policy-Name"] == ["blocked"]
    assert accept(w, VendorProfile.HUAWEI, "devedor")["Huawei-Output-Average-Rate"] == [512_000]


def test_a_coa_to_a_huawei_nas_speaks_huawei(db_url: str, factory: sessionmaker[Session]) -> None:
    with CoaResponder(SECRET) as responder:
        with factory.begin() as s:
            nas_id = make_nas(s, vendor=VendorProfile.HUAWEI, coa_port=responder.port)
            service_id = make_service(s, login="maria").id
        go_online(factory, "maria", nas_id, "81a00001", "100.64.0.7", responder)
        with factory.begin() as s:
            act_as(s, Actor("operator:test", "127.0.0.1"))
            service = s.get(Service, service_id)
            assert service is not None
            overlays.set_custom_speed(
                s, service, download_kbps=200_000, upload_kbps=80_000, until=None, now=utcnow()
            )
        enforce(settings_for(db_url), factory)
        coa = responder.received[-1]
        assert coa.code == packet.CoARequest
        assert (coa.first("Huawei-Input-Average-Rate"), coa.first("Huawei-Output-Average-Rate")) == (
            80_000_000,
            200_000_000,
        )
        assert "Mikrotik-Rate-Limit" not in coa.attributes


def test_a_vendor_dictionary_with_upper_case_types_loads(tmp_path: Path) -> None:
    """FreeRADIUS reads data types case-insensitively; Debian's dictionary.juniper says
    ``String``. Through radius.dictionary it loads, and the worker answers with it."""
    vendor = tmp_path / "dictionary.acme"
    vendor.write_text(
        "VENDOR\tAcme\t55555\nBEGIN-VENDOR\tAcme\nATTRIBUTE\tAcme-Profile\t11\tString\n"
        "ATTRIBUTE\tAcme-Level\t12\tInteger\nEND-VENDOR\tAcme\n"
    )
    top = tmp_path / "dictionary"
    lines = [f"$INCLUDE {DEFAULT_DICTIONARY}", "$INCLUDE dictionary.acme", "$INCLUDE- dictionary.missing"]
    debian = Path("/usr/share/freeradius/dictionary.juniper")  # freeradius-common, with radclient
    if debian.exists():
        lines.append(f"$INCLUDE {debian}")
    top.write_text("\n".join(lines) + "\n")
    loaded = load_dictionary(top)
    assert loaded.attributes["Acme-Profile"].type == "string"
    assert loaded.attributes["Acme-Level"].type == "integer"
    assert "Mikrotik-Rate-Limit" in loaded.attributes
    if debian.exists():
        assert loaded.attributes["Juniper-Junosspace-Profile"].type == "string"
    settings = load_settings(None, radius={"dictionary": str(top)})
    assert settings.radius.dictionary == top
