"""Address math on plain integers: a subnet's usable units, block alignment, the lowest free block.

A subnet is divided into *units*: single addresses (IPv4, or IPv6 /128) or prefixes of one length
(IPv6 delegation: /56s of a /40; framed IPv6: /64s). Assignments are stored as unit offsets from
the subnet's first address, so "next free" compares small integers instead of walking addresses.
netaddr parses and prints at the edges (``parse_network``, ``text_of``); nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import netaddr

from aaa.errors import Invalid

MAX_UNIT_BITS = 62  # offsets are stored in a signed 64-bit column


class AddressError(Invalid):
    """An address or prefix that does not fit the subnet; the message says what to fix."""


@dataclass(frozen=True, slots=True)
class Space:
    network: int  # the subnet's first address
    prefix: int  # the subnet's prefix length
    bits: int  # 32 (IPv4) or 128 (IPv6)
    unit: int  # prefix length of one unit: 32/128 for single addresses, e.g. 56 for delegation
    use_all: bool = False  # IPv4 network/broadcast and the IPv6 Subnet-Router anycast are handed out too

    def __post_init__(self) -> None:
        if not self.prefix <= self.unit <= self.bits:
            raise AddressError(f"unit length /{self.unit} must lie between /{self.prefix} and /{self.bits}")
        if self.unit - self.prefix > MAX_UNIT_BITS:
            raise AddressError(
                f"a /{self.prefix} divided into /{self.unit} units has 2^{self.unit - self.prefix} of them; "
                f"use a unit length of at most /{self.prefix + MAX_UNIT_BITS}"
            )

    @property
    def version(self) -> int:
        return 4 if self.bits == 32 else 6

    @property
    def units(self) -> int:
        return 1 << (self.unit - self.prefix)

    @property
    def unit_size(self) -> int:
        """Addresses per unit."""
        return 1 << (self.bits - self.unit)

    def usable(self) -> tuple[int, int]:
        """First and last usable unit offset.

        Prefix units (delegation) are routed whole, so all are usable. Single addresses:
        a /32 or /128 is its one address; a /31 (RFC 3021) or /127 (RFC 6164) point-to-point link
        uses both; otherwise IPv4 loses its network and broadcast addresses and IPv6 its
        Subnet-Router anycast address (RFC 4291 §2.6.1; IPv6 has no broadcast), unless ``use_all``.
        """
        last = self.units - 1
        if self.unit < self.bits or self.use_all or self.prefix >= self.bits - 1:
            return 0, last
        return (1, last - 1) if self.bits == 32 else (1, last)

    def block(self, address: int, length: int) -> tuple[int, int]:
        """The unit offsets (first, last) of ``address``/``length`` inside this subnet."""
        if not self.prefix <= length <= self.unit:
            raise AddressError(
                f"prefix length /{length} does not fit: this subnet hands out /{self.prefix} to /{self.unit}"
            )
        size = 1 << (self.bits - length)
        if not self.network <= address < self.network + (1 << (self.bits - self.prefix)):
            raise AddressError(f"{text_of(address, self.bits)} is outside {self.text()}")
        if (address - self.network) % size:
            where = text_of(address, self.bits)
            raise AddressError(f"{where}/{length} is not aligned: a /{length} starts on a multiple of {size}")
        first = (address - self.network) >> (self.bits - self.unit)
        return first, first + (size >> (self.bits - self.unit)) - 1

    def units_in(self, length: int) -> int:
        """How many units one block of ``length`` spans."""
        return 1 << (self.unit - length)

    def address_of(self, offset: int) -> int:
        return self.network + (offset << (self.bits - self.unit))

    def text(self) -> str:
        return f"{text_of(self.network, self.bits)}/{self.prefix}"


def parse_network(cidr: str) -> tuple[int, int, int]:
    """(first address, prefix length, bits) of a CIDR; host bits must be zero."""
    try:
        net = netaddr.IPNetwork(cidr.strip())
    except (netaddr.AddrFormatError, ValueError, TypeError) as exc:
        raise AddressError(f"{cidr!r} is not a network in CIDR notation (e.g. 100.64.0.0/22)") from exc
    if net.ip != net.network:
        raise AddressError(f"{cidr} has host bits set; the network is {net.cidr}")
    return int(net.network), net.prefixlen, 32 if net.version == 4 else 128


def parse_address(text: str, bits: int | None = None) -> tuple[int, int | None, int]:
    """(address, prefix length or None, bits) of "10.0.0.5", "203.0.113.8/29" or "2001:db8::/56"."""
    raw = text.strip()
    try:
        if "/" in raw:
            net = netaddr.IPNetwork(raw)
            value, length, version = int(net.ip), net.prefixlen, net.version
        else:
            ip = netaddr.IPAddress(raw)
            value, length, version = int(ip), None, ip.version
    except (netaddr.AddrFormatError, ValueError, TypeError) as exc:
        raise AddressError(f"{text!r} is not an IP address or prefix") from exc
    found = 32 if version == 4 else 128
    if bits is not None and found != bits:
        raise AddressError(f"{raw} is IPv{version}, the subnet is IPv{4 if bits == 32 else 6}")
    return value, length, found


def text_of(address: int, bits: int, length: int | None = None) -> str:
    """Canonical text as a NAS reports it: "10.0.0.5" for one IPv4 address, "a/len" otherwise."""
    ip = str(netaddr.IPAddress(address, 4 if bits == 32 else 6))
    return ip if length is None or (bits == 32 and length == 32) else f"{ip}/{length}"


def first_fit(free: Iterable[tuple[int, int]], size: int) -> int | None:
    """The lowest offset aligned to ``size`` whose ``size`` units all lie in one free interval.

    Offsets are relative to the subnet's network address, which is aligned to the subnet's size,
    so an offset aligned to a block's size is also an aligned prefix on the wire.
    """
    for start, end in free:
        candidate = -(-start // size) * size
        if candidate + size - 1 <= end:
            return candidate
    return None
