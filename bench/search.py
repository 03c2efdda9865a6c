"""Search benchmark: GET /search's query over 100,000 customers, each with a service.

    .venv/bin/python -m bench.search [--customers 100000] [--runs 30]

Customers get Brazilian names with accents (drawn from a fixed list, seeded), a CPF-like
document, a phone and an e-mail; each has a service with a login and, one in ten, a registered
MAC. Measured in process through ``aaa.search.search`` (the route's whole query work, Python
included), on PostgreSQL ($AAA_BENCH_PG; database aaa_bench_search is created and dropped), for
the kinds of query an attendant types; median and 95th percentile of ``--runs`` runs each. The
target is at most 50 ms. Written to bench/results/search.md.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime

import sqlalchemy as sa

from aaa.composition import session_factory
from aaa.db.engine import make_engine
from aaa.db.migrate import upgrade
from aaa.search import search
from aaa.subscribers.customers import EVERYWHERE
from aaa.vocabulary.search import search_text
from bench.results import save
from bench.scratch import scratch_database
from bench.timing import timed

FIRST = [
    "João",
    "José",
    "Maria",
    "Ana",
    "Antônio",
    "Francisca",
    "Luís",
    "Márcia",
    "Sebastião",
    "Conceição",
    "Raimundo",
    "Lúcia",
    "Fábio",
    "Tânia",
    "Inês",
    "Cláudio",
    "Vitória",
    "Júlio",
    "Débora",
    "Caio",
]
LAST = [
    "Silva",
    "Souza",
    "Oliveira",
    "Conceição",
    "Araújo",
    "Gonçalves",
    "Lima",
    "Gomes",
    "Ribeiro",
    "Simões",
    "Magalhães",
    "Brandão",
    "Patrício",
    "Leão",
    "Assunção",
    "Falcão",
    "Nogueira",
    "Pimentel",
]
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def populate(engine: sa.Engine, count: int) -> None:
    rng = random.Random(7)
    with engine.begin() as conn:
        plan = conn.execute(
            sa.text(
                "INSERT INTO plan (name, price, download_kbps, upload_kbps, reply_attributes, created_at)"
                " VALUES ('bench', 0, 1000, 1000, '[]', :t) RETURNING id"
            ),
            {"t": T0},
        ).scalar_one()
        rows = []
        for n in range(count):
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {rng.choice(LAST)}"
            document = f"{n:011d}"
            phone = f"(37) 9{rng.randrange(10**7, 10**8)}"
            email = f"cliente{n}@example.com"
            rows.append(
                {
                    "name": name,
                    "document": document,
                    "phones": f'["{phone}"]',
                    "emails": f'["{email}"]',
                    "search": search_text(name, None, document, [phone], [email]),
                    "t": T0,
                }
            )
        conn.execute(
            sa.text(
                "INSERT INTO customer (kind, name, document, phones, emails, search_text, created_at)"
                " VALUES ('person', :name, :document, CAST(:phones AS json), CAST(:emails AS json),"
                " :search, :t)"
            ),
            rows,
        )
        ids = conn.execute(sa.text("SELECT id FROM customer ORDER BY id")).scalars().all()
        conn.execute(
            sa.text(
                "INSERT INTO service (customer_id, plan_id, login, password, status, simultaneous_use,"
                " mac_binding, mac, price, reply_attributes, created_at, updated_at)"
                " VALUES (:c, :p, :l, 'x', 'enabled', 1, 'off', :m, 0, '[]', :t, :t)"
            ),
            [
                {
                    "c": cid,
                    "p": plan,
                    "l": f"cliente{n}",
                    "m": f"AA:BB:CC:{n >> 16 & 255:02X}:{n >> 8 & 255:02X}:{n & 255:02X}"
                    if n % 10 == 0
                    else None,
                    "t": T0,
                }
                for n, cid in enumerate(ids)
            ],
        )
        conn.execute(sa.text("ANALYZE"))


QUERIES = {
    "name, accents omitted (joao conceicao)": "joao conceicao",
    "name, rare pair (debora falcao)": "debora falcao",
    "CPF with punctuation": "000.000.543-21",
    "phone digits": "9",  # replaced by a real phone below
    "e-mail": "cliente65432@example.com",
    "PPPoE login, exact": "cliente65432",
    "PPPoE login, beginning": "cliente6543",
    "MAC": "aa:bb:cc:00:ff:a0",
    "IP, nobody holds it": "100.64.9.9",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with scratch_database("aaa_bench_search") as url:
        upgrade(url)
        engine = make_engine(url)
        started = time.perf_counter()
        populate(engine, args.customers)
        print(f"{args.customers} customers and services in {time.perf_counter() - started:.1f} s")
        factory = session_factory(engine)
        with factory() as s:
            phone = s.execute(sa.text("SELECT phones->>0 FROM customer WHERE id = 4321")).scalar_one()
        QUERIES["phone digits"] = phone
        lines = [
            f"Search over {args.customers:,} customers, each with a service (PostgreSQL, pg_trgm), "
            f"{datetime.now(UTC):%Y-%m-%d}; {args.runs} runs each, in process.",
            "",
            "| query | hits | median ms | p95 ms |",
            "|---|---:|---:|---:|",
        ]
        for label, query in QUERIES.items():

            def run(query: str = query) -> int:
                with factory() as s:
                    return len(search(s, EVERYWHERE, query, limit=20))

            hits, median, p95 = timed(run, args.runs)
            lines.append(f"| {label} | {hits} | {median:.1f} | {p95:.1f} |")
        engine.dispose()
    text = "\n".join(lines) + "\n"
    print(text)
    save("search.md", text)


if __name__ == "__main__":
    main()
