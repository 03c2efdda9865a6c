"""Admin API for policies: custom speed, plan trial, trust unlock, bonus, exempt, with the
validation messages an operator sees, the reason trace in diagnostics, and the audit trail."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from aaa.audit.log import Actor, act_as
from aaa.db.base import utcnow
from aaa.subscribers.lifecycle import change_status
from aaa.tables.subscribers import Service
from aaa.vocabulary.subscribers import ServiceStatus
from tests.api_client import Api
from tests.integration.test_api import setup_service


def hold_for_debt(factory: sessionmaker[Session], service_id: int, status: ServiceStatus) -> None:
    """What the billing routine does; the API has no direct way on purpose."""
    with factory.begin() as s:
        act_as(s, Actor("scheduler", "local"))
        change_status(s, s.get(Service, service_id), status, reason="invoice 12 overdue")  # type: ignore[arg-type]


def plan(name: str, download: int) -> dict[str, object]:
    return {"name": name, "price": "99.90", "download_kbps": download, "upload_kbps": download // 2}


def test_custom_speed_with_an_end_date(api: Api) -> None:
    service = setup_service(api)
    url = f"/services/{service['id']}/custom-speed"
    tomorrow = (utcnow() + timedelta(days=1)).date().isoformat()
    body = api.put(url, {"download_kbps": 300_000, "upload_kbps": 150_000, "until": tomorrow})
    assert (body["custom_download_kbps"], body["custom_upload_kbps"]) == (300_000, 150_000)
    assert body["custom_until"].endswith("03:00:00Z")  # the end of that day in São Paulo (UTC-3)
    trace = api.get(f"/services/{service['id']}/diagnostics")["next_login"]["reasons"]
    assert trace == ["plan Fibra 100M 100M/50M", f"custom 300M/150M until the end of {tomorrow}"]
    error = api.put(url, {"download_kbps": 0, "upload_kbps": 1}, expect=422)
    assert "download_kbps" in str(error)
    past = api.put(url, {"download_kbps": 1000, "upload_kbps": 1000, "until": "2020-01-01"}, expect=422)
    assert "must be in the future" in past["detail"]
    naive = api.put(
        url, {"download_kbps": 1000, "upload_kbps": 1000, "until": "2030-01-01T10:00:00"}, expect=422
    )
    assert "no time zone" in naive["detail"]
    cleared = api.delete(url, expect=200)
    assert cleared["custom_download_kbps"] is None and cleared["custom_until"] is None


def test_plan_trial(api: Api) -> None:
    service = setup_service(api)
    fast = api.post(
        "/plans",
        {"name": "Fibra 300M", "price": "149.90", "download_kbps": 300_000, "upload_kbps": 150_000},
        expect=201,
    )
    slow = api.post(
        "/plans",
        {"name": "Fibra 50M", "price": "59.90", "download_kbps": 50_000, "upload_kbps": 25_000},
        expect=201,
    )
    url = f"/services/{service['id']}/trial"
    until = (utcnow() + timedelta(days=7)).date().isoformat()
    assert "not faster" in api.put(url, {"plan_id": slow["id"], "until": until}, expect=422)["detail"]
    same = api.put(url, {"plan_id": service["plan_id"], "until": until}, expect=422)["detail"]
    assert "the service's own plan" in same
    body = api.put(url, {"plan_id": fast["id"], "until": until})
    assert body["trial_plan_id"] == fast["id"]
    next_login = api.get(f"/services/{service['id']}/diagnostics")["next_login"]
    assert next_login["attributes"]["Mikrotik-Rate-Limit"] == "150M/300M"
    assert api.delete(url, expect=200)["trial_plan_id"] is None


def test_trust_unlock_rules(api: Api, factory: sessionmaker[Session]) -> None:
    service = setup_service(api)
    url = f"/services/{service['id']}/trust-unlock"
    until = (utcnow() + timedelta(days=3)).isoformat()
    refused = api.post(url, {"reason": "promised", "until": until}, expect=409)["detail"]
    assert "only for a service suspended for debt" in refused and "is enabled" in refused
    hold_for_debt(factory, service["id"], ServiceStatus.SUSPENDED_DEBT)
    assert "give the date" in api.post(url, {"reason": "promised"}, expect=422)["detail"]
    far = (utcnow() + timedelta(days=30)).isoformat()
    assert "at most 7 days" in api.post(url, {"reason": "promised", "until": far}, expect=422)["detail"]
    assert api.post(url, {"until": until}, expect=422)  # the reason is required
    body = api.post(url, {"reason": "promised to pay on Friday", "until": until})
    assert body["status"] == "suspended_debt" and body["trust_reason"] == "promised to pay on Friday"
    next_login = api.get(f"/services/{service['id']}/diagnostics")["next_login"]
    assert next_login["outcome"] == "accept"
    assert next_login["reasons"][1].startswith("trust unlock until")

    # Self-service (Central do Assinante): one day, once a month.
    api.delete(url, expect=200)
    mine = api.post(url, {"reason": "self-service", "self_service": True})
    assert mine["trust_until"] is not None
    again = api.post(url, {"reason": "self-service", "self_service": True}, expect=409)["detail"]
    assert "already used 1 time(s) this month" in again

    # Paying ends the debt status and the unlock with it.
    enabled = api.post(f"/services/{service['id']}/enable", {"reason": "paid"})
    assert enabled["trust_until"] is None and enabled["trust_reason"] is None
    entities = {e["entity"] for e in api.get("/audit", params={"service_id": service["id"]})["items"]}
    assert "trust_unlock" in entities


def test_bonus_and_exempt_lift_a_debt_status(api: Api, factory: sessionmaker[Session]) -> None:
    service = setup_service(api)
    hold_for_debt(factory, service["id"], ServiceStatus.REDUCED_DEBT)
    diagnostics = f"/services/{service['id']}/diagnostics"
    assert api.get(diagnostics)["next_login"]["attributes"]["Mikrotik-Rate-Limit"] == "15M/30M"
    until = (utcnow() + timedelta(days=5)).date().isoformat()
    assert api.put(f"/services/{service['id']}/bonus", {"until": until})["bonus_until"] is not None
    assert api.get(diagnostics)["next_login"]["attributes"]["Mikrotik-Rate-Limit"] == "50M/100M"
    api.delete(f"/services/{service['id']}/bonus", expect=200)
    assert api.put(f"/services/{service['id']}/exempt", {"exempt": True})["exempt"] is True
    assert api.get(diagnostics)["next_login"]["reasons"][1] == "exempt from charges"
    api.post(f"/services/{service['id']}/cancel", {"reason": "moved away"})
    gone = api.put(f"/services/{service['id']}/exempt", {"exempt": False}, expect=409)["detail"]
    assert "cancelled" in gone


def test_enforcement_history_is_empty_for_an_offline_service(api: Api) -> None:
    service = setup_service(api)
    api.put(f"/services/{service['id']}/custom-speed", {"download_kbps": 1000, "upload_kbps": 1000})
    assert api.get(f"/services/{service['id']}/enforcement")["items"] == []
    assert api.get("/services/999999/enforcement", expect=404)


def test_billing_method_reduction_overrides_the_isp(api: Api, factory: sessionmaker[Session]) -> None:
    method = api.post(
        "/billing-methods",
        {
            "name": "Cartão",
            "reduction": "absolute",
            "reduction_download_kbps": 2000,
            "reduction_upload_kbps": 1000,
        },
        expect=201,
    )
    service = setup_service(api, billing_method_id=method["id"])
    hold_for_debt(factory, service["id"], ServiceStatus.REDUCED_DEBT)
    diagnostics = f"/services/{service['id']}/diagnostics"
    next_login = api.get(diagnostics)["next_login"]
    assert next_login["attributes"]["Mikrotik-Rate-Limit"] == "1M/2M"
    assert next_login["reasons"][-1] == "reduced to at most 2M/1M: 2M/1M"
    api.patch(f"/billing-methods/{method['id']}", {"reduction": "relative", "reduction_percent": 10})
    assert api.get(diagnostics)["next_login"]["attributes"]["Mikrotik-Rate-Limit"] == "5M/10M"
