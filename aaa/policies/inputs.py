"""What a decision is made from: the subscriber, the request, the ISP's policy. Plain immutable
data; the policies import no settings (aaa.snapshots builds the ISP policy from them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from aaa.policies.ratelimit import RateLimit, kbps_text
from aaa.vocabulary.ipam import PoolKind, PoolMode
from aaa.vocabulary.passwords import StoredHash
from aaa.vocabulary.subscribers import MacBinding, ServiceStatus, SuspendedAction

ReplyAttribute = tuple[str, str, str]  # (attribute, operator "=", ":=" or "+=", value as text)


@dataclass(slots=True)
class PlanSpeed:
    """What a plan gives. Not frozen, alone among the decision's inputs: a worker keeps one per
    plan, shared by every snapshot on the plan (or trialling it), and an edited plan is
    written into that one object (``take``), so the edit reaches a million snapshots at once
    instead of reloading each. Only the worker's event loop writes it, between decisions."""

    name: str
    download_kbps: int
    upload_kbps: int
    burst_download_kbps: int | None = None
    burst_upload_kbps: int | None = None
    burst_threshold_download_kbps: int | None = None
    burst_threshold_upload_kbps: int | None = None
    burst_time_s: int | None = None
    reply_attributes: tuple[ReplyAttribute, ...] = ()  # the plan's custom reply attributes
    pools: tuple[PoolRef, ...] = ()  # the plan's IPAM pools
    id: int = 0
    # Texts every accept on the plan repeats, made once (``take`` resets them with the rest).
    _rate_text: str | None = field(default=None, init=False, repr=False, compare=False)
    _speed_text: str | None = field(default=None, init=False, repr=False, compare=False)

    def take(self, fresh: PlanSpeed) -> None:
        """Become ``fresh`` (the same plan, edited), for every snapshot that holds this one."""
        for name in PlanSpeed.__slots__:  # type: ignore[attr-defined]
            setattr(self, name, getattr(fresh, name))

    def rate_text(self) -> str:
        """The plan's Mikrotik-Rate-Limit value."""
        if self._rate_text is None:
            self._rate_text = self.rate_limit().render()
        return self._rate_text

    def speed_text(self) -> str:
        """How a decision's reasons name the plan: "plan Fibra 300M 300M/150M"."""
        if self._speed_text is None:
            self._speed_text = f"plan {self.name} {kbps_text(self.download_kbps, self.upload_kbps)}"
        return self._speed_text

    def rate_limit(self) -> RateLimit:
        def bps(kbps: int | None) -> int | None:
            return None if kbps is None else kbps * 1000

        has_burst = self.burst_download_kbps is not None and self.burst_upload_kbps is not None
        return RateLimit(
            rx_rate=self.upload_kbps * 1000,  # rx = the subscriber's upload
            tx_rate=self.download_kbps * 1000,
            rx_burst_rate=bps(self.burst_upload_kbps) if has_burst else None,
            tx_burst_rate=bps(self.burst_download_kbps) if has_burst else None,
            rx_burst_threshold=bps(self.burst_threshold_upload_kbps) if has_burst else None,
            tx_burst_threshold=bps(self.burst_threshold_download_kbps) if has_burst else None,
            rx_burst_time=self.burst_time_s if has_burst else None,
            tx_burst_time=self.burst_time_s if has_burst else None,
        )


# The plan's columns a PlanSpeed carries as they are (not its pools, id or rendered texts).
PLAN_COLUMNS = tuple(f.name for f in fields(PlanSpeed) if f.init and f.name not in ("pools", "id"))


@dataclass(frozen=True, slots=True)
class CustomSpeed:
    """Navegação customizada: replaces the plan's (or trial's) rates; ``until`` None = no end."""

    download_kbps: int
    upload_kbps: int
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Trial:
    """Degustação de plano: a higher plan's speed until a date."""

    plan: PlanSpeed
    until: datetime


@dataclass(frozen=True, slots=True)
class TrustUnlock:
    """Desbloqueio em confiança: a debt status does not apply until ``until``."""

    until: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class PoolRef:
    """An IPAM pool as a decision sees it: its name goes to the NAS, or the server leases from it."""

    id: int
    name: str
    kind: PoolKind
    mode: PoolMode


@dataclass(frozen=True, slots=True)
class Subscriber:
    """The cached snapshot of one service: everything an Access-Request needs."""

    service_id: int
    login: str
    password: str | StoredHash  # StoredHash: known only by its hash (imported from FreeRADIUS)
    status: ServiceStatus
    plan: PlanSpeed
    simultaneous_use: int = 1  # 0 = no limit
    mac_binding: MacBinding = MacBinding.OFF
    mac: str | None = None
    nas_port_id: str | None = None
    fixed: tuple[tuple[str, str], ...] = ()  # (attribute, value) of each fixed address, from IPAM
    status_since: datetime | None = None
    trial: Trial | None = None
    custom: CustomSpeed | None = None
    trust: TrustUnlock | None = None
    bonus_until: datetime | None = None  # Conceder bônus: no debt status applies until then
    exempt: bool = False  # Isentar: exempt from charges, so never held for debt
    reduction: Reduction | None = None  # the billing method's reduced speed; None: the ISP's
    reply_attributes: tuple[ReplyAttribute, ...] = ()  # this service's own, after the plan's
    suspended_action: SuspendedAction | None = None  # its billing method's; None: the ISP's


UTC_ZONE = ZoneInfo("UTC")


class ReductionKind(StrEnum):
    RELATIVE = "relative"  # a percentage of the effective speed
    ABSOLUTE = "absolute"  # fixed kbps, never above the effective speed


@dataclass(frozen=True, slots=True)
class Reduction:
    """Redução de velocidade while ``reduced_debt``."""

    kind: ReductionKind = ReductionKind.RELATIVE
    percent: int = 30
    download_kbps: int = 1024
    upload_kbps: int = 512

    def apply(self, download_kbps: int, upload_kbps: int) -> tuple[int, int]:
        if self.kind is ReductionKind.RELATIVE:
            return max(1, download_kbps * self.percent // 100), max(1, upload_kbps * self.percent // 100)
        return min(self.download_kbps, download_kbps), min(self.upload_kbps, upload_kbps)

    def describe(self) -> str:
        if self.kind is ReductionKind.RELATIVE:
            return f"{self.percent} %"
        return f"at most {kbps_text(self.download_kbps, self.upload_kbps)}"


@dataclass(frozen=True, slots=True)
class IspPolicy:
    """The ISP's choices that every decision shares (settings ``[policy]``)."""

    suspended_action: SuspendedAction = SuspendedAction.REJECT
    blocked_address_list: str = "blocked"
    blocked_pool: PoolRef | None = None
    blocked_download_kbps: int = 512
    blocked_upload_kbps: int = 512
    reduction: Reduction = Reduction()
    zone: ZoneInfo = UTC_ZONE  # how dates read in reason traces
    messages: Mapping[str, str] | None = None  # Reply-Message by key; None: the defaults


@dataclass(frozen=True, slots=True)
class OpenSession:
    nas_id: int
    acct_session_id: str
    calling_station_id: str | None
    nas_port_id: str | None
    start_time: datetime | None = None  # what an Accounting-On of its NAS is compared with


@dataclass(frozen=True, slots=True)
class RequestFacts:
    nas_id: int
    calling_station_id: str | None
    nas_port_id: str | None
    interim_interval: int
    open_sessions: tuple[OpenSession, ...] | None  # None: unknown (fail closed)
    nas_pools: tuple[PoolRef, ...] = ()  # for subscribers whose plan names no pool of a kind
    nas_suspended_action: SuspendedAction | None = None  # the NAS's own; wins over the others
