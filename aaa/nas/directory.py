"""Finding the NAS of a datagram by its source address, from an in-memory copy of the table."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from aaa.ipam.pools import load_pools
from aaa.policies.inputs import PoolRef
from aaa.tables.nas import MaMode, Nas, VendorProfile
from aaa.vocabulary.subscribers import SuspendedAction


@dataclass(frozen=True, slots=True)
class NasEntry:
    id: int
    name: str
    secret: bytes
    vendor: VendorProfile
    ma_mode: MaMode
    ma_seen: bool
    swap_octets: bool
    interim_interval: int | None
    pools: tuple[PoolRef, ...] = ()  # for subscribers whose plan names none of a kind
    suspended_action: SuspendedAction | None = None  # the NAS's own choice for debt suspension

    @property
    def requires_ma(self) -> bool:
        return self.ma_mode is MaMode.YES or (self.ma_mode is MaMode.AUTO and self.ma_seen)


def pools_of(nas: Nas, pools: dict[int, PoolRef]) -> tuple[PoolRef, ...]:
    """The NAS's own pools, for subscribers whose plan names none of a kind."""
    ids = (nas.ipv4_pool_id, nas.ipv6_pool_id, nas.ipv6_pd_pool_id)
    return tuple(pools[i] for i in ids if i is not None)


class NasDirectory:
    """Exact addresses first, then the most specific CIDR (a NAS may be a whole /29 of BRASes)."""

    def __init__(self) -> None:
        self._exact: dict[str, NasEntry] = {}
        self._networks: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, NasEntry]] = []

    def load(self, session: Session) -> None:
        exact: dict[str, NasEntry] = {}
        networks = []
        pools = load_pools(session)
        for nas in session.scalars(select(Nas)):
            entry = NasEntry(
                nas.id,
                nas.name,
                nas.secret.encode(),
                nas.vendor,
                nas.require_message_authenticator,
                nas.ma_seen,
                nas.swap_octets,
                nas.interim_interval,
                pools_of(nas, pools),
                nas.suspended_action,
            )
            network = ipaddress.ip_network(nas.address, strict=False)
            if network.num_addresses == 1:
                exact[str(network.network_address)] = entry
            else:
                networks.append((network, entry))
        networks.sort(key=lambda item: item[0].prefixlen, reverse=True)
        self._exact, self._networks = exact, networks

    def __len__(self) -> int:
        return len(self._exact) + len(self._networks)

    def lookup(self, address: str) -> NasEntry | None:
        entry = self._exact.get(address)
        if entry is not None or not self._networks:
            return entry
        ip = ipaddress.ip_address(address)
        for network, candidate in self._networks:
            if ip in network:
                return candidate
        return None

    def mark_ma_seen(self, nas_id: int) -> None:
        """Apply ``auto`` mode locally at once; the DB row is updated off the request path."""

        def flip(e: NasEntry) -> NasEntry:
            return replace(e, ma_seen=True) if e.id == nas_id else e

        self._exact = {k: flip(v) for k, v in self._exact.items()}
        self._networks = [(n, flip(v)) for n, v in self._networks]
