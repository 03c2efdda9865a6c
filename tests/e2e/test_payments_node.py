"""A running node (`aaa serve` as a process) with Asaas as its payment provider, the provider a
loopback fake of its API: the node's job creates the invoice's charge at Asaas, Asaas's webhook
comes over HTTP to the node, the subscriber suspended for debt is enabled again and the node's
enforcer sends the change to the NAS (a CoA/Disconnect responder); the repeated webhook changes
nothing. Before that the provider is down for a while: the invoice is issued all the same, and
its charge is created once Asaas is back."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import radius_client as rc
from tests.api_client import person
from tests.conftest import SECRET, wait_for
from tests.dates import business_today
from tests.e2e.node import ok, served_node
from tests.fakes.asaas import AsaasFake
from tests.fakes.coa_responder import CoaResponder

KEY, TOKEN = "$aact_e2e_key", "asaas-webhook-token-e2e"


@pytest.mark.pg
def test_asaas_pays_a_suspended_subscriber_back_online(tmp_path: Path) -> None:
    billing = (
        "[jobs]\ngateway_seconds = 0.3\n"
        f'[billing]\ngateway = "asaas"\nasaas_url = "{{url}}/v3"\nasaas_api_key = "{KEY}"\n'
        f'asaas_webhook_token = "{TOKEN}"\ngateway_backoff_seconds = 0.2\n'
    )
    with (
        AsaasFake(KEY) as asaas,
        CoaResponder(SECRET) as nas_side,
        served_node(tmp_path, "aaa_pay", billing.replace("{url}", asaas.url)) as served,
    ):
        api, base = served.api, f"{served.url}/api/v1"
        auth, acct, log_path = served.auth_port, served.acct_port, served.log
        ok(api.post("/nas", json={"name": "bras-1", "address": "127.0.0.1", "secret": SECRET,
                                  "coa_port": nas_side.port}))  # fmt: skip
        plan = ok(api.post("/plans", json={"name": "Fibra", "price": "99.90", "download_kbps": 100_000,
                                           "upload_kbps": 50_000}))  # fmt: skip
        method = ok(api.post("/billing-methods", json={"name": "Boleto", "total_suspension": True,
                                                       "total_suspension_days": 0,
                                                       "suspended_action": "address_list"}))  # fmt: skip
        customer = ok(api.post("/customers", json=person()))
        service = ok(api.post("/services", json={"customer_id": customer["id"], "plan_id": plan["id"],
                                                 "login": "maria", "password": "maria-pass",
                                                 "billing_method_id": method["id"]}))  # fmt: skip
        due = (business_today() - timedelta(days=1)).isoformat()
        asaas.down = True  # the provider is away while the invoice is issued
        charge = ok(api.post(f"/services/{service['id']}/charges",
                             json={"kind": "other", "due_date": due, "amount": "99.90"}))  # fmt: skip
        body = {"charge_ids": [charge["id"]], "billing_method_id": method["id"], "due_date": due}
        invoice = ok(api.post("/invoices", json=body))
        assert wait_for(lambda: _gateway(api, invoice["id"]).get("attempts", 0) >= 1, timeout=15)
        assert _gateway(api, invoice["id"])["state"] == "pending"
        ok(api.post("/routines/suspension", json={"dry_run": False}))
        assert ok(api.get(f"/services/{service['id']}"))["status"] == "suspended_debt"
        asaas.down = False
        assert wait_for(lambda: _gateway(api, invoice["id"]).get("state") == "created", timeout=20)
        row = _gateway(api, invoice["id"])

        # maria dials in (into the suspended profile) and her session starts.
        radius = rc.client(auth, acct, SECRET)
        assert rc.send(radius, rc.pap(radius, "maria", "maria-pass")).code == 2
        rc.send(radius, rc.accounting(radius, "Start", "maria", "e2e00001", Framed_IP_Address="100.64.0.9"))
        nas_side.online("maria", "e2e00001")
        nas_side.received.clear()

        status, answer = asaas.webhook(
            f"{base}/hooks/asaas", "wrong-token", "PAYMENT_RECEIVED", row["provider_id"]
        )
        assert status == 401
        status, answer = asaas.webhook(f"{base}/hooks/asaas", TOKEN, "PAYMENT_RECEIVED", row["provider_id"])
        assert status == 200 and answer["applied"] == 1, answer
        assert ok(api.get(f"/invoices/{invoice['id']}"))["status"] == "paid"
        assert ok(api.get(f"/services/{service['id']}"))["status"] == "enabled"
        assert wait_for(lambda: any(r.first("User-Name") == "maria" for r in nas_side.received), timeout=15)
        status, answer = asaas.webhook(f"{base}/hooks/asaas", TOKEN, "PAYMENT_CONFIRMED", row["provider_id"])
        assert status == 200 and answer["duplicates"] == 1 and answer["applied"] == 0
        assert len(ok(api.get(f"/customers/{customer['id']}/receipts"))["items"]) == 1
        assert KEY not in log_path.read_text()  # credentials never logged


def _gateway(api: httpx.Client, invoice_id: int) -> dict[str, Any]:
    response = api.get(f"/invoices/{invoice_id}/gateway")
    return dict(response.json()) if response.status_code == 200 else {}
