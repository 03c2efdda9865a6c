"""Accounting-Request -> AcctRecord: a pure translation, the NAS's quirks applied
(Gigawords, Acct-Delay-Time, octets reported from the client's side, over-long text)."""

from __future__ import annotations

from datetime import datetime, timedelta

from aaa import metrics
from aaa.accounting.records import COUNTER_MAX, AcctRecord, StatusType
from aaa.radius import codec as c
from aaa.radius.codec import DropPacket, Request, integer_of, text_of

_STATUSES: dict[int | None, StatusType] = {int(status): status for status in StatusType}

TERMINATE_CAUSES = {
    1: "User-Request",
    2: "Lost-Carrier",
    3: "Lost-Service",
    4: "Idle-Timeout",
    5: "Session-Timeout",
    6: "Admin-Reset",
    7: "Admin-Reboot",
    8: "Port-Error",
    9: "NAS-Error",
    10: "NAS-Request",
    11: "NAS-Reboot",
    12: "Port-Unneeded",
    13: "Port-Preempted",
    14: "Port-Suspended",
    15: "Service-Unavailable",
    16: "Callback",
    17: "User-Error",
    18: "Host-Request",
}


def parse_record(req: Request, nas_id: int, swap_octets: bool, now: datetime) -> AcctRecord:
    """Raises DropPacket for a request that cannot be stored (no status, no session id).
    Reads the attribute dict directly: a packet needs a dozen attributes, and going through
    Request's accessors adds a method call to each (docs/benchmarks.md)."""
    get = req.attributes.get
    raw_status = integer_of(get(c.ACCT_STATUS_TYPE), None)
    status = _STATUSES.get(raw_status)
    if status is None:
        raise DropPacket("bad_accounting", f"Acct-Status-Type {raw_status} is not handled")
    delay = integer_of(get(c.ACCT_DELAY_TIME))
    event_time = now - timedelta(seconds=delay) if delay else now
    if status is StatusType.ACCOUNTING_ON or status is StatusType.ACCOUNTING_OFF:
        return AcctRecord(status, nas_id, event_time)
    session_id = text_of(get(c.ACCT_SESSION_ID))
    login = text_of(get(c.USER_NAME))
    if not session_id or login is None:
        raise DropPacket("bad_accounting", "Acct-Session-Id and User-Name are required")
    # Gigawords carry the bits above 32 (RFC 2869 §5.1).
    inp = integer_of(get(c.ACCT_INPUT_OCTETS)) + (integer_of(get(c.ACCT_INPUT_GIGAWORDS)) << 32)
    out = integer_of(get(c.ACCT_OUTPUT_OCTETS)) + (integer_of(get(c.ACCT_OUTPUT_GIGAWORDS)) << 32)
    if inp > COUNTER_MAX or out > COUNTER_MAX:  # any 32-bit Gigawords is valid: up to 2^64 - 1
        inp, out = min(inp, COUNTER_MAX), min(out, COUNTER_MAX)
        metrics.ACCT_CLAMPED.inc()
    in_pkts, out_pkts = integer_of(get(c.ACCT_INPUT_PACKETS)), integer_of(get(c.ACCT_OUTPUT_PACKETS))
    if swap_octets:  # some RouterOS versions report from the client's point of view
        inp, out, in_pkts, out_pkts = out, inp, out_pkts, in_pkts
    cause = integer_of(get(c.ACCT_TERMINATE_CAUSE), None)
    return AcctRecord(  # by position: AcctRecord's field order
        status,
        nas_id,
        event_time,
        session_id[:64],  # acct_session_id
        login,
        integer_of(get(c.NAS_PORT), None),
        text_of(get(c.NAS_PORT_ID)),
        _cut(text_of(get(c.CALLING_STATION_ID)), 64),
        req.ipv4(c.FRAMED_IP_ADDRESS),
        req.ipv6_prefix(c.FRAMED_IPV6_PREFIX),
        req.ipv6_prefix(c.DELEGATED_IPV6_PREFIX),
        integer_of(get(c.ACCT_SESSION_TIME)),  # session_time
        inp,
        out,
        in_pkts,
        out_pkts,
        None if cause is None else TERMINATE_CAUSES.get(cause, str(cause)),
    )


def _cut(value: str | None, length: int) -> str | None:
    """Text the session row keeps at most ``length`` of (a NAS may send more)."""
    return value[:length] if value is not None else None
