"""What an accounting record is, once read off the wire (aaa.radius.accounting reads it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum


class StatusType(IntEnum):
    START = 1
    STOP = 2
    INTERIM = 3
    ACCOUNTING_ON = 7
    ACCOUNTING_OFF = 8


# Counters are BIGINT (signed 64 bits); an octet count beyond is stored as this, and counted.
COUNTER_MAX = 2**63 - 1


@dataclass(slots=True)  # not frozen: its __init__ would cost twice as much, once per packet
class AcctRecord:
    status: StatusType
    nas_id: int
    event_time: datetime  # when it happened at the NAS: now - Acct-Delay-Time
    acct_session_id: str = ""
    login: str = ""
    nas_port: int | None = None
    nas_port_id: str | None = None
    calling_station_id: str | None = None
    framed_ip: str | None = None
    framed_ipv6_prefix: str | None = None
    delegated_ipv6_prefix: str | None = None
    session_time: int = 0
    input_octets: int = 0  # from the subscriber (upload), RFC 2866 semantics
    output_octets: int = 0
    input_packets: int = 0
    output_packets: int = 0
    terminate_cause: str | None = None
