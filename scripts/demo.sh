#!/usr/bin/env bash
# Install isp-aaa and start it on the embedded default (SQLite file ./aaa.db, no Redis) with a
# demo ISP: NAS 127.0.0.1, three plans, four subscribers, an admin operator. It prints the
# radtest and curl lines to try.
# Stop with Ctrl-C. Needs only python3 (with venv); radtest comes from Debian's freeradius-utils.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e .
.venv/bin/aaa demo  # prints the ports the settings (AAA_CONFIG, AAA_* variables) give
exec .venv/bin/aaa serve
