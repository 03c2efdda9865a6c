"""Custom reply attributes per plan and per service (radgroupreply / radreply): checked against
the dictionary when saved, sent in every Access-Accept (pyrad decodes them), shown by the
diagnostics, and applied live: a CoA for what a NAS can change, a reconnect for the rest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pyrad import packet
from sqlalchemy.orm import Session, sessionmaker

from tests import radius_client as rc
from tests.api_client import CPF, person
from tests.conftest import SECRET, RunningWorker, seed, wait_for
from tests.fakes.coa_responder import CoaResponder
from tests.integration.test_enforcement import add_nas, attempts, enforce, go_online, settings_for

PLAN = {"name": "Fibra 300M", "price": "99.90", "download_kbps": 300_000, "upload_kbps": 150_000}


def test_saving_is_checked_against_the_dictionary(api: Any) -> None:
    def refused(attributes: list[dict[str, str]]) -> str:
        return str(api.post("/plans", {**PLAN, "reply_attributes": attributes}, expect=422)["detail"])

    assert "'Acme-Speed' is not in the RADIUS dictionary" in refused(
        [{"attribute": "Acme-Speed", "value": "1"}]
    )
    assert "Session-Timeout takes a whole number" in refused(
        [{"attribute": "Session-Timeout", "value": "um dia"}]
    )
    assert "not a valid ipaddr for Framed-IP-Address" in refused(
        [{"attribute": "Framed-IP-Address", "value": "10.0.0"}]
    )
    assert "is written by the server itself" in refused(
        [{"attribute": "Message-Authenticator", "value": "x"}]
    )
    api.post(
        "/plans",
        {**PLAN, "reply_attributes": [{"attribute": "Filter-Id", "op": "==", "value": "x"}]},
        expect=422,
    )
    plan = api.post(
        "/plans",
        {
            **PLAN,
            "reply_attributes": [
                {"attribute": "Session-Timeout", "op": ":=", "value": "86400"},
                {"attribute": "Service-Type", "value": "Framed-User"},  # a VALUE name
            ],
        },
        expect=201,
    )
    assert plan["reply_attributes"] == [
        {"attribute": "Session-Timeout", "op": ":=", "value": "86400"},
        {"attribute": "Service-Type", "op": "=", "value": "Framed-User"},
    ]
    cleared = api.patch(f"/plans/{plan['id']}", {"reply_attributes": []})
    assert cleared["reply_attributes"] == []


def test_every_accept_carries_the_plan_s_then_the_service_s(api: Any, worker: RunningWorker) -> None:
    plan = api.post(
        "/plans",
        {
            **PLAN,
            "reply_attributes": [
                {"attribute": "Session-Timeout", "value": "86400"},
                {"attribute": "Filter-Id", "value": "plano-300"},
                {"attribute": "Mikrotik-Address-List", "op": "+=", "value": "clientes"},
            ],
        },
        expect=201,
    )
    customer = api.post("/customers", person(CPF), expect=201)["id"]
    service = api.post(
        "/services",
        {"customer_id": customer, "plan_id": plan["id"], "login": "vip", "password": "vip-pass"},
        expect=201,
    )
    api.patch(
        f"/services/{service['id']}",
        {
            "reply_attributes": [
                {"attribute": "Filter-Id", "op": ":=", "value": "vip"},
                {"attribute": "Idle-Timeout", "value": "600"},
            ]
        },
    )
    nas = rc.client(worker.auth_port, worker.acct_port, SECRET)

    def accepted() -> Any:
        reply = rc.send(nas, rc.pap(nas, "vip", "vip-pass"))
        return reply if reply.code == packet.AccessAccept and "Idle-Timeout" in reply else None

    reply = wait_for(accepted)
    assert reply is not None
    assert reply["Session-Timeout"] == [86400]
    assert reply["Filter-Id"] == ["vip"]  # the service's := replaced the plan's
    assert reply["Idle-Timeout"] == [600]
    assert reply["Mikrotik-Address-List"] == ["clientes"]
    assert reply["Mikrotik-Rate-Limit"] == ["150M/300M"]
    next_login = api.get(f"/services/{service['id']}/diagnostics")["next_login"]
    assert next_login["attributes"]["Session-Timeout"] == "86400"
    assert any("reply attributes" in reason for reason in next_login["reasons"])


def test_a_plan_edit_reaches_online_sessions_live_or_by_reconnect(
    api: Any, db_url: str, factory: sessionmaker[Session]
) -> None:
    with CoaResponder(SECRET) as responder:
        nas_id = add_nas(factory, responder)
        plan = api.post("/plans", PLAN, expect=201)
        customer = api.post("/customers", person(CPF), expect=201)["id"]
        service = api.post(
            "/services", {"customer_id": customer, "plan_id": plan["id"], "login": "maria"}, expect=201
        )
        granted = {"rate": "150M/300M", "address_list": None, "addresses": []}
        go_online(factory, "maria", nas_id, "81a00001", "100.64.0.7", responder, granted=granted)
        settings = settings_for(db_url)
        # Session-Timeout can change live: a CoA carries it.
        api.patch(
            f"/plans/{plan['id']}", {"reply_attributes": [{"attribute": "Session-Timeout", "value": "3600"}]}
        )
        enforce(settings, factory)
        coa = responder.received[-1]
        assert coa.code == packet.CoARequest and coa.first("Session-Timeout") == 3600
        assert "Mikrotik-Rate-Limit" not in coa.attributes  # the rate did not change
        assert attempts(factory, service["id"])[-1] == ("coa", "ack")
        # Framed-MTU cannot: only a new session gets it.
        api.patch(
            f"/plans/{plan['id']}",
            {
                "reply_attributes": [
                    {"attribute": "Session-Timeout", "value": "3600"},
                    {"attribute": "Framed-MTU", "value": "1480"},
                ]
            },
        )
        enforce(settings, factory)
        assert responder.received[-1].code == packet.DisconnectRequest
        rows = api.get(f"/services/{service['id']}/enforcement")["items"]
        assert "only a new session gets them" in rows[0]["attempt_log"][-1]["detail"]


def test_the_cli_sets_and_checks_them(db_url: str, tmp_path: Path) -> None:
    config = tmp_path / "aaa.toml"
    config.write_text(f'database_url = "{db_url}"\n')
    seed(
        config,
        "plan",
        "add",
        "--name",
        "Fibra 50M",
        "--download",
        "50000",
        "--upload",
        "25000",
        "--reply-attribute",
        "Session-Timeout := 86400",
    )
    said = seed(config, "plan", "set", "Fibra 50M", "--reply-attribute", "Filter-Id = 'plano 50'")
    assert "reply_attributes" in said
    seed(config, "service", "add", "--login", "ana", "--plan", "Fibra 50M")
    seed(config, "service", "set", "ana", "--reply-attribute", "Idle-Timeout = 300")
    from aaa.cli import main

    assert main(["--config", str(config), "plan", "set", "Fibra 50M", "--reply-attribute", "Acme-X = 1"]) == 1
