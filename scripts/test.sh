#!/usr/bin/env bash
# Install everything and run the whole test suite (lint included).
#
# The suite needs real services, never mocks:
#   PostgreSQL  AAA_TEST_PG_URL     default postgresql://postgres@127.0.0.1:5432/test (trust auth)
#   Redis       AAA_TEST_REDIS_URL  default redis://127.0.0.1:6379/15
#   radtest/radclient from Debian's freeradius-utils (the reference RADIUS client)
#   Chromium    AAA_CHROMIUM        default /usr/bin/chromium (Debian's, for the console's tests)
# What is missing is brought up here when this runs as root (apt-get, then a throwaway
# PostgreSQL cluster / Redis on loopback); otherwise the script stops and says what to provide.
# Extra arguments go to pytest, e.g. scripts/test.sh -k radtest
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n== %s\n' "$*"; }
die() { printf '\nscripts/test.sh: %s\n' "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif sudo -n true 2>/dev/null; then sudo "$@"; else return 1; fi; }
apt_install() {
    as_root true || die "$1 is missing and I am not root: install Debian package(s) ${*:2} first"
    [ -n "${APT_UPDATED:-}" ] || { as_root apt-get update -qq; APT_UPDATED=1; }
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${@:2}" >/dev/null
}

say "Debian packages"
command -v radclient >/dev/null || apt_install "radclient" freeradius-utils
command -v radtest >/dev/null || die "radtest not found even after installing freeradius-utils"
# The cut-over tests run Debian's FreeRADIUS on an imported schema and compare its answers.
[ -d /etc/freeradius/3.0/mods-config/sql/main/postgresql ] && command -v freeradius >/dev/null \
    || apt_install "FreeRADIUS" freeradius freeradius-postgresql
# The operator console's tests drive Debian's Chromium headless with Playwright (AAA_CHROMIUM).
export AAA_CHROMIUM="${AAA_CHROMIUM:-/usr/bin/chromium}"
[ -x "$AAA_CHROMIUM" ] || apt_install "Chromium" chromium
[ -x "$AAA_CHROMIUM" ] || die "Chromium not found at AAA_CHROMIUM=$AAA_CHROMIUM"

say "Python environment (.venv)"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e '.[test]'
PY=.venv/bin/python

export AAA_TEST_PG_URL="${AAA_TEST_PG_URL:-postgresql://postgres@127.0.0.1:5432/test}"
export AAA_TEST_REDIS_URL="${AAA_TEST_REDIS_URL:-redis://127.0.0.1:6379/15}"

pg_ok() { $PY -c "import psycopg,sys; psycopg.connect(sys.argv[1], connect_timeout=3).close()" "$AAA_TEST_PG_URL" 2>/dev/null; }
redis_ok() { $PY -c "import redis,sys; redis.Redis.from_url(sys.argv[1], socket_connect_timeout=2).ping()" "$AAA_TEST_REDIS_URL" 2>/dev/null; }

say "PostgreSQL at $AAA_TEST_PG_URL"
if ! pg_ok; then
    as_root true || die "PostgreSQL is not reachable at $AAA_TEST_PG_URL; start one (trust auth, database 'test') or set AAA_TEST_PG_URL"
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || apt_install "PostgreSQL" postgresql
    PGBIN=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")
    PGDIR=$(mktemp -d /tmp/aaa-test-pg.XXXXXX); chown postgres "$PGDIR"
    as_root su postgres -c "$PGBIN/initdb -D $PGDIR -A trust -U postgres" >/dev/null
    as_root su postgres -c "$PGBIN/pg_ctl -D $PGDIR -o '-p 55432 -k /tmp -c listen_addresses=127.0.0.1' -l $PGDIR/log -w start" >/dev/null
    as_root su postgres -c "$PGBIN/createdb -h 127.0.0.1 -p 55432 test"
    export AAA_TEST_PG_URL="postgresql://postgres@127.0.0.1:55432/test"
    echo "started a throwaway cluster in $PGDIR: $AAA_TEST_PG_URL"
    pg_ok || die "the throwaway PostgreSQL did not come up; see $PGDIR/log"
fi

export AAA_TEST_MYSQL_URL="${AAA_TEST_MYSQL_URL:-mysql://root@127.0.0.1:3306/test}"
mysql_ok() { $PY -c "import sqlalchemy as s,sys; s.create_engine(sys.argv[1].replace('mysql://','mysql+pymysql://',1)).connect().close()" "$AAA_TEST_MYSQL_URL" 2>/dev/null; }
say "MariaDB at $AAA_TEST_MYSQL_URL (a FreeRADIUS schema on MySQL is imported from it)"
if ! mysql_ok; then
    as_root true || die "MariaDB/MySQL is not reachable at $AAA_TEST_MYSQL_URL; start one (root without a password, database 'test') or set AAA_TEST_MYSQL_URL"
    command -v mariadbd >/dev/null || apt_install "MariaDB" mariadb-server
    (as_root mysqld_safe --bind-address=127.0.0.1 >/dev/null 2>&1 &)
    for _ in $(seq 30); do mysql_ok && break; as_root mysql -e "CREATE DATABASE IF NOT EXISTS test" 2>/dev/null || true; sleep 1; done
    mysql_ok || die "MariaDB did not come up"
fi

say "Redis at $AAA_TEST_REDIS_URL"
if ! redis_ok; then
    as_root true || die "Redis is not reachable at $AAA_TEST_REDIS_URL; start one or set AAA_TEST_REDIS_URL"
    command -v redis-server >/dev/null || apt_install "Redis" redis-server
    redis-server --daemonize yes --bind 127.0.0.1 --port 56379 --save "" --appendonly no >/dev/null
    export AAA_TEST_REDIS_URL="redis://127.0.0.1:56379/15"
    sleep 0.5
    redis_ok || die "the throwaway Redis did not come up"
    echo "started a throwaway Redis: $AAA_TEST_REDIS_URL"
fi

say "ruff, mypy, import contracts"
.venv/bin/ruff check .
.venv/bin/ruff format --check -q .
.venv/bin/mypy
.venv/bin/lint-imports --no-cache

say "pytest"
# Two processes (AAA_TEST_WORKERS): most of the suite waits on sockets, processes and timers, so
# the machine's two cores run it in about half the time; idle workers take queued tests over.
exec $PY -m pytest -q -p no:cacheprovider --durations=15 -n "${AAA_TEST_WORKERS:-2}" --dist worksteal "$@"
