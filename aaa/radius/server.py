"""One RADIUS worker: authentication and accounting over asyncio UDP.

Hot path (cached subscriber): decode → find NAS → Message-Authenticator → retransmission
check → credentials → decide() → encode → send, all inside the datagram callback, no SQL.
A cache miss loads the snapshot in a thread and answers when it arrives. Every datagram is
handled inside one try: a bad packet is dropped and counted, the worker keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from aaa import metrics
from aaa.accounting.spool import Spool
from aaa.accounting.store import read_nas_sessions_closed
from aaa.accounting.writer import AcctWriter, unreachable
from aaa.changes.feed import Change, install_publisher
from aaa.changes.listener import ChangeListener
from aaa.changes.redis_bus import RedisBus
from aaa.changes.sessions import closed_from, opened_from, read_keys
from aaa.db.base import utcnow
from aaa.ipam.allocator import NoSuchPool, PoolExhausted, lease
from aaa.ipam.pools import load_pools
from aaa.nas.directory import NasDirectory, NasEntry
from aaa.policies.decide import cpe_at, decide, normalize_mac, reject
from aaa.policies.decision import Decision, Outcome, RejectReason
from aaa.policies.inputs import IspPolicy, OpenSession, PlanSpeed, RequestFacts, Subscriber
from aaa.radius import auth_methods
from aaa.radius import codec as c
from aaa.radius.accounting import parse_record
from aaa.radius.answers import Answers
from aaa.radius.authlog import AuthRecorder
from aaa.radius.cache import Entry, SubscriberCache
from aaa.radius.codec import Codec, DropPacket, Request
from aaa.radius.dedup import PENDING, Key, ReplyCache
from aaa.radius.droplog import DropLog
from aaa.radius.misses import SnapshotLoads
from aaa.radius.reservations import Reservations
from aaa.radius.sockets import Address, DatagramPort
from aaa.radius.trace import Trace, Tracer
from aaa.settings import Settings
from aaa.snapshots import Plans, isp_policy, load_all, load_plans
from aaa.tables.changes import ChangeKind
from aaa.tables.nas import MaMode
from aaa.vocabulary.attributes import LEASE_ATTRIBUTE
from aaa.vocabulary.messages import MESSAGES

log = logging.getLogger(__name__)
AcctTicket = tuple[Request, NasEntry, Key, Address, float]  # what answering a stored record needs
_SESSION_KINDS = (ChangeKind.SESSION_OPEN, ChangeKind.SESSION_CLOSE)  # their keys parse together


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # a thread without a loop (a session's commit in an executor)
        return None


def _correlation(data: bytes, addr: Address) -> dict[str, str]:
    """A log line's correlation: the NAS and the packet identifier it retransmits with."""
    return {"correlation": f"radius:{addr[0]}:{data[1] if len(data) > 1 else '-'}"}


class RadiusWorker:
    def __init__(
        self,
        settings: Settings,
        factory: sessionmaker[Session],
        bus: RedisBus | None = None,
        name: str | None = None,
    ):
        r = settings.radius
        a = settings.accounting
        self.settings = settings
        self.factory = factory
        self.codec = Codec(r.dictionary)
        self.answers = Answers(self.codec)
        self.nas = NasDirectory()
        self.cache = SubscriberCache(r.snapshot_negative_ttl)
        self.replies = ReplyCache(r.dedup_seconds)
        self.reservations = Reservations(r.reservation_seconds)
        self.drops = DropLog()
        spool = Spool(a.spool_dir, name or str(os.getpid()), a.spool_max_bytes)
        self.listener = ChangeListener(factory, self.apply_changes, r.change_poll_interval, bus)
        # The changes of our own commits are applied at once (see _published): the feed poll
        # skips their rows.
        self.acct: AcctWriter[AcctTicket] = AcctWriter(
            factory,
            r.acct_batch_max,
            r.acct_commit_concurrency,
            spool,
            self._acct_done,
            self.listener.applied,
        )
        self.recorder = AuthRecorder(factory, r.authlog_flush_ms / 1000)
        self.tracer = Tracer(self.recorder.trace)  # aaa trace: nothing to do until one starts
        self.policy = isp_policy(settings.policy)  # with the blocked pool once load() has read IPAM
        self.plans = Plans({})  # shared by the snapshots; filled by load()
        self.misses = SnapshotLoads(factory, self.cache, self.plans, r.snapshot_batch_max)
        self._loader = ThreadPoolExecutor(1, thread_name_prefix="registry-load")  # NAS, plans
        self._leaser = ThreadPoolExecutor(2, thread_name_prefix="ipam-lease")
        self._reloading: asyncio.Task[None] | None = None
        self._reload_again = False
        self._reject_when_down = r.database_down == "reject"
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.auth_port: DatagramPort | None = None
        self.acct_port: DatagramPort | None = None
        install_publisher(factory, self._published)

    # --- lifecycle ----------------------------------------------------------------------

    def load(self) -> None:
        """Mark the change feed position, then load the NAS registry and every subscriber
        snapshot (start-up, blocking). Changes committed meanwhile arrive through the feed."""
        self.listener.start_position()
        # The load makes only objects that live on (no cycles to find): the collector walking
        # the growing heap again and again would take longer than the load itself.
        collecting = gc.isenabled()
        gc.disable()
        try:
            with self.factory() as session:
                self.nas, self.policy, plans = self._registries(session)
                self.plans.refresh(plans)
                subscribers, sessions = load_all(session, self.plans)
            self.cache.fill(subscribers, sessions)
        finally:
            if collecting:
                gc.enable()
        counts = len(self.nas), len(self.plans), len(subscribers)
        log.info("loaded %d NAS, %d plans and %d subscriber snapshots", *counts)

    def _registries(self, session: Session) -> tuple[NasDirectory, IspPolicy, dict[int, PlanSpeed]]:
        """The NAS registry, the policy (its blocked pool from IPAM) and the plans, as stored."""
        nas = NasDirectory()
        nas.load(session)
        pools = load_pools(session)
        return nas, isp_policy(self.settings.policy, pools.values()), load_plans(session, pools)

    async def serve(
        self,
        auth_sock: socket.socket,
        acct_sock: socket.socket | None,
        stop: asyncio.Event | None = None,
    ) -> None:
        """Serve until ``stop`` is set, then drain accounting and flush the auth log. Without an
        accounting socket the worker serves authentication only."""
        loop = self._loop = asyncio.get_running_loop()
        self.auth_port = DatagramPort(loop, auth_sock, self.on_auth)
        ports = [self.auth_port]
        jobs = [self.recorder.run(), self.listener.run(), _flush_metrics_every(1.0)]
        if acct_sock is not None:
            self.acct_port = DatagramPort(loop, acct_sock, self.on_acct)
            ports.append(self.acct_port)
            jobs.append(self.acct.replay_every(self.settings.accounting.replay_interval))
        background = [loop.create_task(job) for job in jobs]
        try:
            await (stop or asyncio.Event()).wait()
        finally:
            for port in ports:
                port.close()
            deadline = time.monotonic() + 10
            while not self.acct.idle and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            await self.recorder.flush(final=True)
            for task in background:
                task.cancel()
            metrics.flush()
            self.listener.close()
            self.acct.close()
            self.recorder.close()
            self.misses.close()
            self._loader.shutdown(wait=False)
            self._leaser.shutdown(wait=False)

    # --- changes ------------------------------------------------------------------------

    def _published(self, changes: list[Change]) -> None:
        """After one of our own commits, apply it here without waiting for the feed (the other
        workers learn it from Redis, published by the composition root, or from the feed poll).
        Its changes queue behind those already delivered and are applied as they are, a turn
        of the loop at a time (ChangeListener.deliver)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        if _running_loop() is loop:  # the accounting merge, answered on the loop: no wake-up
            self.listener.deliver(changes)
            return
        with contextlib.suppress(RuntimeError):  # closed meanwhile: the worker has stopped
            loop.call_soon_threadsafe(self.listener.deliver, changes)

    def apply_changes(self, changes: list[Change]) -> None:
        reload_registries = False
        sessions = iter(read_keys([key for kind, key in changes if kind in _SESSION_KINDS]))
        for kind, key in changes:
            if kind in (ChangeKind.NAS, ChangeKind.PLAN):
                reload_registries = True
                continue
            if kind == ChangeKind.SESSION_OPEN:
                login, opened = opened_from(next(sessions))
                self.misses.stale(login)
                self.cache.session_opened(login, opened)
            elif kind == ChangeKind.SESSION_CLOSE:
                login, nas_id, session_id = closed_from(next(sessions))
                self.misses.stale(login)
                self.cache.session_closed(login, nas_id, session_id)
            elif kind == ChangeKind.TRACE:
                self.tracer.start(Trace.from_key(key))
            elif kind == ChangeKind.NAS_SESSIONS:
                self.misses.stale_all()
                self.cache.close_nas_sessions(*read_nas_sessions_closed(key))
            else:
                self.misses.stale(key)
                self.cache.invalidate(key, kind)
        if reload_registries and self._loop is not None:
            self._reload_registries()

    def _reload_registries(self) -> None:
        """A NAS, pool or plan changed: read the NAS registry and the plans again, one reload
        at a time (a change meanwhile asks for one more)."""
        if self._reloading is not None and not self._reloading.done():
            self._reload_again = True
            return
        self._reload_again = False
        self._reloading = asyncio.ensure_future(self._reload())
        self._tasks.add(self._reloading)
        self._reloading.add_done_callback(self._reloaded)

    def _reloaded(self, task: asyncio.Task[None]) -> None:
        self._done(task)
        if self._reload_again and not task.cancelled():  # cancelled: the worker is stopping
            self._reload_registries()

    async def _reload(self) -> None:
        def load() -> tuple[NasDirectory, IspPolicy, dict[int, PlanSpeed]]:
            with self.factory() as session:
                return self._registries(session)

        assert self._loop is not None
        try:
            self.nas, self.policy, plans = await self._loop.run_in_executor(self._loader, load)
        except Exception as exc:
            # Nothing was dropped for this change, so nothing would load it later: try again.
            log.warning("NAS registry and plans reload failed, retrying in 1 s: %s", exc)
            await asyncio.sleep(1.0)
            self._reload_again = True
            return
        # Written into the plans every snapshot shares: the edit reaches them all at once.
        metrics.PLANS_REFRESHED.inc(len(self.plans.refresh(plans)))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        """A request finished off the datagram handler (a load, a lease): a failure there is
        counted and logged like one inside it, never lost."""
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            metrics.child(metrics.RADIUS_DROPPED, "internal_error").inc()
            log.error("request task failed", exc_info=exc)

    # --- authentication -----------------------------------------------------------------

    def on_auth(self, data: bytes, addr: Address) -> None:
        self._guarded(self._auth, data, addr)

    def on_acct(self, data: bytes, addr: Address) -> None:
        self._guarded(self._acct, data, addr)

    def _guarded(self, handle: Callable[[bytes, Address, float], None], data: bytes, addr: Address) -> None:
        """One datagram, one try: whatever goes wrong is counted, and the worker keeps serving."""
        started = time.perf_counter()
        try:
            handle(data, addr, started)
        except DropPacket as drop:
            metrics.child(metrics.RADIUS_DROPPED, drop.cause).inc()
            self.drops.dropped(addr[0], drop.cause, str(drop), _correlation(data, addr))
            if (nas := self.nas.lookup(addr[0])) is not None:
                self.recorder.activity.drop(nas.id, drop.cause, str(drop), time.time())
                if self.tracer.active:
                    self.tracer.drop(nas.id, nas.name, addr, drop.cause, str(drop))
            log.debug(
                "packet from %s dropped: %s (%s)", addr[0], drop.cause, drop, extra=_correlation(data, addr)
            )
        except Exception:
            metrics.child(metrics.RADIUS_DROPPED, "internal_error").inc()
            log.exception("packet from %s: internal error", addr[0], extra=_correlation(data, addr))

    def _receive(self, data: bytes, addr: Address, code: int) -> tuple[NasEntry, Request]:
        """The NAS by source address, then the decoded request, which must be of ``code``."""
        nas = self.nas.lookup(addr[0])
        if nas is None:
            raise DropPacket("unknown_nas", f"{addr[0]} is not a registered NAS")
        self.recorder.activity.request(nas.id)
        req = self.codec.decode(data)
        if req.code != code and req.code != c.STATUS_SERVER:
            raise DropPacket("unknown_code", f"code {req.code} on the port for code {code}")
        return nas, req

    def _status(
        self, req: Request, nas: NasEntry, addr: Address, port: DatagramPort | None, code: int
    ) -> None:
        """Status-Server (RFC 5997): a registered NAS's health probe, proven by its
        Message-Authenticator (required), answered on the port it came to and never cached."""
        if not req.has(c.MESSAGE_AUTHENTICATOR):
            raise DropPacket("missing_message_authenticator", "Status-Server without Message-Authenticator")
        if not self.codec.verify_message_authenticator(req, nas.secret):
            raise DropPacket("bad_message_authenticator", "Message-Authenticator does not verify")
        if port is not None:
            port.sendto(self.codec.reply(req, code, nas.secret), addr)
        if self.tracer.active:
            self.tracer.reply(req, "Access-Accept" if code == c.ACCESS_ACCEPT else "Accounting-Response", ())
        metrics.child(metrics.RADIUS_REQUESTS, "status", "answered", nas.name).inc()

    def _traced(self, req: Request, nas: NasEntry, addr: Address) -> None:
        kind = {c.ACCESS_REQUEST: "Access-Request", c.ACCOUNTING_REQUEST: "Accounting-Request"}
        self.tracer.request(
            req, nas.id, nas.name, addr, kind.get(req.code, "Status-Server"), self.codec.describe(req.raw)
        )

    def _auth(self, data: bytes, addr: Address, started: float) -> None:
        nas, req = self._receive(data, addr, c.ACCESS_REQUEST)
        if self.tracer.active:
            self._traced(req, nas, addr)
        if req.code == c.STATUS_SERVER:
            self._status(req, nas, addr, self.auth_port, c.ACCESS_ACCEPT)
            return
        self._check_message_authenticator(req, nas)
        key: Key = (addr[0], addr[1], req.id, req.authenticator)
        if self._answered(key, addr, "access", self.auth_port):
            return
        login = req.text(c.USER_NAME) or ""
        if self._reject_when_down and (self.acct.database_down or self.recorder.database_down):
            verdict = auth_methods.Verdict(auth_methods.detect(req), False)
            unavailable = reject(
                RejectReason.UNAVAILABLE, "database unavailable (radius.database_down = reject)"
            )
            self._finish_auth(req, nas, addr, key, unavailable, verdict, None, started)
            return
        entry = self.cache.get(login) if login else Entry(None, (), 0.0)
        if entry is None:
            self._spawn(self._auth_after_load(req, nas, addr, key, login, started))
            return
        self._answer_auth(req, nas, addr, key, entry.subscriber, entry.sessions, started, fresh=False)

    def _check_message_authenticator(self, req: Request, nas: NasEntry) -> None:
        """BlastRADIUS (CVE-2024-3596), as FreeRADIUS 3.2.5+ does it."""
        if req.has(c.MESSAGE_AUTHENTICATOR):
            if not self.codec.verify_message_authenticator(req, nas.secret):
                raise DropPacket("bad_message_authenticator", "Message-Authenticator does not verify")
            if nas.ma_mode is MaMode.AUTO and not nas.ma_seen:
                self.nas.mark_ma_seen(nas.id)
                self.recorder.nas_ma_seen(nas.id)
            return
        if nas.requires_ma:
            raise DropPacket(
                "missing_message_authenticator", f"NAS {nas.name} must send Message-Authenticator"
            )
        if req.has(c.EAP_MESSAGE):
            raise DropPacket("missing_message_authenticator", "EAP-Message without it (RFC 3579 §3.2)")
        if self.settings.radius.limit_proxy_state and req.has(c.PROXY_STATE):
            raise DropPacket("proxy_state_without_ma", "Proxy-State without Message-Authenticator")

    def _answered(self, key: Key, addr: Address, kind: str, port: DatagramPort | None) -> bool:
        """RFC 5080 §2.2.2: a retransmission gets the same reply, never a second evaluation."""
        cached = self.replies.begin(key)
        if cached is None:
            return False
        if cached == PENDING:
            metrics.child(metrics.RADIUS_DUPLICATES, kind, "in_flight").inc()
        else:
            metrics.child(metrics.RADIUS_DUPLICATES, kind, "resent").inc()
            if port is not None:
                port.sendto(cached, addr)
        return True

    async def _auth_after_load(
        self, req: Request, nas: NasEntry, addr: Address, key: Key, login: str, started: float
    ) -> None:
        try:
            subscriber, sessions = await self.misses.load(login)
        except Exception as exc:
            serve_stale = unreachable(exc) and not self._reject_when_down
            last = self.cache.stale(login) if serve_stale else None
            if last is not None:  # the database is down: the last known snapshot answers
                log.debug("database unreachable; %r answered from its last snapshot", login)
                self._answer_auth(req, nas, addr, key, last.subscriber, last.sessions, started, fresh=True)
                return
            log.warning("loading subscriber %r failed: %s", login, exc)
            self._finish_auth(
                req,
                nas,
                addr,
                key,
                reject(RejectReason.UNAVAILABLE, str(exc)[:200]),
                auth_methods.Verdict(auth_methods.detect(req), False),
                None,
                started,
            )
            return
        self._answer_auth(req, nas, addr, key, subscriber, sessions, started, fresh=True)

    def _answer_auth(
        self,
        req: Request,
        nas: NasEntry,
        addr: Address,
        key: Key,
        sub: Subscriber | None,
        sessions: tuple[OpenSession, ...],
        started: float,
        *,
        fresh: bool,
    ) -> None:
        method = auth_methods.detect(req)
        verdict = auth_methods.verify(req, method, sub.password if sub else None, nas.secret)
        if method == auth_methods.NONE:
            decision = reject(RejectReason.UNSUPPORTED_METHOD, "no User-Password, CHAP or MS-CHAP attributes")
        elif sub is None:
            decision = reject(RejectReason.UNKNOWN_LOGIN, "login not found")
        elif not verdict.ok:
            decision = reject(RejectReason.WRONG_PASSWORD, f"{method} credentials do not match")
        else:
            calling, port = req.text(c.CALLING_STATION_ID), req.text(c.NAS_PORT_ID)
            # The CPE that places are held for: only a login with a Simultaneous-Use limit has any.
            here = cpe_at(nas.id, calling, port) if sub.simultaneous_use else None
            facts = RequestFacts(
                nas_id=nas.id,
                calling_station_id=calling,
                nas_port_id=port,
                interim_interval=nas.interim_interval or self.settings.radius.acct_interim_interval,
                open_sessions=sessions
                if here is None
                else self.reservations.with_open(sub.login, sessions, here),
                nas_pools=nas.pools,
                nas_suspended_action=nas.suspended_action,
            )
            decision = decide(sub, facts, utcnow(), self.policy)
            if decision.outcome is Outcome.ACCEPT and here is not None:
                self.reservations.add(sub.login, here, sessions)
            if decision.reject is RejectReason.SIMULTANEOUS_USE and not fresh:
                # Closed sessions are not announced (see accounting.store.apply_records): the
                # cache may still count one, so confirm against the database before rejecting.
                self._spawn(self._auth_after_load(req, nas, addr, key, sub.login, started))
                return
            if decision.lease_from:
                self._spawn(self._lease_then_finish(req, nas, addr, key, decision, verdict, sub, started))
                return
        self._finish_auth(req, nas, addr, key, decision, verdict, sub, started)

    async def _lease_then_finish(
        self,
        req: Request,
        nas: NasEntry,
        addr: Address,
        key: Key,
        decision: Decision,
        verdict: auth_methods.Verdict,
        sub: Subscriber,
        started: float,
    ) -> None:
        """Server-mode pools: the lease is a database write, so it runs off the event loop; a
        pool with no room or no subnet for this NAS is a reject with its own reason."""
        assert self._loop is not None
        pool = decision.lease_from[0]
        try:
            leased = await self._loop.run_in_executor(
                self._leaser, self._lease, sub.service_id, nas.id, decision
            )
        except (PoolExhausted, NoSuchPool) as exc:
            metrics.child(metrics.IPAM_LEASES, exc.reason, pool.name).inc()
            decision = reject(RejectReason(exc.reason), *decision.reasons, str(exc))
        except Exception as exc:
            log.warning("leasing an address for service %d failed: %s", sub.service_id, exc)
            metrics.child(metrics.IPAM_LEASES, "error", pool.name).inc()
            decision = reject(RejectReason.UNAVAILABLE, *decision.reasons, str(exc)[:200])
        else:
            decision = replace(
                decision,
                attributes=(*decision.attributes, *leased),
                reasons=(*decision.reasons, *(f"leased {value}" for _, value in leased)),
            )
        self._finish_auth(req, nas, addr, key, decision, verdict, sub, started)

    def _lease(self, service_id: int, nas_id: int, decision: Decision) -> list[tuple[str, str]]:
        leased = []
        with self.factory() as session:
            for pool in decision.lease_from:
                row = lease(session, service_id=service_id, pool_id=pool.id, nas_id=nas_id, now=utcnow())
                leased.append((LEASE_ATTRIBUTE[pool.kind], row.address))
                metrics.child(metrics.IPAM_LEASES, "leased", pool.name).inc()
            session.commit()
        return leased

    def _finish_auth(
        self,
        req: Request,
        nas: NasEntry,
        addr: Address,
        key: Key,
        decision: Decision,
        verdict: auth_methods.Verdict,
        sub: Subscriber | None,
        started: float,
    ) -> None:
        login = req.text(c.USER_NAME) or ""
        granted = None
        if decision.outcome is Outcome.ACCEPT:
            # The decision speaks MikroTik; the NAS gets its vendor's attributes.
            answer = self.answers.of(nas.vendor, decision)
            granted = answer.granted
            # MS-CHAP's attributes are new with every request, and come encoded.
            reply = self.codec.reply(
                req, c.ACCESS_ACCEPT, nas.secret, encoded=answer.encoded + verdict.accept_encoded
            )
            attributes = answer.attributes + verdict.accept_attributes
            if decision.learn_mac:
                self.recorder.learn_mac(login, decision.learn_mac)

        else:
            assert decision.reject is not None
            # A request without Message-Authenticator (a NAS set to "no") proves nothing about
            # its sender: its reject carries no Reply-Message, so a spoofed request never gets a
            # reply larger than itself (no reflection amplification).
            message = (
                (("Reply-Message", reply_message(self.policy, decision.reject)),)
                if req.has(c.MESSAGE_AUTHENTICATOR)
                else ()
            )
            attributes = (*message, *verdict.reject_attributes)
            reply = self.codec.reply(req, c.ACCESS_REJECT, nas.secret, attributes)
            metrics.child(metrics.RADIUS_REJECTS, decision.reject.value, nas.name).inc()
        if self.tracer.active:
            sent = "Access-Accept" if decision.outcome is Outcome.ACCEPT else "Access-Reject"
            self.tracer.reply(req, sent, attributes, decision.reasons)
        self.recorder.log(
            nas_id=nas.id,
            login=login[:253],
            service_id=sub.service_id if sub else None,
            method=verdict.method,
            mac=normalize_mac(req.text(c.CALLING_STATION_ID)),
            nas_port_id=req.text(c.NAS_PORT_ID),
            result=decision.outcome.value,
            reason=decision.trace[:500],
            mac_differs="mac_differs" in decision.flags,
            interface_differs="interface_differs" in decision.flags,
            granted=granted,
        )
        metrics.child(metrics.RADIUS_REQUESTS, "access", decision.outcome.value, nas.name).inc()
        delay = self.settings.radius.reject_delay if decision.outcome is Outcome.REJECT else 0
        if delay and self._loop is not None:
            # Delayed rejects slow down password guessing; the reply is cached when it is sent.
            self._loop.call_later(delay, self._send, self.auth_port, key, reply, addr, "access", started)
        else:
            self._send(self.auth_port, key, reply, addr, "access", started)

    def _send(
        self,
        port: DatagramPort | None,
        key: Key,
        reply: bytes,
        addr: Address,
        kind: str,
        started: float,
    ) -> None:
        self.replies.finish(key, reply)
        if port is not None:
            port.sendto(reply, addr)
        metrics.child(metrics.RADIUS_LATENCY, kind).observe(time.perf_counter() - started)

    # --- accounting ---------------------------------------------------------------------

    def _acct(self, data: bytes, addr: Address, started: float) -> None:
        nas, req = self._receive(data, addr, c.ACCOUNTING_REQUEST)
        if self.tracer.active:
            self._traced(req, nas, addr)
        if req.code == c.STATUS_SERVER:
            self._status(req, nas, addr, self.acct_port, c.ACCOUNTING_RESPONSE)
            return
        if not self.codec.verify_accounting(req, nas.secret):
            raise DropPacket("bad_authenticator", "Request Authenticator does not verify (wrong secret?)")
        if req.has(c.MESSAGE_AUTHENTICATOR) and not self.codec.verify_message_authenticator(req, nas.secret):
            raise DropPacket("bad_message_authenticator", "Message-Authenticator does not verify")
        record = parse_record(req, nas.id, nas.swap_octets, utcnow())
        key: Key = (addr[0], addr[1], req.id, req.authenticator)
        if self._answered(key, addr, "accounting", self.acct_port):
            return
        self.acct.submit(record, (req, nas, key, addr, started))

    def _acct_done(self, tickets: list[AcctTicket], error: BaseException | None) -> None:
        """A group commit ended: acknowledge its records, or (not stored) forget them so that
        the NAS's retransmissions are tried again. Counted once per NAS, not per record."""
        answered: dict[str, int] = {}
        for req, nas, key, addr, started in tickets:
            answered[nas.name] = answered.get(nas.name, 0) + 1
            if self.tracer.active:
                sent = "Accounting-Response (stored)" if error is None else f"nothing: not stored ({error})"
                self.tracer.reply(req, sent, ())
            if error is not None:
                self.replies.forget(key)
                continue
            try:
                reply = self.codec.reply(req, c.ACCOUNTING_RESPONSE, nas.secret)
                self._send(self.acct_port, key, reply, addr, "accounting", started)
            except Exception:  # one reply's failure must not leave the rest unanswered
                self.replies.forget(key)
                metrics.child(metrics.RADIUS_DROPPED, "internal_error").inc()
                log.exception("accounting reply to %s failed", addr[0], extra=_correlation(req.raw, addr))
        if self.acct_port is not None:  # the batch's replies, in one system call
            self.acct_port.flush()
        outcome = "stored" if error is None else "not_stored"
        for name, count in answered.items():
            metrics.child(metrics.RADIUS_REQUESTS, "accounting", outcome, name).inc(count)


async def _flush_metrics_every(seconds: float) -> None:
    """Buffered metric updates (aaa.metrics.Buffered) reach the shared files once a second."""
    while True:
        await asyncio.sleep(seconds)
        metrics.flush()


def reply_message(policy: IspPolicy, reason: RejectReason) -> str:
    """The reject's Reply-Message: the ISP's text for it, else the default."""
    return (policy.messages or MESSAGES).get(reason.message_key) or MESSAGES[reason.message_key]
