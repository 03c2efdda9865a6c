"""Every Prometheus metric, in one place. Labels are bounded: never a login, MAC or IP.

With several worker processes, ``PROMETHEUS_MULTIPROC_DIR`` is set by the supervisor before
any worker imports this module, and the metrics endpoint aggregates the per-process files.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

RADIUS_REQUESTS = Counter("aaa_radius_requests_total", "RADIUS requests answered", ["type", "outcome", "nas"])
RADIUS_REJECTS = Counter("aaa_radius_rejects_total", "Access-Rejects by reason", ["reason", "nas"])
RADIUS_DROPPED = Counter("aaa_radius_dropped_total", "Datagrams dropped without an answer", ["cause"])
RADIUS_DUPLICATES = Counter(
    "aaa_radius_duplicates_total",
    "Retransmissions answered from the reply cache or ignored in flight",
    ["type", "action"],
)
RADIUS_LATENCY = Histogram(
    "aaa_radius_request_seconds",
    "Time from datagram received to reply sent",
    ["type"],
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)
ACCT_BATCH = Histogram(
    "aaa_acct_commit_batch_size",
    "Accounting records per group commit",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
)
ACCT_QUEUE = Gauge(
    "aaa_acct_queue_depth", "Accounting records waiting for commit", multiprocess_mode="livesum"
)
ACCT_FAILURES = Counter("aaa_acct_commit_failures_total", "Group commits that failed (no response sent)")
CACHE_LOOKUPS = Counter("aaa_cache_lookups_total", "Subscriber snapshot lookups", ["result"])
CACHE_INVALIDATIONS = Counter("aaa_cache_invalidations_total", "Cache entries invalidated", ["kind"])
AUTHLOG_DROPPED = Counter("aaa_authlog_dropped_total", "Auth log rows dropped because the buffer was full")
IPAM_LEASES = Counter(
    "aaa_ipam_leases_total", "Server-side address leases by outcome", ["outcome", "pool"]
)  # outcome: leased, pool_exhausted, no_such_pool, error; pool names are operator-defined, few
IPAM_LEASES_RELEASED = Counter("aaa_ipam_leases_reaped_total", "Unclaimed leases the reaper freed")
ENFORCEMENT_ATTEMPTS = Counter(
    "aaa_enforcement_attempts_total", "Enforcement attempts on a NAS", ["method", "result", "nas"]
)
ENFORCEMENT_DROPPED = Counter(
    "aaa_enforcement_dropped_total", "CoA/Disconnect responses dropped (not from the NAS asked)", ["cause"]
)
ENFORCEMENT_BACKLOG = Gauge(
    "aaa_enforcement_backlog", "Outbox rows waiting (last seen by the enforcer)", multiprocess_mode="liveall"
)
RECONCILE_FINDINGS = Counter("aaa_reconcile_findings_total", "What the reconciler found", ["finding", "nas"])
SESSIONS_REAPED = Counter("aaa_acct_sessions_reaped_total", "Sessions closed by the stale-session reaper")


@lru_cache(maxsize=4096)
def child(metric: Any, *labels: str) -> Any:
    """A metric's child for these label values, looked up once (``labels()`` costs a lookup and
    a lock per call, on the hot path). Label values are bounded, so the cache is too."""
    return metric.labels(*labels)
