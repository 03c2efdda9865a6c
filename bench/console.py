"""Operator console benchmark: how long the server takes to produce the HTML of the Serviço page,
the Cliente page and the search, over 100,000 customers each with a service, on PostgreSQL.

    .venv/bin/python -m bench.console [--customers 100000] [--runs 50]

The data set is bench.search's (Brazilian names with accents, CPF-like documents, phones,
e-mails, logins, some MACs); the measured service also has a week of authentications (accepts
and rejects), 200 closed sessions, one open session and enforcement attempts, so every panel of
its page has rows. Requests go through the whole ASGI application in process (Starlette's
TestClient: routing, the session cookie and rights read from the database, the domain queries,
Jinja2), logged in as a superuser; median and 95th percentile of ``--runs`` runs each. The
target is at most 150 ms. Written to bench/results/console.md.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from aaa.composition import build
from aaa.db.migrate import upgrade
from aaa.nas.service import add_nas
from aaa.operators.service import add_operator
from aaa.settings import load_settings
from aaa.tables.accounting import AcctSession, AuthLog, AuthResult, ClosedBy
from aaa.tables.subscribers import Service
from admin_api.app import create_app
from bench.results import save
from bench.scratch import scratch_database
from bench.search import populate
from bench.timing import timed

PASSWORD = "bench-console-password-1"
MEASURED = 4321  # the customer (and its service) whose pages are measured


def history(factory: sessionmaker[Session]) -> tuple[int, int]:
    """Authentications, sessions and an enforcement attempt for the measured service."""
    now = datetime.now(UTC)
    with factory.begin() as session:
        service = session.scalars(select(Service).where(Service.customer_id == MEASURED)).one()
        nas = add_nas(session, name="bras-1", address="10.0.0.1", secret="bench-secret-0123456789")
        mac = "AA:BB:CC:00:10:E1"
        for i in range(100):
            reject = i % 5 == 0
            session.add(
                AuthLog(
                    time=now - timedelta(minutes=37 * i),
                    nas_id=nas.id,
                    login=service.login,
                    service_id=service.id,
                    method="pap",
                    mac=mac,
                    nas_port_id="ether2",
                    result=AuthResult.REJECT if reject else AuthResult.ACCEPT,
                    reason="plan bench → reject: wrong_password" if reject else "plan bench 1M/1M",
                )
            )
        for i in range(201):
            start = now - timedelta(hours=2 * i + 2)
            session.add(
                AcctSession(
                    nas_id=nas.id,
                    acct_session_id=f"bench{i:05d}",
                    login=service.login,
                    service_id=service.id,
                    framed_ip="100.64.0.9",
                    calling_station_id=mac,
                    nas_port_id="ether2",
                    start_time=start,
                    stop_time=None if i == 0 else start + timedelta(hours=1),
                    session_time=3600,
                    input_octets=1_000_000,
                    output_octets=9_000_000,
                    closed_by=None if i == 0 else ClosedBy.STOP,
                )
            )
        return service.customer_id, service.id


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    with scratch_database("aaa_bench_console") as url:
        upgrade(url)
        settings = load_settings(None, database_url=url)
        components = build(settings)
        started = time.perf_counter()
        populate(components.engine, args.customers)
        customer, service = history(components.factory)
        with components.factory.begin() as session:
            add_operator(session, login="admin", name="Admin", password=PASSWORD, superuser=True)
        print(f"{args.customers} customers and services in {time.perf_counter() - started:.1f} s")
        app = create_app(settings, components)
        pages = {
            "Serviço (all panels with rows)": f"/app/servicos/{service}",
            "Cliente": f"/app/clientes/{customer}",
            "search, a name (joao conceicao): a list": "/app/busca?q=joao+conceicao",
            "search, a login and the 10 it begins (cliente4320)": f"/app/busca?q=cliente{MEASURED - 1}",
            "search, one login (cliente99999; its customer's e-mail too)": "/app/busca?q=cliente99999",
            "Conexões online": "/app/conexoes",
        }
        lines = [
            f"Operator console over {args.customers:,} customers with a service each (PostgreSQL), "
            f"{datetime.now(UTC):%Y-%m-%d}; {args.runs} runs each, whole ASGI app in process.",
            "",
            "| page | status | median ms | p95 ms |",
            "|---|---:|---:|---:|",
        ]
        with TestClient(app) as client:
            answer = client.post(
                "/app/entrar", data={"login": "admin", "senha": PASSWORD}, follow_redirects=False
            )
            assert answer.status_code == 303, answer.text
            for label, path in pages.items():

                def get(path: str = path) -> Any:
                    return client.get(path, follow_redirects=False)

                response, median, p95 = timed(get, args.runs)
                assert response.status_code in (200, 303), (path, response.status_code, response.text[:500])
                lines.append(f"| {label} | {response.status_code} | {median:.1f} | {p95:.1f} |")
        components.close()
    text = "\n".join(lines) + "\n"
    print(text)
    save("console.md", text)


if __name__ == "__main__":
    main()
