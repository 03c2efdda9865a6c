"""RFC 5176 Dynamic Authorization client: CoA-Request and Disconnect-Request over UDP.

One socket for every NAS; identifiers are allocated per destination, a timeout retransmits the
same packet (same identifier and authenticator, RFC 5080 §2.2.1) before giving up, and a
response is only accepted when its authenticator proves it comes from the NAS we asked.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import struct
from dataclasses import dataclass
from typing import Any

from aaa import metrics
from aaa.radius import codec as c
from aaa.radius.codec import Codec, DropPacket
from aaa.tables.enforcement import Result

log = logging.getLogger(__name__)

# RFC 5176 §3.5 Error-Cause values a NAS may send, for readable attempt records.
ERROR_CAUSES = {
    401: "Unsupported Attribute",
    402: "Missing Attribute",
    403: "NAS Identification Mismatch",
    404: "Invalid Request",
    405: "Unsupported Service",
    406: "Unsupported Extension",
    407: "Invalid Attribute Value",
    501: "Administratively Prohibited",
    502: "Request Not Routable (Proxy)",
    503: "Session Context Not Found",
    504: "Session Context Not Removable",
    505: "Other Proxy Processing Error",
    506: "Resources Unavailable",
    507: "Request Initiated",
    508: "Multiple Session Selection Unsupported",
}
_ACK = {c.COA_REQUEST: c.COA_ACK, c.DISCONNECT_REQUEST: c.DISCONNECT_ACK}
_NAK = {c.COA_REQUEST: c.COA_NAK, c.DISCONNECT_REQUEST: c.DISCONNECT_NAK}
Destination = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Answer:
    result: Result  # ACK, NAK or TIMEOUT
    error_cause: int | None = None
    detail: str = ""


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, client: DynamicAuthClient):
        self.client = client

    def datagram_received(self, data: bytes, addr: Any) -> None:  # type: ignore[override]
        self.client._received(data, (addr[0], addr[1]))

    def error_received(self, exc: Exception) -> None:
        log.debug("CoA socket error: %s", exc)


class DynamicAuthClient:
    def __init__(self, codec: Codec, timeout: float, retransmits: int):
        self.codec = codec
        self.timeout = timeout
        self.retransmits = retransmits
        self._transport: asyncio.DatagramTransport | None = None
        self._ids: dict[Destination, itertools.cycle[int]] = {}
        self._pending: dict[tuple[Destination, int], tuple[asyncio.Future[bytes], bytes, bytes]] = {}

    async def start(self, bind: str) -> None:
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(
            lambda: _Protocol(self), local_addr=(bind, 0)
        )

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    async def send(
        self, code: int, destination: Destination, secret: str, attributes: list[tuple[str, Any]]
    ) -> Answer:
        """Send and wait for the ACK/NAK, retransmitting on silence; never raises on the NAS's
        behaviour (silence is a TIMEOUT answer)."""
        assert self._transport is not None, "start() first"
        key = self._free_identifier(destination)
        packet = self.codec.dynamic_request(code, key[1], secret.encode(), attributes)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending[key] = (future, packet[4:20], secret.encode())
        try:
            for _ in range(self.retransmits + 1):
                self._transport.sendto(packet, destination)
                try:
                    reply = await asyncio.wait_for(asyncio.shield(future), self.timeout)
                except TimeoutError:
                    continue
                return self._answer(code, reply)
            return Answer(Result.TIMEOUT, detail=f"no answer after {self.retransmits + 1} transmissions")
        finally:
            self._pending.pop(key, None)

    def _free_identifier(self, destination: Destination) -> tuple[Destination, int]:
        ids = self._ids.setdefault(destination, itertools.cycle(range(256)))
        for _ in range(256):
            key = (destination, next(ids))
            if key not in self._pending:
                return key
        raise RuntimeError(f"256 requests already in flight to {destination[0]}:{destination[1]}")

    def _received(self, data: bytes, source: Destination) -> None:
        if len(data) < 20:
            metrics.child(metrics.ENFORCEMENT_DROPPED, "truncated").inc()
            return
        pending = self._pending.get((source, data[1]))
        if pending is None:
            metrics.child(metrics.ENFORCEMENT_DROPPED, "unexpected").inc()
            return
        future, authenticator, secret = pending
        try:
            self.codec.verify_response(data, authenticator, secret)
        except DropPacket as exc:
            metrics.child(metrics.ENFORCEMENT_DROPPED, exc.cause).inc()
            return
        if not future.done():
            future.set_result(data)

    @staticmethod
    def _answer(code: int, reply: bytes) -> Answer:
        attributes = c.check_structure(reply)
        raw_cause = attributes.get(c.ERROR_CAUSE, [b""])[0]
        cause = struct.unpack("!I", raw_cause)[0] if len(raw_cause) == 4 else None
        text = f"Error-Cause {cause} ({ERROR_CAUSES.get(cause, 'unknown')})" if cause else ""
        if reply[0] == _ACK[code]:
            return Answer(Result.ACK, cause, text)
        if reply[0] == _NAK[code]:
            return Answer(Result.NAK, cause, text or "NAK without Error-Cause")
        return Answer(Result.NAK, cause, f"unexpected reply code {reply[0]}")
