"""Reading a FreeRADIUS 3 SQL database (rlm_sql's stock schema, PostgreSQL or MySQL/MariaDB)
into import records.

- ``nas`` → NAS (``type`` → vendor profile; any secret length FreeRADIUS took).
- ``radusergroup`` + ``radgroupreply``/``radgroupcheck`` → plans: the rate from
  ``Mikrotik-Rate-Limit`` (rx/tx is the router's view: tx is the download), or Huawei's
  Input/Output-Average-Rate, or WISPr-Bandwidth-Max-Up/Down; the group's other reply attributes
  become the plan's custom reply attributes. A group whose check items say
  ``Auth-Type := Reject`` is a "blocked" marker, not a plan.
- ``radcheck`` → services: the password (Cleartext-Password, or the hashes rlm_pap knows:
  they then verify only what they can), ``Simultaneous-Use``, ``Calling-Station-Id`` (MAC
  binding), ``Auth-Type := Reject`` (blocked).
- ``radreply`` → fixed addresses (Framed-IP-Address, Framed-Route, Framed-IPv6-Prefix,
  Delegated-IPv6-Prefix), a per-login Mikrotik-Rate-Limit as a custom speed with no end, and the
  rest as the service's reply attributes.
- ``radippool`` → IPv4 pools (server-side), the pool's addresses merged into subnets.
- ``radacct`` rows without a stop → open sessions; closed ones from ``history_since`` on.

A customer per login, unless a mapping (login → document, name) groups logins under customers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import netaddr
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine, make_url

from aaa.importers.source import (
    Problem,
    Source,
    SourceCustomer,
    SourceNas,
    SourcePlan,
    SourcePool,
    SourceService,
    SourceSession,
)
from aaa.policies.ratelimit import RateLimit
from aaa.vocabulary.passwords import from_freeradius, methods_for

PASSWORD_ATTRIBUTES = frozenset(
    {
        "cleartext-password",
        "user-password",
        "nt-password",
        "md5-password",
        "smd5-password",
        "sha-password",
        "sha1-password",
        "ssha-password",
        "ssha1-password",
        "sha2-password",
        "ssha2-256-password",
        "ssha2-512-password",
        "crypt-password",
        "password-with-header",
    }
)
RATE_ATTRIBUTES = frozenset(
    {
        "mikrotik-rate-limit",
        "huawei-input-average-rate",
        "huawei-output-average-rate",
        "wispr-bandwidth-max-up",
        "wispr-bandwidth-max-down",
    }
)
VENDORS = {"mikrotik": "mikrotik", "cisco": "cisco", "juniper": "juniper", "huawei": "huawei"}
_REJECT = ("auth-type", "reject")

Row = tuple[str, str, str, str]  # name, attribute, op, value


def check_url(url: str) -> None:
    """ValueError unless ``url`` names a PostgreSQL or MySQL/MariaDB database."""
    try:
        parsed = make_url(url)
    except Exception:
        raise ValueError(f"{url!r} is not a database URL (postgresql://user@host/db or mysql://…)") from None
    if parsed.get_backend_name() not in ("postgresql", "postgres", "mysql", "mariadb") or not parsed.database:
        raise ValueError(
            "the FreeRADIUS database URL must be postgresql://… or mysql://… with a database name"
        )


def engine_for(url: str) -> Engine:
    check_url(url)
    parsed = make_url(url)
    if parsed.drivername in ("mysql", "mariadb"):
        parsed = parsed.set(drivername="mysql+pymysql")
    elif parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed, hide_parameters=True)


def source_name(url: str) -> str:
    parsed = make_url(url)
    return f"freeradius:{parsed.host or 'local'}:{parsed.port or ''}/{parsed.database}"


def rate_of(attributes: Iterable[tuple[str, str]]) -> tuple[RateLimit | None, str | None]:
    """(the rate the attributes give, or None; a problem with them)."""
    values = {name.lower(): value for name, value in attributes}
    try:
        if "mikrotik-rate-limit" in values:
            return RateLimit.parse(values["mikrotik-rate-limit"].strip().strip('"')), None
        for up, down in (
            ("huawei-input-average-rate", "huawei-output-average-rate"),
            ("wispr-bandwidth-max-up", "wispr-bandwidth-max-down"),
        ):
            if up in values and down in values:
                return RateLimit(int(values[up]), int(values[down])), None
    except ValueError as exc:
        return None, f"the rate does not parse: {exc}"
    return None, None


def plan_of(group: str, replies: list[Row], checks: list[Row]) -> tuple[SourcePlan | None, list[str]]:
    """A group as a plan (None when it has no rate), and the attributes left out."""
    rate, problem = rate_of((a, v) for _, a, _, v in replies)
    if rate is None:
        return None, [problem] if problem else []
    extra = tuple((a, op, v) for _, a, op, v in replies if a.lower() not in RATE_ATTRIBUTES)
    rate_op = next((op for _, a, op, _ in replies if a.lower() in RATE_ATTRIBUTES), ":=")
    left_out = [f"check item {a} {op} {v}" for _, a, op, v in checks if a.lower() != "simultaneous-use"]
    return (
        SourcePlan(
            key=group,
            name=group[:100],
            download_kbps=rate.tx_rate // 1000,
            upload_kbps=rate.rx_rate // 1000,
            burst_download_kbps=rate.tx_burst_rate // 1000 if rate.tx_burst_rate else None,
            burst_upload_kbps=rate.rx_burst_rate // 1000 if rate.rx_burst_rate else None,
            burst_threshold_download_kbps=_kbps(rate.tx_burst_threshold),
            burst_threshold_upload_kbps=_kbps(rate.rx_burst_threshold),
            burst_time_s=rate.tx_burst_time if rate.tx_burst_rate else None,
            reply_attributes=extra,
            rate_op=rate_op,
        ),
        left_out,
    )


def _kbps(bits: int | None) -> int | None:
    return bits // 1000 if bits else None


def _blocks(checks: list[Row]) -> bool:
    return any((a.lower(), v.strip().lower()) == _REJECT for _, a, _, v in checks)


def service_of(
    login: str,
    checks: list[Row],
    replies: list[Row],
    groups: list[str],
    plans: dict[str, SourcePlan],
    group_checks: dict[str, list[Row]],
    customer_key: str,
) -> tuple[SourceService | None, list[str], str | None]:
    """(the service, what was left out, why it cannot be imported)."""
    left_out: list[str] = []
    password: tuple[str, str] | None = None
    simultaneous: int | None = None
    mac: str | None = None
    blocked = _blocks(checks)
    for _, attribute, op, value in checks:
        name = attribute.lower()
        if name in PASSWORD_ATTRIBUTES:
            if password is None:
                try:
                    password = from_freeradius(attribute, value)
                except ValueError as exc:
                    return None, left_out, f"{attribute}: {exc}"
        elif name == "simultaneous-use":
            simultaneous = int(value) if value.strip().isdigit() else None
        elif name == "calling-station-id" and op in ("==", ":="):
            mac = value.strip()
        elif (name, value.strip().lower()) != _REJECT:
            left_out.append(f"check item {attribute} {op} {value}")
    if password is None:
        return None, left_out, "no password in radcheck (Cleartext-Password or a hash rlm_pap knows)"
    plan_key = next((g for g in groups if g in plans), None)
    for group in groups:
        blocked = blocked or _blocks(group_checks.get(group, []))
        for _, attribute, _, value in group_checks.get(group, []):
            if attribute.lower() == "simultaneous-use" and simultaneous is None and value.strip().isdigit():
                simultaneous = int(value)
    if plan_key is None:
        why = f"groups {', '.join(groups)} have no rate" if groups else "no group (radusergroup) with a rate"
        return None, left_out, f"no plan: {why}"
    fixed_ipv4: str | None = None
    routes: list[str] = []
    ipv6: list[str] = []
    attributes: list[tuple[str, str, str]] = []
    custom = rate_of((a, v) for _, a, _, v in replies if a.lower() in RATE_ATTRIBUTES)[0]
    plan = plans[plan_key]
    if custom is not None and plan.rate_op == ":=":
        # FreeRADIUS adds the group's reply after the user's: its := replaces the login's rate.
        left_out.append(f"its own rate (radreply), which group {plan_key}'s := replaces, as FreeRADIUS does")
        custom = None
    for _, attribute, op, value in replies:
        name = attribute.lower()
        if name == "framed-ip-address":
            fixed_ipv4 = value.strip()
        elif name == "framed-route":
            routes.append(value.split()[0])
        elif name in ("framed-ipv6-prefix", "delegated-ipv6-prefix"):
            ipv6.append(value.strip())
        elif name not in RATE_ATTRIBUTES:
            attributes.append((attribute, op, value))
    return (
        SourceService(
            key=login,
            customer_key=customer_key,
            plan_key=plan_key,
            password=password[1],
            password_scheme=password[0],
            status="blocked_manual" if blocked else "enabled",
            simultaneous_use=simultaneous if simultaneous is not None else 0,
            mac=mac,
            fixed_ipv4=fixed_ipv4,
            fixed_routes=tuple(routes),
            fixed_ipv6=tuple(ipv6),
            custom_speed=(custom.tx_rate // 1000, custom.rx_rate // 1000) if custom else None,
            reply_attributes=tuple(attributes),
        ),
        left_out,
        None,
    )


def _rows(engine: Engine, query: str, **params: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(query), params))


def _by_name(rows: list[Any]) -> dict[str, list[Row]]:
    found: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        found[row[0]].append((row[0], row[1], row[2], row[3]))
    return found


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def read(
    url: str,
    *,
    mapping: dict[str, tuple[str, str]] | None = None,
    history_since: datetime | None = None,
) -> Source:
    """Everything the database holds, as records. ``mapping``: login → (document, name)."""
    engine = engine_for(url)
    source = Source(name=source_name(url))
    try:
        _read(engine, source, mapping or {}, history_since)
    finally:
        engine.dispose()
    return source


def _read(
    engine: Engine, source: Source, mapping: dict[str, tuple[str, str]], history_since: datetime | None
) -> None:
    tables = set(inspect(engine).get_table_names())
    required = {"radcheck", "radreply", "radusergroup", "radgroupcheck", "radgroupreply"}
    if missing := sorted(required - tables):
        raise ValueError(f"not a FreeRADIUS database: no table {', '.join(missing)}")
    for optional in ("nas", "radippool", "radacct"):
        if optional not in tables:  # e.g. radippool lives in a schema of its own
            source.notes.append(Problem(optional, optional, "table not found: nothing imported from it"))
    _read_tables(engine, source, mapping, history_since, tables)


def _read_tables(
    engine: Engine,
    source: Source,
    mapping: dict[str, tuple[str, str]],
    history_since: datetime | None,
    tables: set[str],
) -> None:
    nas_rows = "SELECT nasname, shortname, type, secret, description FROM nas ORDER BY id"
    for nasname, shortname, kind, secret, description in _rows(engine, nas_rows) if "nas" in tables else []:
        source.nas.append(
            SourceNas(
                key=nasname,
                name=(shortname or nasname)[:64],
                address=nasname,
                secret=secret,
                vendor=VENDORS.get((kind or "").lower(), "generic"),
                description=(description or "")[:200],
            )
        )
    pools: dict[str, list[str]] = defaultdict(list)
    pool_rows = "SELECT pool_name, framedipaddress FROM radippool ORDER BY id"
    for pool_name, address in _rows(engine, pool_rows) if "radippool" in tables else []:
        pools[pool_name].append(str(address))
    for name, addresses in sorted(pools.items()):
        merged = netaddr.cidr_merge([netaddr.IPAddress(a) for a in addresses])
        source.pools.append(SourcePool(key=name, name=name[:100], cidrs=tuple(str(c) for c in merged)))
    group_replies = _by_name(
        _rows(engine, "SELECT groupname, attribute, op, value FROM radgroupreply ORDER BY groupname, id")
    )
    group_checks = _by_name(
        _rows(engine, "SELECT groupname, attribute, op, value FROM radgroupcheck ORDER BY groupname, id")
    )
    plans: dict[str, SourcePlan] = {}
    for group in sorted(set(group_replies) | set(group_checks)):
        plan, left_out = plan_of(group, group_replies.get(group, []), group_checks.get(group, []))
        if plan is not None:
            plans[group] = plan
            source.plans.append(plan)
            source.notes += [Problem("plan", group, f"not imported: {what}") for what in left_out]
        elif left_out:
            source.problems += [Problem("plan", group, what) for what in left_out]
    checks = _by_name(
        _rows(engine, "SELECT username, attribute, op, value FROM radcheck ORDER BY username, id")
    )
    replies = _by_name(
        _rows(engine, "SELECT username, attribute, op, value FROM radreply ORDER BY username, id")
    )
    groups: dict[str, list[str]] = defaultdict(list)
    for username, groupname in _rows(
        engine, "SELECT username, groupname FROM radusergroup ORDER BY username, priority"
    ):
        groups[username].append(groupname)
    customers: dict[str, SourceCustomer] = {}
    for login in sorted(set(checks) | set(groups) | set(replies)):
        document, name = mapping.get(login, ("", ""))
        customer_key = f"document:{document}" if document else f"login:{login}"
        service, left_out, problem = service_of(
            login,
            checks.get(login, []),
            replies.get(login, []),
            groups.get(login, []),
            plans,
            group_checks,
            customer_key,
        )
        if service is None:
            source.problems.append(Problem("service", login, problem or "not importable"))
            continue
        if customer_key not in customers:
            kind = "company" if document and len(document) == 14 else "person"
            customers[customer_key] = SourceCustomer(
                customer_key, (name or login)[:200], document or None, kind
            )
        source.services.append(service)
        source.notes += [Problem("service", login, f"not imported: {what}") for what in left_out]
        if service.password_scheme != "cleartext":
            works = ", ".join(sorted(methods_for(service.password_scheme)))
            source.notes.append(
                Problem(
                    "service",
                    login,
                    f"password kept as a {service.password_scheme} hash: {works} work, CHAP does not",
                )
            )
    source.customers = list(customers.values())
    query = (
        "SELECT username, nasipaddress, acctsessionid, acctstarttime, acctstoptime, acctupdatetime, "
        "framedipaddress, callingstationid, nasportid, acctinputoctets, acctoutputoctets, acctsessiontime "
        "FROM radacct WHERE acctstoptime IS NULL"
    )
    params: dict[str, Any] = {}
    if history_since is not None:
        query += " OR acctstarttime >= :since"
        params["since"] = history_since.astimezone(UTC).replace(tzinfo=None)
    for row in _rows(engine, query + " ORDER BY radacctid", **params) if "radacct" in tables else []:
        if row.acctstarttime is None:
            continue
        source.sessions.append(
            SourceSession(
                key=f"{row.nasipaddress}|{row.acctsessionid}",
                login=row.username,
                nas_address=str(row.nasipaddress),
                acct_session_id=row.acctsessionid,
                start_time=_utc(row.acctstarttime),  # type: ignore[arg-type]
                stop_time=_utc(row.acctstoptime),
                last_update=_utc(row.acctupdatetime),
                framed_ip=str(row.framedipaddress) if row.framedipaddress else None,
                calling_station_id=row.callingstationid or None,
                nas_port_id=row.nasportid or None,
                input_octets=int(row.acctinputoctets or 0),
                output_octets=int(row.acctoutputoctets or 0),
                session_time=int(row.acctsessiontime or 0),
            )
        )
