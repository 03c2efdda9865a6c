"""The reference: Debian's FreeRADIUS 3.2 with rlm_sql on PostgreSQL, stock queries.

A private copy of /etc/freeradius/3.0 is made and changed only where the comparison needs it:
  - listens on 127.0.0.1 on the benchmark ports (no IPv6 listeners);
  - one client, 127.0.0.1, with the benchmark secret;
  - the sql module on (PostgreSQL dialect, the bench database) in authorize, accounting,
    session and post-auth (post-auth = the auth log, the same work on both servers);
  - accounting without the detail file and unix (radwtmp) modules, so it measures rlm_sql;
  - runs as the current user instead of freerad (the copy lives in a temporary folder).
Everything else (thread pool, queries, other modules of the default site) is stock.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

STOCK = Path("/etc/freeradius/3.0")


def _strip_listen_blocks(text: str) -> str:
    out, pos = [], 0
    for match in re.finditer(r"^listen \{", text, flags=re.M):
        if match.start() < pos:
            continue
        depth, i = 0, match.start()
        while True:
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
                if depth == 0:
                    break
            i += 1
        out.append(text[pos : match.start()])
        pos = i + 1
    out.append(text[pos:])
    return "".join(out)


def make_raddb(target: Path, auth_port: int, acct_port: int, secret: str, dbname: str) -> Path:
    if not STOCK.is_dir():
        raise SystemExit("FreeRADIUS is not installed: apt-get install freeradius freeradius-postgresql")
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(STOCK, target, symlinks=True)

    conf = (target / "radiusd.conf").read_text()
    conf = re.sub(r"^(\s*)(user|group) = freerad", r"\1# \2 = freerad", conf, flags=re.M)
    (target / "radiusd.conf").write_text(conf)

    client = f"client bench {{\n\tipaddr = 127.0.0.1\n\tsecret = {secret}\n"
    (target / "clients.conf").write_text(client + "\trequire_message_authenticator = no\n}\n")

    site = target / "sites-available" / "default"
    text = _strip_listen_blocks(site.read_text())
    text = re.sub(r"^(\s*)-sql$", r"\1sql", text, flags=re.M)
    text = re.sub(r"^\tdetail$", "\t# detail (off for the benchmark)", text, flags=re.M)
    text = re.sub(r"^\tunix$", "\t# unix (off for the benchmark)", text, flags=re.M)
    listen = (
        f"listen {{\n\ttype = auth\n\tipaddr = 127.0.0.1\n\tport = {auth_port}\n}}\n"
        f"listen {{\n\ttype = acct\n\tipaddr = 127.0.0.1\n\tport = {acct_port}\n}}\n"
    )
    text = text.replace("server default {", "server default {\n" + listen, 1)
    site.write_text(text)

    sql = (target / "mods-available" / "sql").read_text()
    sql = sql.replace('dialect = "sqlite"', 'dialect = "postgresql"', 1)
    sql = sql.replace('driver = "rlm_sql_null"', 'driver = "rlm_sql_${dialect}"', 1)
    sql = sql.replace(
        'radius_db = "radius"', f'radius_db = "dbname={dbname} host=127.0.0.1 port=5432 user=postgres"', 1
    )
    (target / "mods-available" / "sql").write_text(sql)
    enabled = target / "mods-enabled" / "sql"
    if not enabled.exists():
        enabled.symlink_to("../mods-available/sql")
    return target


def check(raddb: Path) -> None:
    result = subprocess.run(["freeradius", "-C", "-d", str(raddb)], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(
            "FreeRADIUS configuration check failed:\n" + result.stdout[-3000:] + result.stderr[-3000:]
        )


def start(raddb: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["freeradius", "-f", "-d", str(raddb), "-l", str(log)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
