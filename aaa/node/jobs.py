"""The node's scheduled jobs, each on its period from the ``[jobs]`` settings: housekeeping
(stale sessions, unclaimed leases, the change feed, ended customer suspensions), the end of
overlays at their date, webhook delivery, the payment provider's charges, the billing routines
and the reconciler.

Every job catches its own failure, says it in one WARNING and tries again next period: a
database that is away for a while must not end the node's jobs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from aaa.settings import Settings

log = logging.getLogger(__name__)

Job = Callable[[Settings, sessionmaker[Session], threading.Event], None]


def housekeeping(settings: Settings, factory: sessionmaker[Session], stop: threading.Event) -> None:
    """Reap stale sessions and then the leases no session holds, prune the change feed and
    re-enable services whose customer-requested suspension has ended."""
    from datetime import timedelta

    from aaa import metrics
    from aaa.accounting.store import reap
    from aaa.audit.log import Actor, act_as
    from aaa.changes.feed import prune
    from aaa.db.base import today_in, utcnow
    from aaa.ipam.allocator import reap_leases
    from aaa.radius.trace import prune_traces
    from aaa.subscribers.service import reenable_due

    zone = ZoneInfo(settings.policy.timezone)
    a = settings.accounting
    while not stop.wait(settings.jobs.housekeeping_seconds):
        try:
            with factory.begin() as session:
                closed = reap(session, utcnow(), a.reaper_multiplier, settings.radius.acct_interim_interval)
                freed = reap_leases(session, utcnow())
                prune(session, a.change_retention_hours)
                prune_traces(session, utcnow() - timedelta(days=1))
                act_as(session, Actor("scheduler", "local"))
                # A re-enable date is the ISP's day: it starts at local midnight, not UTC's.
                reenabled = reenable_due(session, today_in(zone))
            if reenabled:
                log.info(
                    "re-enabled %d services at the end of a customer-requested suspension", len(reenabled)
                )
            if freed:
                metrics.IPAM_LEASES_RELEASED.inc(freed)
                log.info("lease reaper freed %d unclaimed leases", freed)
            if closed:
                metrics.SESSIONS_REAPED.inc(len(closed))
                log.info("reaper closed %d stale sessions", len(closed))
        except Exception as exc:
            log.warning("housekeeping failed, will retry: %s", exc)


def expire_overlays(settings: Settings, factory: sessionmaker[Session], stop: threading.Event) -> None:
    """End custom speeds, trials, trust unlocks and bonuses at their date (the outbox then
    changes the online sessions)."""
    from aaa.audit.log import Actor, act_as
    from aaa.db.base import utcnow
    from aaa.subscribers.overlays import expire_overlays as expire

    while not stop.wait(settings.jobs.overlay_expiry_seconds):
        try:
            with factory.begin() as session:
                act_as(session, Actor("scheduler", "local"))
                ended = expire(session, utcnow())
            if ended:
                log.info("overlays ended for %d services", len(ended))
        except Exception as exc:
            log.warning("overlay expiry failed, will retry: %s", exc)


def deliver_webhooks(settings: Settings, factory: sessionmaker[Session], stop: threading.Event) -> None:
    """Send due webhook deliveries (status changes, payments); retries back off per delivery."""
    from aaa.db.base import utcnow
    from billing_bridge.outbound import AddressPolicy
    from billing_bridge.webhooks import deliver_due

    b = settings.billing
    while not stop.wait(settings.jobs.webhooks_seconds):
        try:
            sent = deliver_due(
                factory,
                utcnow(),
                timeout=b.webhook_timeout,
                max_attempts=b.webhook_max_attempts,
                backoff=b.webhook_backoff_seconds,
                policy=AddressPolicy.of(b.webhook_allowed_networks),
            )
            failed = [o for o in sent if not o.ok]
            if failed:
                log.warning("%d of %d webhook deliveries failed (will retry)", len(failed), len(sent))
        except Exception as exc:
            log.warning("webhook delivery failed, will retry: %s", exc)


def sync_gateway(settings: Settings, factory: sessionmaker[Session], stop: threading.Event) -> None:
    """Create open invoices' charges at the payment provider and cancel the ones no longer
    payable (nothing to do without billing.gateway)."""
    from aaa.db.base import utcnow
    from billing_bridge.gateway_sync import provider_of, sync_due
    from billing_bridge.gateways.breaker import Breaker

    b = settings.billing
    provider = provider_of(b)
    if provider is None:
        return
    breaker = Breaker(b.gateway_breaker_failures, b.gateway_breaker_seconds)
    while not stop.wait(settings.jobs.gateway_seconds):
        try:
            done = sync_due(
                factory,
                provider,
                breaker,
                utcnow(),
                max_attempts=b.gateway_max_attempts,
                backoff=b.gateway_backoff_seconds,
            )
            failed = [o for o in done if o.error]
            if failed:
                log.warning("%d of %d provider calls failed: %s", len(failed), len(done), failed[0].error)
        except Exception as exc:
            log.warning("payment provider sync failed, will retry: %s", exc)


# The supervisor's threads: (job, thread name).
THREADED: tuple[tuple[Job, str], ...] = (
    (housekeeping, "housekeeping"),
    (expire_overlays, "overlay-expiry"),
    (deliver_webhooks, "webhooks"),
    (sync_gateway, "payment-provider"),
)


def start_threads(settings: Settings, factory: sessionmaker[Session], stop: threading.Event) -> None:
    for job, name in THREADED:
        threading.Thread(target=job, args=(settings, factory, stop), name=name, daemon=True).start()


def start_routines(settings: Settings, factory: sessionmaker[Session]) -> Any:
    """The billing routines on their schedules (every node; each moment runs once)."""
    from billing_bridge.scheduler import RoutineScheduler
    from billing_bridge.sources import charge_source

    scheduler = RoutineScheduler(
        factory, ZoneInfo(settings.policy.timezone), source=charge_source(settings.billing)
    )
    scheduler.start()
    return scheduler


async def reconcile_every(settings: Settings, factory: sessionmaker[Session], stop: asyncio.Event) -> None:
    """The reconciler in the enforcer process: NAS sessions against the database."""
    from aaa.db.base import utcnow
    from aaa.enforcement.reconcile import reconcile

    loop = asyncio.get_running_loop()
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.jobs.reconcile_seconds)
        if stop.is_set():
            return
        try:
            reports = await loop.run_in_executor(None, reconcile, factory, settings, utcnow())
        except Exception as exc:
            log.warning("reconcile failed, will retry: %s", exc)
            continue
        for r in reports:
            if r.closed or r.unknown or r.reapplied or r.error:
                log.info(
                    "reconcile %s: closed %d, unknown %d, re-applied %d%s",
                    r.nas,
                    len(r.closed),
                    len(r.unknown),
                    len(r.reapplied),
                    f", error: {r.error}" if r.error else "",
                )
