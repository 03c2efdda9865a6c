"""Monitoring: the alert rules and the Grafana dashboard load and name only metrics that exist;
/metrics of the API exposes the listed families; /healthz and /readyz answer."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from prometheus_client import REGISTRY
from sqlalchemy.orm import Session, sessionmaker

from aaa import metrics  # noqa: F401  (registers every metric)
from aaa.composition import database_collector
from tests.api_client import Api

CONFIG = Path(__file__).resolve().parents[2] / "config" / "monitoring"
METRIC = re.compile(r"\baaa_[a-z0-9_]+")
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


def known_metrics(factory: sessionmaker[Session]) -> set[str]:
    """Every sample name our processes can expose: the registry's and the scrape-time gauges."""
    families = [*REGISTRY.collect(), *database_collector(factory).collect()]
    return {f.name + suffix for f in families for suffix in SUFFIXES.get(f.type, ("",))}


def test_alert_rules_load_and_name_existing_metrics(factory: sessionmaker[Session]) -> None:
    rules = yaml.safe_load((CONFIG / "prometheus-alerts.yml").read_text())
    known = known_metrics(factory)
    seen = 0
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert rule["alert"].startswith("Aaa") and rule["labels"]["severity"] in ("warning", "critical")
            assert rule["annotations"]["summary"]
            names = set(METRIC.findall(rule["expr"]))
            assert names and names <= known, (rule["alert"], names - known)
            seen += 1
    assert seen >= 10


def test_grafana_dashboard_loads_and_names_existing_metrics(factory: sessionmaker[Session]) -> None:
    dashboard = json.loads((CONFIG / "grafana-dashboard.json").read_text())
    known = known_metrics(factory)
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    assert len(exprs) == len(dashboard["panels"]) >= 15
    for expr in exprs:
        names = set(METRIC.findall(expr))
        assert names and names <= known, (expr, names - known)
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))


FAMILIES = (
    "aaa_radius_requests_total",
    "aaa_radius_rejects_total",
    "aaa_radius_dropped_total",
    "aaa_radius_duplicates_total",
    "aaa_radius_request_seconds",
    "aaa_acct_queue_depth",
    "aaa_acct_commit_batch_size",
    "aaa_cache_lookups_total",
    "aaa_invalidation_lag_seconds",
    "aaa_sessions_open",
    "aaa_ipam_pool_used",
    "aaa_enforcement_attempts_total",
    "aaa_routine_runs_total",
    "aaa_routine_transitions_total",
    "aaa_api_requests_total",
    "aaa_api_request_seconds",
    "aaa_db_connections_in_use",
    "aaa_database_up",
    "aaa_webhook_deliveries_pending",
)


def test_api_metrics_health_and_readiness(api: Api) -> None:
    api.post("/routines/suspension", {"dry_run": True}, expect=201)
    api.get("/services/12345", expect=404)
    text = api.client.get("/metrics").text
    for family in FAMILIES:
        assert f"# TYPE {family.removesuffix('_total')} " in text or f"# TYPE {family} " in text, family
    # Labels are bounded: the route template, never the concrete path.
    assert 'route="/services/{service_id}"' in text and "/services/12345" not in text
    assert 'aaa_routine_runs_total{dry_run="true"}' in text
    assert "aaa_database_up 1.0" in text
    assert api.client.get("/healthz").json() == {"status": "alive"}
    ready = api.client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {
        "ready": True,
        "checks": {"database": "ok", "migrations": "ok"},
    }
