"""The benchmark data set, loaded twice with COPY: into isp-aaa's schema and into FreeRADIUS's
stock PostgreSQL schema (rlm_sql), so both servers answer from the same subscribers.

100,000 subscribers over 5 plans, 10 % with a fixed IP, 300,000 closed and 50,000 open
accounting sessions. Subscribers with an even number have an open session; the load
generator authenticates the odd ones (who are offline, as someone dialling in is).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from aaa.db.migrate import upgrade

SUBSCRIBERS = 100_000
CLOSED_SESSIONS = 300_000
OPEN_SESSIONS = 50_000
SECRET = "bench-secret-0123456789"
PLANS = [  # name, download, upload (kbit/s)
    ("Fibra 50M", 50_000, 25_000),
    ("Fibra 100M", 100_000, 50_000),
    ("Fibra 300M", 300_000, 150_000),
    ("Fibra 500M", 500_000, 250_000),
    ("Fibra 1G", 1_000_000, 500_000),
]
FR_SCHEMA = Path("/etc/freeradius/3.0/mods-config/sql/main/postgresql/schema.sql")
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def resize(subscribers: int, history: int = 300_000) -> None:
    """Another size of the data set (half of it online, as at 100,000); the closed history
    stays 300,000 sessions unless told (the fast path never reads it)."""
    global SUBSCRIBERS, OPEN_SESSIONS, CLOSED_SESSIONS
    SUBSCRIBERS, OPEN_SESSIONS, CLOSED_SESSIONS = subscribers, subscribers // 2, history


def login(n: int) -> str:
    return f"cli{n:06d}"


def password(n: int) -> str:
    return f"pw-{n * 7919 % 1_000_003:07d}"


def fixed_ip(n: int) -> str | None:
    return f"100.{64 + n // 65536}.{n // 256 % 256}.{n % 256}" if n % 10 == 0 else None


def mac(n: int) -> str:
    return f"AA:BB:CC:{n >> 16 & 255:02X}:{n >> 8 & 255:02X}:{n & 255:02X}"


def offline_users() -> list[tuple[str, str]]:
    return [(login(n), password(n)) for n in range(1, SUBSCRIBERS + 1, 2)]


def _copy(conn: psycopg.Connection, table: str, columns: str, rows: Iterable[tuple[object, ...]]) -> None:
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _sessions() -> Iterator[tuple[int, str, int, datetime, datetime | None]]:
    """(n, session id, subscriber, start, stop) for the closed then the open sessions."""
    for i in range(CLOSED_SESSIONS if SUBSCRIBERS else 0):
        n = i % SUBSCRIBERS + 1
        start = T0 + timedelta(minutes=i % 20000)
        yield i, f"hist{i:08x}", n, start, start + timedelta(hours=3)
    for i in range(OPEN_SESSIONS):
        n = 2 * (i + 1)
        yield CLOSED_SESSIONS + i, f"open{i:08x}", n, T0 + timedelta(days=20), None


def _rate(plan: tuple[str, int, int]) -> str:
    return f"{plan[2] // 1000}M/{plan[1] // 1000}M"


def load_ours(url: str) -> None:
    upgrade(url)
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        conn.execute("TRUNCATE auth_log, acct_session, service, customer, plan, nas, change_event CASCADE")
        conn.execute(
            "INSERT INTO nas (id, name, address, secret, vendor, coa_port, require_message_authenticator,"
            " ma_seen, swap_octets, description, created_at) VALUES (1, 'bench-bras', '127.0.0.1', %s,"
            " 'mikrotik', 1700, 'yes', false, false, '', now())",
            (SECRET,),
        )
        _copy(
            conn,
            "plan",
            "id, name, price, download_kbps, upload_kbps, created_at",
            ((i + 1, name, "99.90", down, up, T0) for i, (name, down, up) in enumerate(PLANS)),
        )
        _copy(
            conn,
            "customer",
            "id, kind, name, created_at",
            ((n, "person", f"Cliente {n}", T0) for n in range(1, SUBSCRIBERS + 1)),
        )
        _copy(
            conn,
            "service",
            "id, customer_id, plan_id, login, password, status, simultaneous_use, mac_binding, "
            "created_at, updated_at",
            (
                (n, n, n % len(PLANS) + 1, login(n), password(n), "enabled", 1, "off", T0, T0)
                for n in range(1, SUBSCRIBERS + 1)
            ),
        )
        # Every tenth subscriber's fixed IP, in IPAM: one /16 per 65,536 subscribers.
        _copy(conn, "ip_folder", "id, name, description, created_at", ((1, "Fixed", "", T0),))
        blocks = range(SUBSCRIBERS // 65536 + 1)
        _copy(
            conn,
            "ip_subnet",
            "id, folder_id, cidr, name, purpose, unit_len, use_all, description, revision, created_at",
            ((b + 1, 1, f"100.{64 + b}.0.0/16", "", "fixed", 32, True, "", 0, T0) for b in blocks),
        )
        _copy(
            conn,
            "ip_assignment",
            "id, subnet_id, first, last, address, prefix_len, kind, service_id, note, assigned_at",
            (
                (n, n // 65536 + 1, n % 65536, n % 65536, fixed_ip(n), 32, "fixed", n, "", T0)
                for n in range(1, SUBSCRIBERS + 1)
                if fixed_ip(n)
            ),
        )
        _copy(
            conn,
            "acct_session",
            "id, nas_id, acct_session_id, login, service_id, nas_port_id, calling_station_id, "
            "start_time, last_update, stop_time, session_time, input_octets, output_octets, "
            "input_packets, output_packets, closed_by",
            (
                (
                    i + 1,
                    1,
                    sid,
                    login(n),
                    n,
                    "ether2",
                    mac(n),
                    start,
                    stop or start,
                    stop,
                    10800 if stop else 0,
                    10**8,
                    10**9,
                    10**5,
                    10**6,
                    "stop" if stop else None,
                )
                for i, sid, n, start, stop in _sessions()
            ),
        )
        for table in (
            "plan",
            "customer",
            "service",
            "acct_session",
            "nas",
            "ip_folder",
            "ip_subnet",
            "ip_assignment",
        ):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        conn.execute("ANALYZE")


def load_freeradius(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "DROP TABLE IF EXISTS radacct, radcheck, radgroupcheck, radgroupreply, radreply, "
            "radusergroup, radpostauth, nas, nasreload CASCADE"
        )
        schema = io.StringIO(FR_SCHEMA.read_text())
        conn.execute(schema.getvalue().encode())
        _copy(
            conn,
            "radcheck",
            "username, attribute, op, value",
            ((login(n), "Cleartext-Password", ":=", password(n)) for n in range(1, SUBSCRIBERS + 1)),
        )
        _copy(
            conn,
            "radusergroup",
            "username, groupname, priority",
            ((login(n), PLANS[n % len(PLANS)][0], 1) for n in range(1, SUBSCRIBERS + 1)),
        )
        _copy(
            conn,
            "radgroupreply",
            "groupname, attribute, op, value",
            [
                row
                for plan in PLANS
                for row in (
                    (plan[0], "Mikrotik-Rate-Limit", ":=", _rate(plan)),
                    (plan[0], "Acct-Interim-Interval", ":=", "300"),
                )
            ],
        )
        _copy(
            conn,
            "radreply",
            "username, attribute, op, value",
            (
                (login(n), "Framed-IP-Address", ":=", fixed_ip(n))
                for n in range(1, SUBSCRIBERS + 1)
                if fixed_ip(n)
            ),
        )
        _copy(
            conn,
            "radacct",
            "acctsessionid, acctuniqueid, username, nasipaddress, nasportid, acctstarttime, acctupdatetime, "
            "acctstoptime, acctsessiontime, acctinputoctets, acctoutputoctets, callingstationid",
            (
                (
                    sid,
                    f"u{sid}",
                    login(n),
                    "127.0.0.1",
                    "ether2",
                    start,
                    stop or start,
                    stop,
                    10800 if stop else 0,
                    10**8,
                    10**9,
                    mac(n),
                )
                for _, sid, n, start, stop in _sessions()
            ),
        )
        conn.execute("ANALYZE")
