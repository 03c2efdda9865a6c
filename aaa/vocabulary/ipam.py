"""IPAM enums, free of any database import (the policy decision uses them)."""

from __future__ import annotations

from enum import StrEnum


class SubnetPurpose(StrEnum):
    FIXED = "fixed"  # addresses assigned to one service for good (IP fixo)
    DYNAMIC = "dynamic"  # a pool's leases for services without a fixed address
    BLOCKED = "blocked"  # a pool for suspended subscribers sent to a payment-warning page
    DELEGATION = "delegation"  # IPv6 prefixes delegated to the CPE (Delegated-IPv6-Prefix)


class AssignmentKind(StrEnum):
    FIXED = "fixed"
    DYNAMIC = "dynamic"  # a lease: freed on Stop, Accounting-On or by the lease reaper
    RESERVED = "reserved"  # held for something that is not a service (a server, a router)
    EXCLUDED = "excluded"  # a range never handed out
    GATEWAY = "gateway"


class PoolKind(StrEnum):
    """What a pool hands out, and so which attribute carries it."""

    IPV4 = "ipv4"  # Framed-IP-Address / Framed-Pool
    IPV6 = "ipv6"  # Framed-IPv6-Prefix / Framed-IPv6-Pool
    IPV6_PD = "ipv6_pd"  # Delegated-IPv6-Prefix / Delegated-IPv6-Prefix-Pool


class PoolMode(StrEnum):
    NAS = "nas"  # send the pool's name; the NAS allocates from its own pool of that name
    SERVER = "server"  # allocate here, from the pool's subnets, and send the address


class ReleaseReason(StrEnum):
    STOP = "stop"
    NAS_REBOOT = "nas_reboot"
    EXPIRED = "expired"  # offered, but no accounting session ever held it
    UNASSIGNED = "unassigned"  # an operator removed it
    CANCELLED = "cancelled"  # the service was cancelled
