"""Brazilian payments end to end, each provider replaced by a loopback fake of its public API:
an invoice is issued, the sync job creates its charge at the provider (boleto and PIX fields on
the invoice), the provider's own webhook pays it, the subscriber suspended for debt is enabled
again and the CoA reaches the fake NAS; a repeated webhook changes nothing, a wrong amount is
flagged; a provider that is down never blocks an invoice, whose charge is created on recovery.
Bank return files (CNAB 240, Banco do Brasil CNAB 400) pay by nosso número, once per file."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from aaa.db.base import utcnow
from aaa.subscribers.lifecycle import change_status
from aaa.tables.subscribers import Service
from aaa.vocabulary.subscribers import ServiceStatus
from billing_bridge.boleto import barcode_of
from billing_bridge.gateway_sync import provider_of, sync_due
from billing_bridge.gateways.breaker import Breaker
from billing_bridge.pix import parse
from tests.api_client import api_for
from tests.conftest import make_nas
from tests.dates import business_today
from tests.fakes.asaas import AsaasFake
from tests.fakes.cnab_files import Title, cnab240, cnab400_bb
from tests.fakes.coa_responder import CoaResponder
from tests.fakes.efi import EfiFake, make_certificates
from tests.integration.test_api import operator, setup_service
from tests.integration.test_enforcement import SECRET, enforce, go_online, settings_for
from tests.integration.test_hooks import configure

ASAAS_KEY = "$aact_test_key_0123456789"
ASAAS_TOKEN = "token-que-o-asaas-envia-0123"


def invoice_for(api: Any, service_id: int, method_id: int, amount: str, due: date) -> dict[str, Any]:
    charge = api.post(
        f"/services/{service_id}/charges",
        {
            "kind": "monthly",
            "due_date": due.isoformat(),
            "amount": amount,
            "competence": due.replace(day=1).isoformat(),
        },
        expect=201,
    )
    return dict(
        api.post(
            "/invoices",
            {"charge_ids": [charge["id"]], "billing_method_id": method_id, "due_date": due.isoformat()},
            expect=201,
        )
    )


def sync(api: Any) -> list[Any]:
    app = api.client.app
    b = app.state.settings.billing
    provider = provider_of(b)
    assert provider is not None
    return sync_due(app.state.factory, provider, Breaker(3, 60), utcnow(), backoff=0.0)


def suspend(api: Any, service_id: int) -> None:
    with api.client.app.state.factory.begin() as s:
        service = s.get(Service, service_id)
        change_status(s, service, ServiceStatus.SUSPENDED_DEBT, reason="débito")


@pytest.fixture
def asaas() -> Iterator[AsaasFake]:
    with AsaasFake(ASAAS_KEY) as fake:
        yield fake


def test_asaas_issue_pay_by_webhook_reenable_and_coa(db_url: str, asaas: AsaasFake) -> None:
    billing = {
        "gateway": "asaas",
        "asaas_url": f"{asaas.url}/v3",
        "asaas_api_key": ASAAS_KEY,
        "asaas_webhook_token": ASAAS_TOKEN,
    }
    with api_for(db_url, billing=billing) as api, CoaResponder(SECRET) as responder:
        factory = api.client.app.state.factory
        method = api.post(
            "/billing-methods",
            {"name": "Boleto Asaas", "fine_percent": "2.00", "interest_percent_month": "1.00"},
            expect=201,
        )["id"]
        service = setup_service(api, billing_method_id=method)
        due = business_today() + timedelta(days=5)
        invoice = invoice_for(api, service["id"], method, "99.90", due)

        # The provider is down: the invoice stands, its charge waits.
        asaas.down = True
        [outcome] = sync(api)
        assert outcome.state.value == "pending" and "HTTP 503" in (outcome.error or "")
        charge = api.get(f"/invoices/{invoice['id']}/gateway")
        assert charge["state"] == "pending" and "HTTP 503" in charge["last_error"]
        assert api.get(f"/invoices/{invoice['id']}")["status"] == "issued"
        asaas.down = False
        [outcome] = sync(api)
        assert outcome.state.value == "created"
        charge = api.get(f"/invoices/{invoice['id']}/gateway")
        payment = asaas.payments[charge["provider_id"]]
        assert payment["externalReference"] == f"invoice:{invoice['id']}"
        assert payment["fine"] == {"value": Decimal("2.00"), "type": "PERCENTAGE"}
        assert payment["interest"] == {"value": Decimal("1.00")}
        assert payment["value"] == Decimal("99.90") and payment["dueDate"] == due.isoformat()
        assert barcode_of(charge["linha_digitavel"]) == charge["barcode"]
        boleto = api.get(f"/invoices/{invoice['id']}/boleto")
        assert boleto["source"] == "asaas" and boleto["nosso_numero"] == payment["nossoNumero"]
        pix = api.get(f"/invoices/{invoice['id']}/pix")
        assert pix["source"] == "asaas" and parse(pix["payload"])["26"]["25"].startswith("pix.asaas.com")  # type: ignore[index]
        page = api.client.get(
            f"/api/v1/invoices/{invoice['id']}/print", headers={"Authorization": f"Bearer {api.token}"}
        ).text
        assert "Pague com PIX" in page and boleto["linha_digitavel"] in page and "<rect" in page
        assert sync(api) == []  # nothing more to do: no second charge

        # maria is online and suspended for debt; Asaas calls in.
        with factory.begin() as s:
            nas_id = make_nas(s, coa_port=responder.port)
        go_online(factory, "maria", nas_id, "81a00001", "100.64.0.7", responder)
        suspend(api, service["id"])
        enforce(settings_for(db_url), factory)  # disconnected; she re-dials into the blocked profile
        go_online(factory, "maria", nas_id, "81a00002", "100.64.0.7", responder, granted=None)
        responder.received.clear()
        wrong = api.client.post(
            "/api/v1/hooks/asaas", content=b"{}", headers={"asaas-access-token": "someone-else"}
        )
        assert wrong.status_code == 401 and "asaas_webhook_token" in wrong.json()["detail"]
        hook = api.client.post(
            "/api/v1/hooks/asaas",
            content=_asaas_event(asaas, "PAYMENT_RECEIVED", charge["provider_id"]),
            headers={"asaas-access-token": ASAAS_TOKEN},
        )
        assert hook.status_code == 200 and hook.json()["applied"] == 1, hook.text
        assert api.get(f"/invoices/{invoice['id']}")["status"] == "paid"
        assert api.get(f"/services/{service['id']}")["status"] == "enabled"
        enforce(settings_for(db_url), factory)
        assert any(r.first("User-Name") == "maria" for r in responder.received)  # CoA/Disconnect sent
        again = api.client.post(
            "/api/v1/hooks/asaas",
            content=_asaas_event(asaas, "PAYMENT_CONFIRMED", charge["provider_id"]),
            headers={"asaas-access-token": ASAAS_TOKEN},
        )
        assert again.json()["duplicates"] == 1 and again.json()["applied"] == 0
        ignored = api.client.post(
            "/api/v1/hooks/asaas",
            content=_asaas_event(asaas, "PAYMENT_OVERDUE", charge["provider_id"]),
            headers={"asaas-access-token": ASAAS_TOKEN},
        )
        assert ignored.status_code == 200 and ignored.json()["received"] == 0

        # A second invoice paid with the wrong amount is flagged, not applied.
        second = invoice_for(api, service["id"], method, "99.90", due + timedelta(days=30))
        sync(api)
        provider_id = api.get(f"/invoices/{second['id']}/gateway")["provider_id"]
        short = api.client.post(
            "/api/v1/hooks/asaas",
            content=_asaas_event(asaas, "PAYMENT_RECEIVED", provider_id, value="50.00"),
            headers={"asaas-access-token": ASAAS_TOKEN},
        ).json()
        assert short["flagged"] == 1
        [note] = api.get("/payment-notifications", params={"status": "flagged"})["items"]
        assert note["id"] == short["notification_ids"][0] and "does not match" in note["reason"]
        assert api.get(f"/invoices/{second['id']}")["status"] == "issued"

        # Cancelled or paid at the counter: the provider's charge is cancelled too.
        api.post(f"/invoices/{second['id']}/cancel", {"reason": "erro de digitação"})
        third = invoice_for(api, service["id"], method, "99.90", due + timedelta(days=60))
        sync(api)
        box = api.post("/cash-boxes", {"name": "Caixa"}, expect=201)["id"]
        api.post("/receipts", {"invoice_id": third["id"], "cash_box_id": box}, expect=201)
        sync(api)
        for done in (second, third):
            row = api.get(f"/invoices/{done['id']}/gateway")
            assert row["state"] == "cancelled" and asaas.payments[row["provider_id"]]["deleted"]


def _asaas_event(fake: AsaasFake, event: str, payment_id: str, value: str | None = None) -> bytes:
    import json

    payment = {k: v for k, v in fake.payments[payment_id].items() if not k.startswith("_")}
    payment.update(status="RECEIVED", paymentDate=business_today().isoformat())
    if value is not None:
        payment["value"] = Decimal(value)
    return json.dumps({"id": f"evt_{event}", "event": event, "payment": payment}, default=str).encode()


def test_asaas_refusal_is_shown_and_retried_after_the_fix(db_url: str, asaas: AsaasFake) -> None:
    billing = {"gateway": "asaas", "asaas_url": f"{asaas.url}/v3", "asaas_api_key": ASAAS_KEY}
    with api_for(db_url, billing=billing) as api:
        method = api.post("/billing-methods", {"name": "Boleto"}, expect=201)["id"]
        service = setup_service(api, billing_method_id=method)
        invoice = invoice_for(api, service["id"], method, "10.00", business_today() + timedelta(days=3))
        with api.client.app.state.factory.begin() as s:
            s.get(Service, service["id"]).customer.document = None  # type: ignore[union-attr]
        [outcome] = sync(api)
        row = api.get(f"/invoices/{invoice['id']}/gateway")
        assert row["state"] == "failed" and "invalid_cpfCnpj" in row["last_error"]
        ana = operator(api, "ana", permissions=["finance.read"])
        ana.post(f"/invoices/{invoice['id']}/gateway/retry", expect=403)
        with api.client.app.state.factory.begin() as s:
            s.get(Service, service["id"]).customer.document = "52998224725"  # type: ignore[union-attr]
        api.post(f"/invoices/{invoice['id']}/gateway/retry")
        [outcome] = sync(api)
        assert outcome.state.value == "created"
        configure(api, asaas_api_key=SecretStr("wrong"))
        other = invoice_for(api, service["id"], method, "10.00", business_today() + timedelta(days=33))
        [outcome] = sync(api)
        assert outcome.state.value == "failed" and "refused the API key" in (outcome.error or "")
        assert "wrong" not in api.get(f"/invoices/{other['id']}/gateway")["last_error"]


def test_efi_pix_over_mutual_tls_paid_by_its_webhook(db_url: str, tmp_path: Path) -> None:
    certs = make_certificates(tmp_path)
    with EfiFake(certs, "Client_Id_abc", "Client_Secret_xyz", "pix@provedor.com.br") as efi:
        billing = {
            "gateway": "efi",
            "efi_url": efi.url,
            "efi_client_id": "Client_Id_abc",
            "efi_client_secret": "Client_Secret_xyz",
            "efi_certificate": str(certs["client"]),
            "efi_ca_file": str(certs["ca"]),
            "efi_pix_key": "pix@provedor.com.br",
            "efi_webhook_secret": "segredo-do-webhook-efi",
        }
        with api_for(db_url, billing=billing) as api:
            method = api.post(
                "/billing-methods",
                {"name": "PIX", "fine_percent": "2.00", "interest_percent_month": "1.00"},
                expect=201,
            )["id"]
            service = setup_service(api, billing_method_id=method)
            invoice = invoice_for(api, service["id"], method, "120.00", business_today() + timedelta(days=10))
            [outcome] = sync(api)
            assert outcome.state.value == "created", outcome.error
            row = api.get(f"/invoices/{invoice['id']}/gateway")
            cob = efi.cobs[row["provider_id"]]
            assert len(row["provider_id"]) == 26 and cob["chave"] == "pix@provedor.com.br"
            assert cob["valor"]["original"] == "120.00"
            assert cob["valor"]["multa"] == {"modalidade": 2, "valorPerc": "2.00"}
            assert cob["valor"]["juros"] == {"modalidade": 3, "valorPerc": "1.00"}
            assert cob["devedor"]["cpf"] and cob["calendario"]["validadeAposVencimento"] == 30
            assert api.get(f"/invoices/{invoice['id']}/pix")["payload"] == cob["pixCopiaECola"]

            secret = "?hmac=segredo-do-webhook-efi&ignorar="
            forged = api.client.post("/api/v1/hooks/efi/pix?hmac=chute", json={"pix": []})
            assert forged.status_code == 401
            test_call = api.client.post(f"/api/v1/hooks/efi{secret}", json={"evento": "teste_webhook"})
            assert test_call.status_code == 200 and test_call.json()["received"] == 0
            body = {"pix": [{"endToEndId": "E0000000020261203101500000000001", "txid": row["provider_id"],
                             "valor": "120.00", "horario": datetime.now(UTC).isoformat()}]}  # fmt: skip
            paid = api.client.post(f"/api/v1/hooks/efi/pix{secret}", json=body)
            assert paid.status_code == 200 and paid.json()["applied"] == 1, paid.text
            assert api.get(f"/invoices/{invoice['id']}")["status"] == "paid"
            assert api.client.post(f"/api/v1/hooks/efi/pix{secret}", json=body).json()["duplicates"] == 1


def test_efi_refuses_a_client_without_its_certificate(tmp_path: Path) -> None:
    from billing_bridge.gateways.base import ProviderDown
    from billing_bridge.gateways.efi import Efi

    certs = make_certificates(tmp_path)
    with EfiFake(certs, "id", "secret", "key") as efi:
        bare = Efi(efi.url, "id", "secret", "key", "", certificate="", ca_file=str(certs["ca"]),
                   days_after_due=0, timeout=2)  # fmt: skip
        with pytest.raises(ProviderDown):
            bare.cancel("isp00000000000000000000001")
        assert efi.seen == []  # the handshake failed: no request got through


def test_bank_return_files_pay_by_nosso_numero_once(db_url: str, tmp_path: Path) -> None:
    billing = {
        "boleto_bank": "001",
        "boleto_convenio": "1234567",
        "boleto_wallet": "17",
        "boleto_beneficiary": "Provedor Exemplo Ltda",
        "boleto_instructions": "Não receber após 30 dias",
    }
    with api_for(db_url, billing=billing) as api:
        method = api.post("/billing-methods", {"name": "Boleto BB"}, expect=201)["id"]
        service = setup_service(api, billing_method_id=method)
        due = business_today() + timedelta(days=5)
        first = invoice_for(api, service["id"], method, "99.90", due)
        second = invoice_for(api, service["id"], method, "79.90", due + timedelta(days=30))
        third = invoice_for(api, service["id"], method, "59.90", due + timedelta(days=60))
        boleto = api.get(f"/invoices/{first['id']}/boleto")
        assert boleto["nosso_numero"] == f"1234567{first['id']:010d}" and boleto["source"] == "bank"
        assert barcode_of(boleto["linha_digitavel"]) == boleto["barcode"]
        assert boleto["bank"] == "001 - Banco do Brasil"
        page = api.client.get(
            f"/api/v1/invoices/{first['id']}/print", headers={"Authorization": f"Bearer {api.token}"}
        ).text
        assert boleto["linha_digitavel"] in page and "Não receber após 30 dias" in page
        suspend(api, service["id"])
        today = business_today()
        nn = [api.get(f"/invoices/{i['id']}/boleto")["nosso_numero"] for i in (first, second, third)]
        titles = [
            Title(nn[0], "06", Decimal("99.90"), Decimal("99.90"), today),  # paid
            Title(nn[0], "06", Decimal("99.90"), Decimal("99.90"), today),  # the same boleto again
            Title("98765430000000001", "06", Decimal("10.00"), Decimal("10.00"), today),  # not ours
            Title(nn[1], "06", Decimal("79.90"), Decimal("70.00"), today),  # wrong amount
            Title(nn[2], "02", Decimal("59.90"), Decimal("0"), today),  # entry confirmed: no payment
        ]
        content = cnab240("001", titles, today)
        headers = {"Authorization": f"Bearer {api.token}", "Content-Type": "application/octet-stream"}
        answer = api.client.post("/api/v1/finance/returns?name=CBR001.RET", content=content, headers=headers)
        assert answer.status_code == 201, answer.text
        report = answer.json()
        assert report["counts"] == {"paid": 1, "already_paid": 1, "unknown": 1, "amount_mismatch": 1,
                                    "cancelled_invoice": 0, "not_a_payment": 1, "invalid": 0}  # fmt: skip
        assert [line["outcome"] for line in report["lines"]] == [
            "paid", "already_paid", "unknown", "amount_mismatch", "not_a_payment"]  # fmt: skip
        assert api.get(f"/invoices/{first['id']}")["status"] == "paid"
        assert api.get(f"/services/{service['id']}")["status"] == "enabled"
        assert api.get(f"/invoices/{second['id']}")["status"] == "issued"
        repeat = api.client.post("/api/v1/finance/returns", content=content, headers=headers)
        assert repeat.status_code == 200 and repeat.json()["already_imported"] is True
        assert repeat.json()["counts"] == report["counts"]
        listed = api.get("/finance/returns")
        assert listed["total"] == 1 and listed["items"][0]["name"] == "CBR001.RET"

        # The bank's CNAB 400 for the third invoice, through the CLI.
        path = tmp_path / "CBR643.RET"
        path.write_bytes(
            cnab400_bb("1234567", [Title(nn[2], "06", Decimal("59.90"), Decimal("59.90"), today)], today)
        )
        config = tmp_path / "aaa.toml"
        config.write_text(
            f'database_url = "{db_url}"\n[billing]\nboleto_bank = "001"\nboleto_convenio = "1234567"\n'
        )
        cli = subprocess.run(
            [sys.executable, "-m", "aaa.cli", "finance", "retorno", str(path), "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert cli.returncode == 0, cli.stderr
        assert "paid 1" in cli.stdout and nn[2] in cli.stdout
        assert api.get(f"/invoices/{third['id']}")["status"] == "paid"
        garbage = api.client.post("/api/v1/finance/returns", content=b"not a file\n", headers=headers)
        assert garbage.status_code == 422 and "240 or 400" in garbage.json()["detail"]
        city = operator(api, "cidade", permissions=["finance.returns"], cities=["Formiga"])
        assert (
            city.client.post(
                "/api/v1/finance/returns", content=content, headers={"Authorization": f"Bearer {city.token}"}
            ).status_code
            == 403
        )


def test_nothing_configured_works_as_before(api: Any) -> None:
    method = api.post("/billing-methods", {"name": "Carnê"}, expect=201)["id"]
    service = setup_service(api, billing_method_id=method)
    invoice = invoice_for(api, service["id"], method, "10.00", business_today() + timedelta(days=3))
    assert "no boleto" in api.get(f"/invoices/{invoice['id']}/boleto", expect=409)["detail"]
    assert api.get(f"/invoices/{invoice['id']}/gateway", expect=404)
    assert api.client.post("/api/v1/hooks/asaas", content=b"{}").status_code == 404
    with api.client.app.state.factory() as s:
        assert s.scalar(select(Service.id)) == service["id"]


def test_reissue_moves_the_charge_and_a_down_provider_is_left_alone(db_url: str, asaas: AsaasFake) -> None:
    billing = {"gateway": "asaas", "asaas_url": f"{asaas.url}/v3", "asaas_api_key": ASAAS_KEY}
    with api_for(db_url, billing=billing) as api:
        method = api.post("/billing-methods", {"name": "Boleto"}, expect=201)["id"]
        service = setup_service(api, billing_method_id=method)
        first_due = business_today() + timedelta(days=3)
        invoice = invoice_for(api, service["id"], method, "80.00", first_due)
        sync(api)
        old = api.get(f"/invoices/{invoice['id']}/gateway")
        new_due = first_due + timedelta(days=10)
        reissued = api.post(
            f"/invoices/{invoice['id']}/reissue",
            {"due_date": new_due.isoformat(), "reason": "pediu"},
            expect=201,
        )
        sync(api)
        assert api.get(f"/invoices/{invoice['id']}/gateway")["state"] == "cancelled"
        assert asaas.payments[old["provider_id"]]["deleted"]
        new = api.get(f"/invoices/{reissued['id']}/gateway")
        assert (
            new["state"] == "created" and asaas.payments[new["provider_id"]]["dueDate"] == new_due.isoformat()
        )

        # Down: three failures in a row open the breaker; the other charges wait without calls.
        for n in range(5):
            invoice_for(api, service["id"], method, "1.00", first_due + timedelta(days=40 + 31 * n))
        asaas.down = True
        asaas.seen.clear()
        app = api.client.app
        provider = provider_of(app.state.settings.billing)
        assert provider is not None
        breaker = Breaker(3, 60)
        outcomes = sync_due(app.state.factory, provider, breaker, utcnow(), backoff=0.0)
        assert len(outcomes) == 3 and len(asaas.seen) == 3 and not breaker.allows()
        assert sync_due(app.state.factory, provider, breaker, utcnow(), backoff=0.0) == []
        assert len(asaas.seen) == 3
