"""The IPAM part of the admin API, on SQLite and PostgreSQL: the fixed-IP workflow (folder →
subnet → next available → save), conflicts as 409 naming the holder, reports, import, audit."""

from __future__ import annotations

from typing import Any

from tests.api_client import CPF2, Api, fixed_subnet
from tests.integration.test_api import operator, setup_service


def test_seed_000_fixed_ip_workflow(api: Api) -> None:
    service = setup_service(api)
    folder = api.post("/ipam/folders", {"name": "Clientes Empresariais"}, expect=201)
    subnet = api.post(
        "/ipam/subnets",
        {"folder_id": folder["id"], "cidr": "203.0.113.0/24", "purpose": "fixed", "gateway": "203.0.113.1"},
        expect=201,
    )
    assert subnet["usage"] == {
        "usable": 254,
        "used": 1,
        "fixed": 0,
        "leased": 0,
        "free": 253,
        "percent": "0.4",
    }
    found = api.get(f"/ipam/subnets/{subnet['id']}/next-free")  # "procurar próximo disponível"
    assert found == {"subnet_id": subnet["id"], "address": "203.0.113.2", "prefix_len": 32}
    held = api.post(f"/services/{service['id']}/addresses", {"subnet_id": subnet["id"]}, expect=201)
    assert held["address"] == "203.0.113.2" and held["kind"] == "fixed"
    shown = api.get(f"/services/{service['id']}")
    assert shown["fixed_ipv4"] == "203.0.113.2" and [a["address"] for a in shown["addresses"]] == [
        "203.0.113.2"
    ]
    block = api.post(
        f"/services/{service['id']}/addresses", {"subnet_id": subnet["id"], "prefix_len": 29}, expect=201
    )
    assert block["address"] == "203.0.113.8/29"
    assert api.get(f"/ipam/subnets/{subnet['id']}/next-free?prefix_len=29")["address"] == "203.0.113.16/29"
    report = api.get("/ipam/address", params={"address": "203.0.113.12"})
    assert report["holder"]["address"] == "203.0.113.8/29" and report["holder"]["login"] == "maria"
    assert api.get(f"/ipam/folders/{folder['id']}")["usage"]["ipv4"]["used"] == 10
    api.delete(f"/services/{service['id']}/addresses/{block['id']}", expect=204)
    history = api.get("/ipam/address", params={"address": "203.0.113.12"})
    assert history["holder"] is None and history["history"][0]["release_reason"] == "unassigned"
    audit = api.get(f"/services/{service['id']}/history")["items"]
    assert {"ip_assigned", "ip_unassigned"} <= {entry["action"] for entry in audit}


def test_conflicts_and_bad_input_say_what_to_fix(api: Api) -> None:
    subnet = fixed_subnet(api, "100.64.0.0/24")
    maria, joao = setup_service(api), setup_service(api, login="joao", document=CPF2)
    api.post(f"/services/{maria['id']}/addresses", {"address": "100.64.0.7"}, expect=201)
    taken = api.post(f"/services/{joao['id']}/addresses", {"address": "100.64.0.7"}, expect=409)
    assert taken["detail"] == f"100.64.0.7 is already assigned to service {maria['id']} (login 'maria')"
    reserved = api.post(
        f"/ipam/subnets/{subnet['id']}/reservations", {"address": "100.64.0.5", "note": "OLT"}, expect=201
    )
    assert (
        "is reserved: OLT"
        in api.post(f"/services/{joao['id']}/addresses", {"address": "100.64.0.5"}, expect=409)["detail"]
    )
    api.post(
        f"/ipam/subnets/{subnet['id']}/exclusions",
        {"start": "100.64.0.100", "end": "100.64.0.120"},
        expect=201,
    )
    excluded = api.post(f"/services/{joao['id']}/addresses", {"address": "100.64.0.110"}, expect=409)
    assert "overlaps 100.64.0.100-100.64.0.120, which is excluded" in excluded["detail"]
    outside = api.post(
        f"/services/{joao['id']}/addresses", {"subnet_id": subnet["id"], "address": "10.9.9.9"}, expect=422
    )
    assert outside["detail"] == "10.9.9.9 is outside 100.64.0.0/24"
    assert "give subnet_id" in str(api.post(f"/services/{joao['id']}/addresses", {}, expect=422)["detail"])
    assert (
        "not an IP address"
        in api.post(f"/services/{joao['id']}/addresses", {"address": "banana"}, expect=422)["detail"]
    )
    overlap = api.post(
        "/ipam/subnets",
        {"folder_id": subnet["folder_id"], "cidr": "100.64.0.128/25", "purpose": "fixed"},
        expect=409,
    )
    assert "overlaps subnet" in overlap["detail"]
    api.delete(f"/ipam/subnets/{subnet['id']}/holds/{reserved['id']}", expect=204)
    api.post(f"/services/{joao['id']}/addresses", {"address": "100.64.0.5"}, expect=201)
    api.patch(f"/services/{joao['id']}", {"fixed_ipv4": "100.64.0.7"}, expect=409)  # maria's


def test_pools_on_plans_and_nas(api: Api) -> None:
    pool = api.post("/ipam/pools", {"name": "clientes", "kind": "ipv4", "mode": "server"}, expect=201)
    pd = api.post("/ipam/pools", {"name": "pd", "kind": "ipv6_pd"}, expect=201)
    api.post("/ipam/pools", {"name": "clientes", "kind": "ipv4"}, expect=409)
    folder = api.post("/ipam/folders", {"name": "Pools"}, expect=201)
    sub = api.post(
        "/ipam/subnets",
        {"folder_id": folder["id"], "cidr": "2001:db8::/40", "purpose": "delegation", "pool_id": pd["id"]},
        expect=201,
    )
    assert sub["unit_len"] == 56 and sub["usage"]["usable"] == 65536
    wrong = api.post(
        "/plans",
        {"name": "X", "price": "10.00", "download_kbps": 1000, "upload_kbps": 1000, "ipv4_pool_id": pd["id"]},
        expect=422,
    )
    assert wrong["detail"] == "ipv4_pool_id must be a ipv4 pool; pool 'pd' is ipv6_pd"
    plan = api.post(
        "/plans",
        {
            "name": "Y",
            "price": "10.00",
            "download_kbps": 1000,
            "upload_kbps": 1000,
            "ipv4_pool_id": pool["id"],
        },
        expect=201,
    )
    assert plan["ipv4_pool_id"] == pool["id"]
    nas = api.post("/nas", {"name": "bras", "address": "10.0.0.1", "ipv6_pd_pool_id": pd["id"]}, expect=201)
    assert nas["ipv6_pd_pool_id"] == pd["id"]
    assert "still used by plans" in api.delete(f"/ipam/pools/{pool['id']}", expect=409)["detail"]
    assert api.patch(f"/ipam/pools/{pool['id']}", {"mode": "nas"})["mode"] == "nas"
    assert [p["name"] for p in api.get("/ipam/pools")["items"]] == ["clientes", "pd"]


def test_csv_import_dry_run_then_for_real(api: Api) -> None:
    fixed_subnet(api, "100.64.0.0/24")
    setup_service(api)
    csv = "login,address\nmaria,100.64.0.9\nghost,100.64.0.10\n"
    dry = api.post("/ipam/import", {"csv": csv, "dry_run": True})
    assert dry["imported"] == 1 and dry["dry_run"] and dry["conflicts"][0]["login"] == "ghost"
    assert api.get("/ipam/address", params={"address": "100.64.0.9"})["holder"] is None
    done = api.post("/ipam/import", {"csv": csv})
    assert done["imported"] == 1 and api.get("/ipam/address", params={"address": "100.64.0.9"})["holder"]
    assert api.post("/ipam/import", {"csv": csv})["unchanged"] == 1
    assert "login and address" in api.post("/ipam/import", {"csv": "a,b\n1,2\n"}, expect=422)["detail"]


def test_read_only_operator_cannot_assign(api: Api) -> None:
    subnet = fixed_subnet(api)
    service = setup_service(api)
    viewer: Any = operator(api, "vera", permissions=["ipam.read", "services.read"])
    assert viewer.get(f"/ipam/subnets/{subnet['id']}")["cidr"] == "100.64.0.0/16"
    refused = viewer.post(f"/services/{service['id']}/addresses", {"subnet_id": subnet["id"]}, expect=403)
    assert "ipam.assign" in refused["detail"]
    entries = api.get("/audit", params={"entity": "subnet"})["items"]
    assert entries and entries[0]["actor"] == "operator:admin"
