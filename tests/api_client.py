"""Helpers for the admin API tests: an app on the test database and a logged-in client."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from aaa.composition import build
from aaa.operators.service import add_operator
from aaa.settings import load_settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note about httpx's successor
    from fastapi.testclient import TestClient

ADMIN_PASSWORD = "admin-password-1"
CPF = "529.982.247-25"  # valid check digits
CPF2 = "111.444.777-35"
CPF3 = "390.533.447-05"
CNPJ = "11.222.333/0001-81"


class Verbs:
    """get/post/patch/put/delete over ``call``, which fails loudly on an unexpected status."""

    def call(self, method: str, path: str, expect: int | None, **kw: Any) -> Any:
        raise NotImplementedError

    def get(self, path: str, expect: int | None = 200, **kw: Any) -> Any:
        return self.call("GET", path, expect, **kw)

    def post(self, path: str, json: Any = None, expect: int | None = 200, **kw: Any) -> Any:
        return self.call("POST", path, expect, json=json, **kw)

    def patch(self, path: str, json: Any, expect: int | None = 200) -> Any:
        return self.call("PATCH", path, expect, json=json)

    def put(self, path: str, json: Any, expect: int | None = 200) -> Any:
        return self.call("PUT", path, expect, json=json)

    def delete(self, path: str, expect: int | None = 204) -> Any:
        return self.call("DELETE", path, expect)


class Api(Verbs):
    """A TestClient that sends a bearer token and fails loudly on unexpected statuses."""

    def __init__(self, client: TestClient, token: str | None = None) -> None:
        self.client = client
        self.token = token

    def as_token(self, token: str | None) -> Api:
        return Api(self.client, token)

    def call(self, method: str, path: str, expect: int | None = None, **kwargs: Any) -> Any:
        headers = kwargs.pop("headers", {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        response = self.client.request(method, "/api/v1" + path, headers=headers, **kwargs)
        if expect is not None:
            assert response.status_code == expect, (method, path, response.status_code, response.text)
        return response.json() if response.content else None

    def login(self, login: str, password: str) -> Api:
        body = self.as_token(None).post("/auth/login", {"login": login, "password": password})
        return self.as_token(body["token"])


@contextmanager
def admin_app(db_url: str, **overrides: Any) -> Iterator[FastAPI]:
    """The admin API app on ``db_url``, with a superuser ``admin`` (password ADMIN_PASSWORD)."""
    from admin_api.app import create_app

    settings = load_settings(None, database_url=db_url, **overrides)
    components = build(settings)
    with components.factory.begin() as session:
        add_operator(session, login="admin", name="Admin", password=ADMIN_PASSWORD, superuser=True)
    yield create_app(settings, components)
    components.close()


@contextmanager
def api_for(db_url: str, **overrides: Any) -> Iterator[Api]:
    """An in-process client of ``admin_app``, logged in as ``admin``."""
    with admin_app(db_url, **overrides) as app, TestClient(app, client=("203.0.113.7", 50000)) as client:
        yield Api(client).login("admin", ADMIN_PASSWORD)


def person(document: str = CPF, city: str = "Formiga", **extra: Any) -> dict[str, Any]:
    return {
        "kind": "person",
        "name": "Maria da Silva",
        "document": document,
        "birth_date": "1985-03-04",
        "phones": ["(37) 99999-0000"],
        "emails": ["maria@example.com"],
        "addresses": {
            "registration": {
                "street": "Rua A",
                "number": "10",
                "city": city,
                "state": "MG",
                "cep": "35570-000",
            }
        },
        **extra,
    }


def fixed_subnet(api: Api, cidr: str = "100.64.0.0/16") -> dict[str, Any]:
    """A folder with one fixed-IP subnet, so services can be given addresses from it."""
    folder = api.post("/ipam/folders", {"name": f"Fixed {cidr}"}, expect=201)
    return api.post(
        "/ipam/subnets", {"folder_id": folder["id"], "cidr": cidr, "purpose": "fixed"}, expect=201
    )


@contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """``app`` served by uvicorn on a real loopback socket, configured as `aaa api` serves it;
    yields the base URL (http://127.0.0.1:PORT)."""
    import threading
    import time

    import uvicorn

    from admin_api.app import uvicorn_config

    server = uvicorn.Server(uvicorn_config(app.state.settings, app, host="127.0.0.1", port=0))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


class Http(Verbs):
    """An httpx client of /api/v1 that fails loudly on an unexpected status."""

    def __init__(self, base: str, token: str | None = None):
        self.base = base
        self.client = httpx.Client(base_url=f"{base}/api/v1", timeout=30)
        if token:
            self.client.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, expect: int | None, **kw: Any) -> Any:
        response = self.client.request(method, path, **kw)
        if expect is not None:
            assert response.status_code == expect, (method, path, response.status_code, response.text)
        return response.json() if response.content else None

    def login(self, login: str, password: str, expect: int = 200) -> Http:
        body = Http(self.base).post("/auth/login", {"login": login, "password": password}, expect=expect)
        return Http(self.base, body["token"] if expect == 200 else None)


@contextmanager
def running_api(db_url: str, **overrides: Any) -> Iterator[Http]:
    with admin_app(db_url, **overrides) as app, served(app) as base:
        yield Http(base).login("admin", ADMIN_PASSWORD)
