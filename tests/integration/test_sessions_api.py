"""Online sessions, the connection history and the auth log across subscribers, and the kick
button (derrubar conexão): through the HTTP API and the CLI, with the Disconnect-Request seen
by the CoA responder fake and the RouterOS API fake as the fallback. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from pyrad import packet
from sqlalchemy.orm import Session, sessionmaker

from aaa.db.base import utcnow
from aaa.tables.accounting import AcctSession, AuthLog, AuthResult
from tests.conftest import SECRET, seed
from tests.fakes.coa_responder import CoaResponder
from tests.fakes.routeros_api import RouterOsFake
from tests.integration.test_enforcement import add_nas, enforce, go_online, service, settings_for

PASSWORD = "operator-password-1"


def world(
    factory: sessionmaker[Session], responder: CoaResponder, router: RouterOsFake | None = None
) -> dict[str, int]:
    """maria and jose online on one NAS; an earlier, closed session of maria's."""
    nas_id = add_nas(factory, responder, router)
    ids = {"nas": nas_id, "maria": service(factory, "maria"), "jose": service(factory, "jose")}
    go_online(factory, "maria", nas_id, "81a00001", "100.64.0.7", responder, router)
    go_online(factory, "jose", nas_id, "81a00002", "100.64.0.8", responder, router)
    earlier = utcnow() - timedelta(days=2)
    with factory.begin() as s:
        s.add(
            AcctSession(
                nas_id=nas_id,
                acct_session_id="81a00000",
                login="maria",
                service_id=ids["maria"],
                framed_ip="100.64.0.99",
                delegated_ipv6_prefix="2001:db8:100::/56",
                calling_station_id="aa-bb-cc-dd-ee-ff",
                start_time=earlier,
                last_update=earlier + timedelta(hours=1),
                stop_time=earlier + timedelta(hours=1),
                session_time=3600,
                terminate_cause="Lost-Carrier",
            )
        )
    return ids


def test_online_list_and_history_filters(api: Any, factory: sessionmaker[Session]) -> None:
    with CoaResponder(SECRET) as responder:
        ids = world(factory, responder)
    online = api.get("/sessions", params={"online": True})
    assert online["total"] == 2 and {s["login"] for s in online["items"]} == {"maria", "jose"}
    assert all(s["online"] and s["uptime_seconds"] >= 0 for s in online["items"])
    assert [s["acct_session_id"] for s in api.get("/sessions", params={"login": "MARIA"})["items"]] == [
        "81a00001",
        "81a00000",
    ]
    closed = api.get("/sessions", params={"online": False})["items"]
    assert [(s["login"], s["uptime_seconds"], s["terminate_cause"]) for s in closed] == [
        ("maria", 3600, "Lost-Carrier")
    ]
    by_ip = api.get("/sessions", params={"ip": "100.64.0.8"})["items"]
    assert [s["login"] for s in by_ip] == ["jose"]
    assert api.get("/sessions", params={"mac": "AABB.CCDD.EEFF"})["items"][0]["acct_session_id"] == "81a00000"
    assert api.get("/sessions", params={"ipv6_prefix": "2001:db8:100:0::/56"})["total"] == 1
    assert api.get("/sessions", params={"nas_id": ids["nas"], "service_id": ids["jose"]})["total"] == 1
    day_ago = (utcnow() - timedelta(days=1)).isoformat()
    assert api.get("/sessions", params={"started_before": day_ago})["total"] == 1
    assert api.get("/sessions", params={"started_after": day_ago})["total"] == 2
    # What is wrong with a filter is said, not ignored.
    assert "is not a MAC address" in api.get("/sessions", params={"mac": "zz"}, expect=422)["detail"]
    assert "is not an IP address" in api.get("/sessions", params={"ip": "100.64.0"}, expect=422)["detail"]
    api.get("/sessions", params={"online": "maybe"}, expect=422)


def test_auth_log_filters(api: Any, factory: sessionmaker[Session]) -> None:
    with CoaResponder(SECRET) as responder:
        ids = world(factory, responder)
    with factory.begin() as s:
        s.add(
            AuthLog(
                nas_id=ids["nas"],
                login="maria",
                service_id=ids["maria"],
                method="chap",
                result=AuthResult.REJECT,
                reason="CHAP credentials do not match → reject: wrong_password",
                mac="AA:BB:CC:DD:EE:01",
                mac_differs=True,
            )
        )
    assert api.get("/authlog")["total"] == 3  # the two accepts of world() and this reject
    rejects = api.get("/authlog", params={"result": "reject"})["items"]
    assert [(r["login"], r["method"]) for r in rejects] == [("maria", "chap")]
    assert api.get("/authlog", params={"reason": "wrong_password"})["total"] == 1
    assert api.get("/authlog", params={"reason": "suspended_debt"})["total"] == 0
    assert api.get("/authlog", params={"mac_differs": True, "login": "maria"})["total"] == 1
    assert api.get("/authlog", params={"mac": "aa-bb-cc-dd-ee-01"})["total"] == 1
    assert api.get("/authlog", params={"login": "jose", "result": "accept"})["total"] == 1
    api.get("/authlog", params={"reason": "no_such_reason"}, expect=422)


def test_kick_one_session_and_a_whole_service(api: Any, db_url: str, factory: sessionmaker[Session]) -> None:
    with CoaResponder(SECRET) as responder:
        ids = world(factory, responder)
        settings = settings_for(db_url)
        maria = api.get("/sessions", params={"login": "maria", "online": True})["items"][0]
        kicked = api.post(f"/sessions/{maria['id']}/disconnect", {"reason": "cliente pediu"}, expect=202)
        assert (
            kicked["service_id"] == ids["maria"] and kicked["sessions"] == 1 and kicked["state"] == "pending"
        )
        assert enforce(settings, factory) == 1
        sent = [r for r in responder.received if r.code == packet.DisconnectRequest]
        assert [(r.first("User-Name"), r.first("Acct-Session-Id")) for r in sent] == [("maria", "81a00001")]
        rows = api.get(f"/services/{ids['maria']}/enforcement")["items"]
        assert [(r["cause"], r["state"]) for r in rows] == [("derrubar: cliente pediu", "done")]
        attempts = rows[0]["attempt_log"]
        assert [(a["method"], a["result"]) for a in attempts] == [("disconnect", "ack")]
        assert f"127.0.0.1:{responder.port}" in attempts[0]["detail"]
        history = api.get(f"/services/{ids['maria']}/history")["items"]
        assert any(h["action"] == "disconnect" and "cliente pediu" in (h["note"] or "") for h in history)
        # The whole service, with nobody else touched.
        api.post(f"/services/{ids['jose']}/disconnect", expect=202)
        assert enforce(settings, factory) == 1
        sent = [r for r in responder.received if r.code == packet.DisconnectRequest]
        assert [r.first("User-Name") for r in sent] == ["maria", "jose"]
    # Nothing open: said so.
    with factory.begin() as s:
        for row in s.query(AcctSession).filter(AcctSession.stop_time.is_(None)):
            row.stop_time = utcnow()
    detail = api.post(f"/services/{ids['jose']}/disconnect", expect=409)["detail"]
    assert "has no open session" in detail
    detail = api.post(f"/sessions/{maria['id']}/disconnect", expect=409)["detail"]
    assert "is closed already" in detail


def test_kick_falls_back_to_the_routeros_api(api: Any, db_url: str, factory: sessionmaker[Session]) -> None:
    with CoaResponder(SECRET) as responder, RouterOsFake() as router:
        ids = world(factory, responder, router)
        responder.silent = True  # /radius incoming is off on this router
        api.post(f"/services/{ids['maria']}/disconnect", expect=202)
        enforce(settings_for(db_url), factory)
        attempts = api.get(f"/services/{ids['maria']}/enforcement")["items"][0]["attempt_log"]
        assert [(a["method"], a["result"]) for a in attempts] == [
            ("disconnect", "timeout"),
            ("api_kick", "ack"),
        ]
        assert [a["name"] for a in router.tables["/ppp/active"]] == ["jose"]


def test_kick_needs_its_permission(api: Any) -> None:
    operator = {"login": "leitor", "name": "Leitor", "password": PASSWORD, "permissions": ["sessions.read"]}
    api.post("/operators", operator, expect=201)
    reader = api.login("leitor", PASSWORD)
    reader.get("/sessions")
    detail = reader.post("/services/1/disconnect", expect=403)["detail"]
    assert "sessions.disconnect" in detail


def test_cli_lists_and_kicks(db_url: str, factory: sessionmaker[Session], tmp_path: Path) -> None:
    config = tmp_path / "aaa.toml"
    config.write_text(f'database_url = "{db_url}"\n')
    with CoaResponder(SECRET) as responder:
        world(factory, responder)
        listed = seed(config, "sessions", "--online")
        assert "81a00001" in listed and "81a00002" in listed and "81a00000" not in listed
        by_mac = seed(config, "sessions", "--mac", "AA:BB:CC:DD:EE:FF")
        assert "81a00000" in by_mac and "81a00001" not in by_mac
        said = seed(config, "kick", "maria", "--reason", "teste")
        assert "disconnecting 1 session(s) of maria" in said
        enforce(settings_for(db_url), factory)
        sent = [r.first("Acct-Session-Id") for r in responder.received if r.code == packet.DisconnectRequest]
        assert sent == ["81a00001"]
