"""A worker's snapshots at a size, in a process of its own: the test-sized variant of the
million-subscriber node (bench.run --subscribers 1000000 measures the real one). The load must
fit the memory budget of 2 KB per subscriber per worker."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench import dataset
from tests.conftest import fresh_pg_database

SUBSCRIBERS = 200_000
BUDGET = 2048  # bytes per subscriber per worker
ROOT = Path(__file__).resolve().parents[2]

# Run in a fresh interpreter: the resident size of a worker that loads, nothing else in it.
LOAD = """
import gc, json, sys, time
from aaa.composition import build
from aaa.radius.server import RadiusWorker
from aaa.settings import Settings

def resident():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024

settings = Settings(database_url=sys.argv[1])
worker = RadiusWorker(settings, build(settings).factory, None, name="scale")
gc.collect()
before, started = resident(), time.monotonic()
worker.load()
seconds = time.monotonic() - started
gc.collect()
entries = worker.cache._entries
online = sum(1 for entry in entries.values() if entry.sessions)
print(json.dumps({"grown": resident() - before, "subscribers": len(entries), "online": online,
                  "plans": len(worker.plans), "seconds": seconds}))
"""


def test_200k_subscribers_load_within_the_memory_budget() -> None:
    with fresh_pg_database("aaa_scale") as url:
        try:
            dataset.resize(SUBSCRIBERS, history=0)
            dataset.load_ours(url)
        finally:
            dataset.resize(100_000)
        done = subprocess.run(
            [sys.executable, "-c", LOAD, url], capture_output=True, text=True, cwd=ROOT, timeout=300
        )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["subscribers"] == SUBSCRIBERS
    assert found["online"] == SUBSCRIBERS // 2
    assert found["plans"] == len(dataset.PLANS)
    per_subscriber = found["grown"] / SUBSCRIBERS
    print(f"{SUBSCRIBERS:,} snapshots: {per_subscriber:.0f} bytes each, loaded in {found['seconds']:.1f} s")
    assert per_subscriber <= BUDGET, f"{per_subscriber:.0f} bytes per subscriber"
