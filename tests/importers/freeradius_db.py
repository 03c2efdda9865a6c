"""A FreeRADIUS 3 database as an ISP has it: Debian's stock PostgreSQL schema (rlm_sql) filled
with representative rows — groups with rates (MikroTik with and without bursts, Huawei), a
blocking group, users with each password type, fixed IPs, a per-login rate, a MAC binding, a
disabled user, one without a plan, a pool, open and closed sessions."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from aaa.radius import crypto
from tests.conftest import PG_URL

SQL = Path("/etc/freeradius/3.0/mods-config/sql")
SCHEMAS = (SQL / "main/postgresql/schema.sql", SQL / "ippool/postgresql/schema.sql")
SALT = b"sal!"
NAS_SECRET = "test-secret-0123456789"  # tests.conftest.SECRET: the test NAS and worker

# login → (password in clear, what radcheck holds)
USERS = {
    "maria": ("maria-pass", ("Cleartext-Password", "maria-pass")),
    "joao": ("joao-pass", ("NT-Password", crypto.nt_password_hash("joao-pass").hex().upper())),
    "ana": (
        "ana-pass",
        ("SSHA-Password", base64.b64encode(hashlib.sha1(b"ana-pass" + SALT).digest() + SALT).decode()),
    ),
    "pedro": ("pedro-pass", ("MD5-Password", hashlib.md5(b"pedro-pass").hexdigest())),
    "carla": ("carla-pass", ("Cleartext-Password", "carla-pass")),
    "bloq": ("bloq-pass", ("Cleartext-Password", "bloq-pass")),
    "rej": ("rej-pass", ("Cleartext-Password", "rej-pass")),
    "semplano": ("semplano-pass", ("Cleartext-Password", "semplano-pass")),
    "hw": ("hw-pass", ("Cleartext-Password", "hw-pass")),
}


def fill(conn: psycopg.Connection) -> None:
    for schema in SCHEMAS:
        conn.execute(schema.read_text().encode())
    rows = {
        "nas (nasname, shortname, type, secret, description)": [
            ("127.0.0.1", "bras-1", "mikrotik", NAS_SECRET, "BRAS centro"),
            ("10.9.0.0/24", "pop-2", "other", "abc", "POP bairro"),
        ],
        "radgroupreply (groupname, attribute, op, value)": [
            ("Fibra 100M", "Mikrotik-Rate-Limit", ":=", "50M/100M"),
            ("Fibra 100M", "Acct-Interim-Interval", ":=", "300"),
            ("Fibra 300M", "Mikrotik-Rate-Limit", ":=", "150M/300M 200M/400M 120M/240M 10/10"),
            ("Huawei 50M", "Huawei-Input-Average-Rate", ":=", "25000000"),
            ("Huawei 50M", "Huawei-Output-Average-Rate", ":=", "50000000"),
            ("Sem velocidade", "Session-Timeout", ":=", "3600"),
        ],
        "radgroupcheck (groupname, attribute, op, value)": [("Bloqueados", "Auth-Type", ":=", "Reject")],
        "radcheck (username, attribute, op, value)": [
            *((login, attribute, ":=", value) for login, (_, (attribute, value)) in USERS.items()),
            ("maria", "Simultaneous-Use", ":=", "1"),
            ("pedro", "Calling-Station-Id", "==", "AA:BB:CC:00:00:01"),
            ("rej", "Auth-Type", ":=", "Reject"),
            ("carla", "Expiration", ":=", "31 Dec 2030"),
        ],
        "radusergroup (username, groupname, priority)": [
            ("maria", "Fibra 100M", 1),
            ("joao", "Fibra 300M", 1),
            ("ana", "Fibra 100M", 1),
            ("pedro", "Fibra 100M", 1),
            ("carla", "Fibra 100M", 1),
            ("bloq", "Bloqueados", 0),
            ("bloq", "Fibra 100M", 1),
            ("rej", "Fibra 100M", 1),
            ("semplano", "Sem velocidade", 1),
            ("hw", "Huawei 50M", 1),
        ],
        "radreply (username, attribute, op, value)": [
            ("maria", "Framed-IP-Address", ":=", "100.64.5.10"),
            ("carla", "Mikrotik-Rate-Limit", ":=", "10M/20M"),
            ("carla", "Session-Timeout", ":=", "86400"),
        ],
        "radippool (pool_name, framedipaddress, expiry_time)": [
            ("cgnat", f"100.65.0.{n}", "2026-01-01 00:00:00") for n in range(1, 7)
        ],
        "radacct (acctsessionid, acctuniqueid, username, nasipaddress, nasportid, acctstarttime, "
        "acctupdatetime, acctstoptime, framedipaddress, callingstationid)": [
            (
                "81a00001",
                "u1",
                "joao",
                "127.0.0.1",
                "ether2",
                "2026-12-01 10:00:00+00",
                "2026-12-01 10:05:00+00",
                None,
                "100.64.0.20",
                "AA:BB:CC:00:00:09",
            ),
            (
                "81a00000",
                "u0",
                "joao",
                "127.0.0.1",
                "ether2",
                "2026-11-01 10:00:00+00",
                "2026-11-01 12:00:00+00",
                "2026-11-01 12:00:00+00",
                "100.64.0.20",
                "AA:BB:CC:00:00:09",
            ),
        ],
    }
    for target, values in rows.items():
        columns = target[target.index("(") + 1 : -1].split(", ")
        marks = ", ".join(["%s"] * len(columns))
        with conn.cursor() as cur:
            cur.executemany(f"INSERT INTO {target} VALUES ({marks})", values)


@contextmanager
def freeradius_database() -> Iterator[tuple[str, str]]:
    """(SQLAlchemy URL, database name) of a new, filled FreeRADIUS database; dropped after."""
    import uuid

    name = f"radius_{uuid.uuid4().hex[:8]}"
    admin = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin.rsplit("/", 1)[0] + f"/{name}"
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            fill(conn)
        yield url, name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
