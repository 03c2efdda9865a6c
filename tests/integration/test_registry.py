"""The customer registry (seed 003) through the API, on SQLite and PostgreSQL: a company's IE and
IM, several contacts with their consent, a must-read note shown with every service of the
customer, and the active flag."""

from __future__ import annotations

from typing import Any

from tests.api_client import CNPJ, person

PLAN = {"name": "Fibra", "price": "99.90", "download_kbps": 100_000, "upload_kbps": 50_000}


def test_ie_im_contacts_must_read_and_active(api: Any) -> None:
    company = person(
        CNPJ,
        kind="company",
        name="Padaria Pão Quente LTDA",
        state_registration="0012345670089",
        municipal_registration="98765",
        contacts=[
            {"name": "Rosa", "phone": "(37) 98888-0001", "role": "financeiro", "whatsapp": True},
            {"name": "Téo", "email": "teo@padaria.example", "role": "técnico", "sms": True},
        ],
        must_read="Cliente só atende após as 14h. Cobrar sempre pelo WhatsApp da Rosa.",
    )
    made = api.post("/customers", company, expect=201)
    assert (made["state_registration"], made["municipal_registration"], made["active"]) == (
        "0012345670089",
        "98765",
        True,
    )
    assert [(c["name"], c["role"], c["whatsapp"], c["sms"]) for c in made["contacts"]] == [
        ("Rosa", "financeiro", True, False),
        ("Téo", "técnico", False, True),
    ]
    plan = api.post("/plans", PLAN, expect=201)["id"]
    service = api.post(
        "/services", {"customer_id": made["id"], "plan_id": plan, "login": "padaria"}, expect=201
    )
    note = "Cliente só atende após as 14h. Cobrar sempre pelo WhatsApp da Rosa."
    assert service["customer_must_read"] == note
    assert api.get(f"/services/{service['id']}")["customer_must_read"] == note
    assert api.get("/services", params={"customer_id": made["id"]})["items"][0]["customer_must_read"] == note
    assert api.get(f"/services/{service['id']}/diagnostics")["service"]["customer_must_read"] == note
    # A contact's phone or e-mail finds the customer.
    assert [h["label"] for h in api.get("/search", params={"q": "98888-0001"})["items"]] == [made["name"]]
    assert [h["label"] for h in api.get("/search", params={"q": "teo@padaria.example"})["items"]] == [
        made["name"]
    ]
    # Inactive, and the note cleared.
    changed = api.patch(f"/customers/{made['id']}", {"active": False, "must_read": None})
    assert changed["active"] is False
    assert api.get(f"/services/{service['id']}")["customer_must_read"] is None
    bad = api.patch(
        f"/customers/{made['id']}", {"contacts": [{"name": "X", "email": "not-an-email"}]}, expect=422
    )
    assert "contacts.0.email" in bad["detail"]
