"""How a NAS of each vendor is told a speed and a blocked state.

Decisions speak MikroTik (``Mikrotik-Rate-Limit``, ``Mikrotik-Address-List``): that is what the
auth log and enforcement record as granted, whatever the NAS. Right before a reply or a CoA is
encoded, ``render`` turns them into the NAS vendor's own attributes; every other attribute
(addresses, timers, the plan's and the service's custom reply attributes) passes unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable

from aaa.policies.ratelimit import RateLimit
from aaa.vocabulary.vendors import VendorProfile

RATE, LIST = "Mikrotik-Rate-Limit", "Mikrotik-Address-List"
# The QoS profile and parameter names a Juniper router must define (docs/vendors.md).
JUNIPER_QOS_PROFILE = "isp-aaa-subscriber"
Attribute = tuple[str, object]


def _kbit(bps: int) -> int:
    return max(1, round(bps / 1000))


def _rate(vendor: VendorProfile, text: str) -> list[Attribute]:
    rate = RateLimit.parse(text)
    up, down = rate.rx_rate, rate.tx_rate  # MikroTik's rx/tx: the router receives the upload
    if vendor is VendorProfile.ACCEL_PPP_FILTER_ID:
        return [("Filter-Id", f"{_kbit(down)}/{_kbit(up)}")]  # accel-ppp shaper: down/up, kbit/s
    if vendor is VendorProfile.HUAWEI:
        found: list[Attribute] = [("Huawei-Input-Average-Rate", up), ("Huawei-Output-Average-Rate", down)]
        if rate.rx_burst_rate and rate.tx_burst_rate:
            found += [
                ("Huawei-Input-Peak-Rate", rate.rx_burst_rate),
                ("Huawei-Output-Peak-Rate", rate.tx_burst_rate),
            ]
        return found
    if vendor is VendorProfile.CISCO:
        # Committed access rate per direction; burst sizes in octets as Cisco recommends
        # (normal = 1.5 s of traffic, extended = twice that).
        return [
            (
                "Cisco-AVPair",
                f"lcp:interface-config=rate-limit {direction} {bps} {bps * 3 // 16} {bps * 3 // 8} "
                "conform-action transmit exceed-action drop",
            )
            for direction, bps in (("input", up), ("output", down))
        ]
    if vendor is VendorProfile.JUNIPER:
        return [
            ("ERX-Qos-Profile-Name", JUNIPER_QOS_PROFILE),
            ("ERX-Qos-Parameters", f"download-rate {down}"),
            ("ERX-Qos-Parameters", f"upload-rate {up}"),
        ]
    return [(RATE, text)]


def _blocked(vendor: VendorProfile, name: str) -> list[Attribute]:
    if vendor in (VendorProfile.MIKROTIK, VendorProfile.GENERIC):
        return [(LIST, name)]
    if vendor in (VendorProfile.HUAWEI, VendorProfile.ACCEL_PPP):
        return [("Filter-Id", name)]  # the NAS's ACL (Huawei) or the ip-up script's filter (accel-ppp)
    if vendor is VendorProfile.CISCO:
        return [("Filter-Id", f"{name}.in")]  # an inbound ACL of that name
    if vendor is VendorProfile.JUNIPER:
        return [("ERX-Ingress-Policy-Name", name)]
    return []  # accel-ppp with Filter-Id as its shaper: no filter left; use the blocked pool


def render(vendor: VendorProfile, attributes: Iterable[Attribute]) -> tuple[Attribute, ...]:
    """``attributes`` as the NAS's vendor understands them."""
    if vendor is VendorProfile.MIKROTIK or vendor is VendorProfile.GENERIC:
        return attributes if isinstance(attributes, tuple) else tuple(attributes)  # no copy
    out: list[Attribute] = []
    for name, value in attributes:
        if name == RATE:
            out += _rate(vendor, str(value))
        elif name == LIST:
            out += _blocked(vendor, str(value))
        else:
            out.append((name, value))
    return tuple(out)
