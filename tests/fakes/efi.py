"""Efí's PIX API (the Banco Central's PIX API standard as Efí documents it), on loopback over
mutual TLS: ``POST /oauth/token`` (HTTP Basic, client_credentials) giving a Bearer token;
``PUT/GET/PATCH /v2/cobv/{txid}`` (a charge with a due date: txid of 26-35 letters and digits,
``calendario.dataDeVencimento``, ``valor.original``, the receiver's ``chave``) answering with
``loc`` and ``pixCopiaECola``; errors as ``{"nome", "mensagem"}``; and the webhook Efí sends
(``{"pix": [{"endToEndId", "txid", "valor", "horario"}]}`` to the registered URL + "/pix")."""

from __future__ import annotations

import base64
import json
import re
import ssl
import subprocess
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from billing_bridge.pix import Pix
from tests.fakes.http_fake import JsonFake, Seen

_TXID = re.compile(r"^[a-zA-Z0-9]{26,35}$")


def make_certificates(folder: Path) -> dict[str, Path]:
    """A CA, the fake's server certificate (127.0.0.1) and the ISP's client certificate (a PEM
    with its key, as Efí hands it over after conversion from .p12)."""

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=folder)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "2", "-subj", "/CN=Efi Fake CA")  # fmt: skip
    for name, extra in (("server", "subjectAltName=IP:127.0.0.1"), ("client", "extendedKeyUsage=clientAuth")):
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
            "-subj", f"/CN={name}")  # fmt: skip
        (folder / f"{name}.ext").write_text(extra + "\n")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext")  # fmt: skip
    bundle = folder / "client-bundle.pem"
    bundle.write_text((folder / "client.pem").read_text() + (folder / "client.key").read_text())
    return {"ca": folder / "ca.pem", "server": folder / "server.pem", "server_key": folder / "server.key",
            "client": bundle}  # fmt: skip


def _problem(status: int, nome: str, mensagem: str) -> tuple[int, Any]:
    return status, {"nome": nome, "mensagem": mensagem}


_NOT_FOUND = _problem(404, "cobranca_nao_encontrada", "Nenhuma cobrança encontrada para o txid informado")


class EfiFake(JsonFake):
    def __init__(self, certificates: dict[str, Path], client_id: str, client_secret: str, pix_key: str):
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(certificates["server"], certificates["server_key"])
        tls.load_verify_locations(certificates["ca"])
        tls.verify_mode = ssl.CERT_REQUIRED  # no client certificate, no handshake
        super().__init__(tls)
        self.client_id, self.client_secret, self.pix_key = client_id, client_secret, pix_key
        self.tokens: set[str] = set()
        self.cobs: dict[str, dict[str, Any]] = {}
        self.route("POST", r"/oauth/token", self._token)
        self.route("PUT", r"/v2/cobv/(\w+)", self._bearer(self._put))
        self.route("GET", r"/v2/cobv/(\w+)", self._bearer(self._get))
        self.route("PATCH", r"/v2/cobv/(\w+)", self._bearer(self._patch))

    def _token(self, seen: Seen, _: Any) -> tuple[int, Any]:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if seen.headers.get("authorization") != f"Basic {expected}":
            return 401, {"error": "invalid_client", "error_description": "Invalid or missing credentials"}
        if (seen.body or {}).get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type", "error_description": "grant_type"}
        token = f"token{len(self.tokens) + 1}"
        self.tokens.add(token)
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600, "scope": "cobv.write"}

    def _bearer(self, handler: Any) -> Any:
        def check(seen: Seen, match: re.Match[str]) -> tuple[int, Any]:
            auth = seen.headers.get("authorization", "")
            if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
                return _problem(401, "nao_autorizado", "Token de autenticação inválido ou expirado")
            return handler(seen, match)  # type: ignore[no-any-return]

        return check

    def _put(self, seen: Seen, match: re.Match[str]) -> tuple[int, Any]:
        txid, body = match[1], seen.body or {}
        if not _TXID.match(txid):
            return _problem(400, "txid_invalido", "O txid deve ter de 26 a 35 caracteres alfanuméricos")
        if txid in self.cobs:
            return _problem(400, "txid_duplicado", "Já existe uma cobrança com o txid informado")
        if body.get("chave") != self.pix_key:
            return _problem(400, "chave_invalida", "A chave informada não pertence a esta conta")
        if not (body.get("calendario") or {}).get("dataDeVencimento"):
            return _problem(400, "json_invalido", "calendario.dataDeVencimento é obrigatório")
        loc = len(self.cobs) + 1
        location = f"qrpix.efipay.com.br/v2/cobv/{txid}"
        self.cobs[txid] = {
            **body,
            "txid": txid,
            "revisao": 0,
            "status": "ATIVA",
            "loc": {"id": loc, "location": location, "tipoCob": "cobv"},
            "pixCopiaECola": Pix("EFI S.A.", "BELO HORIZONTE", location=location).payload(),
        }
        return 201, self.cobs[txid]

    def _get(self, _: Seen, match: re.Match[str]) -> tuple[int, Any]:
        cob = self.cobs.get(match[1])
        if cob is None:
            return _problem(
                404, "cobranca_nao_encontrada", "Nenhuma cobrança encontrada para o txid informado"
            )
        return 200, cob

    def _patch(self, seen: Seen, match: re.Match[str]) -> tuple[int, Any]:
        cob = self.cobs.get(match[1])
        if cob is None:
            return _problem(
                404, "cobranca_nao_encontrada", "Nenhuma cobrança encontrada para o txid informado"
            )
        cob["status"] = (seen.body or {}).get("status", cob["status"])
        return 200, cob

    def webhook(self, url: str, txid: str, end_to_end: str, valor: str) -> tuple[int, Any]:
        """Efí's call to the registered URL with "/pix" appended (before its query string)."""
        base, _, query = url.partition("?")
        body = {
            "pix": [
                {
                    "endToEndId": end_to_end,
                    "txid": txid,
                    "chave": self.pix_key,
                    "valor": valor,
                    "horario": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                }
            ]
        }
        request = urllib.request.Request(
            f"{base}/pix" + (f"?{query}" if query else ""),
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")
