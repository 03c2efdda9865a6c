"""NAS vendor profiles: which attributes carry a speed and a blocked state (aaa.policies.vendors)."""

from __future__ import annotations

from enum import StrEnum


class VendorProfile(StrEnum):
    MIKROTIK = "mikrotik"  # Mikrotik-Rate-Limit, Mikrotik-Address-List
    ACCEL_PPP = "accel-ppp"  # [shaper] attr=Mikrotik-Rate-Limit
    ACCEL_PPP_FILTER_ID = "accel-ppp-filter-id"  # [shaper] attr=Filter-Id: "down/up" in kbit/s
    HUAWEI = "huawei"  # Huawei-Input/Output-Average-Rate and Peak-Rate, in bit/s
    CISCO = "cisco"  # Cisco-AVPair rate-limit interface commands
    JUNIPER = "juniper"  # ERX-Qos-Profile-Name with ERX-Qos-Parameters
    GENERIC = "generic"  # as MikroTik: what the NAS does not know it ignores
