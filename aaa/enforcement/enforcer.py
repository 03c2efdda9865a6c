"""The enforcer: takes outbox rows, applies them to the NAS, records every attempt.

Runs in its own process (``aaa enforcer``, or a child of ``aaa serve``), so a silent NAS never
slows the RADIUS workers. Rows are claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (several
enforcers can run); a claim expires, so a crashed enforcer's rows are taken again. Per NAS: a
request rate limit (a mass suspension must not flood one concentrator) and a circuit breaker
(a NAS that stopped answering is left alone for a while instead of costing every row a timeout).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import and_, func, insert, or_, select
from sqlalchemy.orm import Session, sessionmaker

from aaa import metrics
from aaa.changes.feed import ChangeCursor, latest_id
from aaa.changes.sessions import login_of
from aaa.db.base import utcnow
from aaa.enforcement.coa import Answer, DynamicAuthClient
from aaa.enforcement.routeros import RouterOsError, connect
from aaa.enforcement.surplus import queue_over_limit
from aaa.enforcement.targets import SessionTarget, load_targets, methods_for
from aaa.policies.grant import Action, LiveChange
from aaa.policies.vendors import render
from aaa.radius import codec as c
from aaa.radius.codec import Codec
from aaa.settings import Settings
from aaa.tables.changes import ChangeKind
from aaa.tables.enforcement import Enforcement, EnforcementAttempt, EnforcementState, Method, Result

log = logging.getLogger(__name__)
_OK = frozenset({Result.ACK, Result.IN_SYNC, Result.GONE})


@dataclass
class Attempt:
    method: Method
    result: Result
    nas_id: int | None = None
    acct_session_id: str | None = None
    error_cause: int | None = None
    detail: str = ""
    granted: dict[str, Any] | None = None
    at: datetime = field(default_factory=utcnow)


class Claim(NamedTuple):
    """An outbox row taken by this enforcer."""

    id: int
    service_id: int
    attempts: int  # rounds so far
    kick: bool = False  # an operator's disconnect (aaa.enforcement.kick)
    session_row: int | None = None  # the kick's one session; None: all of the service's


# The claimed row, the sessions it acts on, the attempts on each
Outcome = tuple[Claim, list[SessionTarget], list[list[Attempt]]]
_KICKED = LiveChange(Action.RECONNECT, "derrubada pelo operador")


def kicked(claim: Claim, targets: list[SessionTarget]) -> list[SessionTarget]:
    """What a row acts on: a kick disconnects its session (or all), whatever the decision says."""
    if not claim.kick:
        return targets
    return [
        replace(t, change=_KICKED)
        for t in targets
        if claim.session_row is None or t.row_id == claim.session_row
    ]


class Breaker:
    """Per NAS: ``failures`` consecutive timeouts open the circuit for ``seconds``."""

    def __init__(self, failures: int, seconds: float):
        self.failures, self.seconds = failures, seconds
        self._count: dict[int, int] = {}
        self._open_until: dict[int, float] = {}

    def allows(self, nas_id: int) -> bool:
        return time.monotonic() >= self._open_until.get(nas_id, 0.0)

    def record(self, nas_id: int, result: Result) -> None:
        if result is Result.TIMEOUT or result is Result.ERROR:
            self._count[nas_id] = self._count.get(nas_id, 0) + 1
            if self._count[nas_id] >= self.failures:
                self._open_until[nas_id] = time.monotonic() + self.seconds
                self._count[nas_id] = 0
                log.warning(
                    "NAS %d: %d failures in a row; leaving it alone for %.0f s",
                    nas_id,
                    self.failures,
                    self.seconds,
                )
        elif result in _OK or result is Result.NAK:  # it answered
            self._count[nas_id] = 0


class Pacer:
    """At most ``rate`` requests a second to each NAS."""

    def __init__(self, rate: float):
        self.interval = 1.0 / rate
        self._next: dict[int, float] = {}

    async def wait(self, nas_id: int) -> None:
        now = time.monotonic()
        slot = max(now, self._next.get(nas_id, now))
        self._next[nas_id] = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


class Enforcer:
    def __init__(self, settings: Settings, factory: sessionmaker[Session]):
        e = settings.enforcer
        self.settings = settings
        self.factory = factory
        self.client = DynamicAuthClient(Codec(settings.radius.dictionary), e.timeout, e.retransmits)
        self.breaker = Breaker(e.breaker_failures, e.breaker_seconds)
        self.pacer = Pacer(e.per_nas_rate)
        self._slots = asyncio.Semaphore(e.concurrency)
        self._db = ThreadPoolExecutor(4, thread_name_prefix="enforcer-db")
        self._api = ThreadPoolExecutor(8, thread_name_prefix="routeros-api")

    async def start(self) -> None:
        await self.client.start(self.settings.enforcer.source_address)

    def close(self) -> None:
        self.client.close()
        self._db.shutdown(wait=True)
        self._api.shutdown(wait=True)

    async def run(self, stop: asyncio.Event) -> None:
        await self.start()
        watcher = asyncio.get_running_loop().create_task(self.watch_simultaneous_use(stop))
        try:
            while not stop.is_set():
                try:
                    done = await self.run_once()
                except Exception as exc:
                    log.warning("enforcement round failed, will retry: %s", exc)
                    done = 0
                if not done:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self.settings.enforcer.poll_interval)
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            self.close()

    async def watch_simultaneous_use(self, stop: asyncio.Event) -> None:
        """Every login the change feed names as newly online is counted against its
        Simultaneous-Use limit; a service over it gets an outbox row (see enforcement.surplus)."""
        loop = asyncio.get_running_loop()
        with self.factory() as session:
            cursor = ChangeCursor(latest_id(session))
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.enforcer.simultaneous_use_interval)
            try:
                await loop.run_in_executor(self._db, self._queue_over_limit, cursor)
            except Exception as exc:
                log.warning("Simultaneous-Use check failed, will retry: %s", exc)

    def _queue_over_limit(self, cursor: ChangeCursor) -> None:
        with self.factory.begin() as session:
            logins = {
                login
                for kind, key in cursor.poll(session)
                if kind != ChangeKind.SESSION_CLOSE and (login := login_of(kind, key))
            }
            queued = queue_over_limit(session, logins)
        if queued:
            log.warning("services %s are over their Simultaneous-Use limit; ending the surplus", queued)

    async def run_once(self, limit: int = 1000) -> int:
        """Claim what is due, apply it concurrently, record it; returns how many rows. A round
        reads and records its whole batch in one transaction each."""
        loop = asyncio.get_running_loop()
        rows = await loop.run_in_executor(self._db, self._claim, limit)
        if not rows:
            return 0
        try:
            found = await loop.run_in_executor(self._db, self._targets, [row.service_id for row in rows])
        except Exception as exc:
            log.exception("reading %d outbox rows failed", len(rows))
            failure = [Attempt(Method.NONE, Result.ERROR, detail=str(exc)[:500])]
            outcomes: list[Outcome] = [(row, [], [failure]) for row in rows]
        else:
            targets = [kicked(row, found[row.service_id]) for row in rows]
            applied = await asyncio.gather(
                *(asyncio.gather(*(self._apply(t) for t in each)) for each in targets)
            )
            outcomes = [
                (row, each, list(results)) for row, each, results in zip(rows, targets, applied, strict=True)
            ]
        await loop.run_in_executor(self._db, self._finish, outcomes)
        return len(rows)

    def _targets(self, service_ids: list[int]) -> dict[int, list[SessionTarget]]:
        with self.factory() as session:
            return load_targets(
                session,
                service_ids,
                self.settings.policy,
                utcnow(),
                self.settings.enforcer.simultaneous_use_disconnect,
            )

    async def _apply(self, target: SessionTarget) -> list[Attempt]:
        """Every method the change needs; on a failure, the fallbacks until one works."""
        change = target.change
        if change.action is Action.IN_SYNC:
            return [self._attempt(target, Method.NONE, Answer(Result.IN_SYNC, detail=change.why))]
        primary, fallbacks = methods_for(change, target.nas.has_api)
        attempts: list[Attempt] = []
        async with self._slots:
            for method in primary:
                attempt = await self._run(target, method)
                attempts.append(attempt)
                if attempt.result not in _OK:
                    break
            else:
                if change.action is Action.LIVE:
                    attempts[-1].granted = target.after.to_json() if target.after else None
                return attempts
            if attempts[-1].result is Result.CIRCUIT_OPEN:
                return attempts
            for method in fallbacks:
                attempt = await self._run(target, method)
                attempts.append(attempt)
                if attempt.result in _OK:
                    break
        return attempts

    async def _run(self, target: SessionTarget, method: Method) -> Attempt:
        nas = target.nas
        if not self.breaker.allows(nas.id):
            return self._attempt(target, method, Answer(Result.CIRCUIT_OPEN, detail="NAS circuit open"))
        if nas.host is None:
            detail = f"NAS {nas.name} is registered as a network; give it a single address to reach it"
            return self._attempt(target, method, Answer(Result.ERROR, detail=detail))
        await self.pacer.wait(nas.id)
        if method in (Method.COA, Method.DISCONNECT):
            answer = await self._dynamic(target, method)
        else:
            answer = await asyncio.get_running_loop().run_in_executor(
                self._api, self._routeros, target, method
            )
        self.breaker.record(nas.id, answer.result)
        return self._attempt(target, method, answer)

    async def _dynamic(self, target: SessionTarget, method: Method) -> Answer:
        # Identification (RFC 5176 §3): User-Name and Acct-Session-Id, plus the address where
        # known (RouterOS matches sessions by it).
        attributes: list[tuple[str, Any]] = [
            ("User-Name", target.login),
            ("Acct-Session-Id", target.acct_session_id),
        ]
        if target.framed_ip:
            attributes.append(("Framed-IP-Address", target.framed_ip))
        code = c.DISCONNECT_REQUEST
        if method is Method.COA:
            code = c.COA_REQUEST
            changes: list[tuple[str, Any]] = []
            if target.change.rate:
                changes.append(("Mikrotik-Rate-Limit", target.change.rate))
            if target.change.add_list and not target.nas.has_api:
                changes.append(("Mikrotik-Address-List", target.change.add_list))
            attributes += render(target.nas.vendor, changes)  # in the NAS vendor's attributes
            attributes += target.change.attributes  # custom reply attributes, as the operator wrote them
        nas = target.nas
        assert nas.host is not None
        answer = await self.client.send(code, (nas.host, nas.coa_port), nas.secret, attributes)
        if method is Method.DISCONNECT and answer.result is Result.NAK and answer.error_cause == 503:
            return Answer(Result.GONE, 503, "the NAS has no such session (Error-Cause 503)")
        return answer

    def _routeros(self, target: SessionTarget, method: Method) -> Answer:
        nas = target.nas
        assert nas.host is not None and nas.api_username is not None
        change = target.change
        try:
            with connect(
                nas.host,
                nas.api_port,
                nas.api_username,
                nas.api_password or "",
                self.settings.enforcer.api_timeout,
                tls=nas.api_tls,
                verify=nas.api_tls_verify,
                ca_file=self.settings.enforcer.api_ca_file,
            ) as ros:
                if method is Method.API_KICK:
                    removed = ros.kick(target.login)
                    if not removed:
                        return Answer(Result.GONE, detail="no /ppp/active session with that name")
                    return Answer(Result.ACK, detail=f"removed {removed} /ppp/active session(s)")
                if not target.framed_ip:
                    return Answer(
                        Result.ERROR,
                        detail="the session's address is not known (no Framed-IP-Address in accounting)",
                    )
                done = []
                if change.remove_list:
                    ros.list_remove(change.remove_list, target.framed_ip)
                    done.append(f"removed {target.framed_ip} from {change.remove_list}")
                if change.add_list:
                    ros.list_add(change.add_list, target.framed_ip, target.login)
                    done.append(f"added {target.framed_ip} to {change.add_list}")
                return Answer(Result.ACK, detail="; ".join(done))
        except RouterOsError as exc:
            return Answer(Result.ERROR, detail=str(exc)[:500])

    def _attempt(self, target: SessionTarget, method: Method, answer: Answer) -> Attempt:
        metrics.child(metrics.ENFORCEMENT_ATTEMPTS, method.value, answer.result.value, target.nas.name).inc()
        detail = answer.detail  # an in-sync answer carries the change's reason already
        if answer.result is Result.ACK:  # what was changed, and what the NAS or API said
            detail = "; ".join(x for x in (target.change.why, answer.detail) if x)
        nas = target.nas
        if nas.host is not None and method is not Method.NONE:  # where it went: a wrong port shows
            port = nas.coa_port if method in (Method.COA, Method.DISCONNECT) else nas.api_port
            detail = f"{nas.host}:{port}: {detail}"
            if answer.result is Result.TIMEOUT:
                log.warning(
                    "%s to NAS %s at %s:%d timed out (is /radius incoming on that port?)",
                    method.value,
                    nas.name,
                    nas.host,
                    port,
                )
        return Attempt(
            method,
            answer.result,
            target.nas.id,
            target.acct_session_id,
            answer.error_cause,
            detail[:500],
        )

    # --- the database side ----------------------------------------------------------------

    def _claim(self, limit: int) -> list[Claim]:
        now = utcnow()
        hold = timedelta(seconds=max(60.0, self.settings.enforcer.timeout * 20))
        with self.factory.begin() as session:
            query = (
                select(Enforcement)
                .where(
                    or_(
                        and_(
                            Enforcement.state == EnforcementState.PENDING, Enforcement.next_attempt_at <= now
                        ),
                        and_(Enforcement.state == EnforcementState.RUNNING, Enforcement.claimed_until < now),
                    )
                )
                .order_by(Enforcement.id)
                .limit(limit)
            )
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            claimed, seen = [], set()
            for row in session.scalars(query):
                if row.service_id in seen:
                    continue  # one row per service at a time; the next round takes the other
                seen.add(row.service_id)
                row.state, row.claimed_until = EnforcementState.RUNNING, now + hold
                claimed.append(Claim(row.id, row.service_id, row.attempts, row.kick, row.acct_session_row))
            backlog = session.scalar(
                select(func.count())
                .select_from(Enforcement)
                .where(Enforcement.state == EnforcementState.PENDING)
            )
        metrics.ENFORCEMENT_BACKLOG.set(backlog or 0)
        return claimed

    def _finish(self, outcomes: list[Outcome]) -> None:
        e = self.settings.enforcer
        now = utcnow()
        with self.factory.begin() as session:
            attempt_rows = [
                {
                    "enforcement_id": row_id,
                    "service_id": service_id,
                    "nas_id": a.nas_id,
                    "acct_session_id": a.acct_session_id,
                    "method": a.method,
                    "result": a.result,
                    "error_cause": a.error_cause,
                    "detail": a.detail,
                    "granted": a.granted,
                    "at": a.at,
                }
                for (row_id, service_id, *_), _, results in outcomes
                for attempt_list in results
                for a in attempt_list
            ]
            if attempt_rows:
                session.execute(insert(EnforcementAttempt), attempt_rows)
            rows = {
                r.id: r
                for r in session.scalars(
                    select(Enforcement).where(Enforcement.id.in_([o[0][0] for o in outcomes]))
                )
            }
            for (row_id, _, attempts, *_), targets, results in outcomes:
                row = rows[row_id]
                failed = [r for r in results if not r or r[-1].result not in _OK]
                row.attempts = attempts + 1
                row.claimed_until = None
                if not targets and not failed:
                    row.state, row.finished_at, row.outcome = EnforcementState.DONE, now, "no open session"
                elif not failed:
                    row.state, row.finished_at = EnforcementState.DONE, now
                    row.outcome = "; ".join(sorted({a[-1].result.value for a in results}))
                elif row.attempts >= e.max_attempts:
                    row.state, row.finished_at = EnforcementState.FAILED, now
                    row.outcome = f"failed after {row.attempts} rounds: {failed[0][-1].detail}"[:500]
                else:
                    row.state = EnforcementState.PENDING
                    row.next_attempt_at = now + timedelta(seconds=e.backoff_seconds * 2 ** (row.attempts - 1))
                    row.outcome = f"round {row.attempts} failed: {failed[0][-1].detail}"[:500]
