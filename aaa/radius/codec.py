"""RADIUS wire format: the only module that imports pyrad.

pyrad parses and encodes; this module adds what a server needs on top of it: a strict
structural check before pyrad sees a datagram (pyrad tolerates attribute lengths that
overrun the packet), request-authenticator and Message-Authenticator verification in
constant time, and replies that put Message-Authenticator first (BlastRADIUS).
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pyrad import packet as pyrad_packet
from pyrad.dictionary import Dictionary

ACCESS_REQUEST = 1
ACCESS_ACCEPT = 2
ACCESS_REJECT = 3
ACCESS_CHALLENGE = 11
ACCOUNTING_REQUEST = 4
ACCOUNTING_RESPONSE = 5

MAX_PACKET = 4096  # RFC 2865 §3
VENDOR_MICROSOFT = 311
VENDOR_MIKROTIK = 14988

# Attribute codes the server reads (RFC 2865/2866/2869).
USER_NAME = 1
USER_PASSWORD = 2
CHAP_PASSWORD = 3
NAS_IP_ADDRESS = 4
NAS_PORT = 5
FRAMED_IP_ADDRESS = 8
CALLING_STATION_ID = 31
NAS_IDENTIFIER = 32
PROXY_STATE = 33
ACCT_STATUS_TYPE = 40
ACCT_DELAY_TIME = 41
ACCT_INPUT_OCTETS = 42
ACCT_OUTPUT_OCTETS = 43
ACCT_SESSION_ID = 44
ACCT_SESSION_TIME = 46
ACCT_INPUT_PACKETS = 47
ACCT_OUTPUT_PACKETS = 48
ACCT_TERMINATE_CAUSE = 49
ACCT_INPUT_GIGAWORDS = 52
ACCT_OUTPUT_GIGAWORDS = 53
CHAP_CHALLENGE = 60
EAP_MESSAGE = 79
MESSAGE_AUTHENTICATOR = 80
NAS_PORT_ID = 87
MS_CHAP_RESPONSE = (VENDOR_MICROSOFT, 1)
MS_CHAP_CHALLENGE = (VENDOR_MICROSOFT, 11)
MS_CHAP2_RESPONSE = (VENDOR_MICROSOFT, 25)


class DropPacket(Exception):
    """The datagram is discarded silently (RFC 2865 §3); ``cause`` is a bounded metric label."""

    def __init__(self, cause: str, detail: str = ""):
        super().__init__(detail or cause)
        self.cause = cause


def check_structure(data: bytes) -> None:
    """Reject anything that is not exactly a well-formed RADIUS packet (RFC 2865 §3, §5)."""
    if len(data) < 20:
        raise DropPacket("truncated", f"{len(data)} octets, the header alone is 20")
    if len(data) > MAX_PACKET:
        raise DropPacket("oversized", f"{len(data)} octets, the limit is {MAX_PACKET}")
    length = struct.unpack_from("!H", data, 2)[0]
    if length < 20 or length > len(data):
        raise DropPacket("bad_length", f"Length field {length}, datagram {len(data)}")
    pos = 20
    while pos < length:
        if pos + 2 > length:
            raise DropPacket("bad_attribute", f"attribute header cut at offset {pos}")
        attr_len = data[pos + 1]
        if attr_len < 2 or pos + attr_len > length:
            raise DropPacket("bad_attribute", f"attribute {data[pos]} length {attr_len} at offset {pos}")
        pos += attr_len


class Request:
    """A decoded request: typed access to raw attribute values without a second parse."""

    __slots__ = ("authenticator", "code", "id", "packet", "raw")

    def __init__(self, pkt: pyrad_packet.Packet, raw: bytes):
        self.packet = pkt
        self.raw = raw
        self.code: int = pkt.code
        self.id: int = pkt.id
        self.authenticator: bytes = pkt.authenticator

    def get(self, key: int | tuple[int, int]) -> bytes | None:
        values = OrderedDict.get(self.packet, key)
        return values[0] if values else None

    def all(self, key: int | tuple[int, int]) -> list[bytes]:
        return list(OrderedDict.get(self.packet, key, ()))

    def has(self, key: int | tuple[int, int]) -> bool:
        return OrderedDict.__contains__(self.packet, key)

    def text(self, key: int) -> str | None:
        value = self.get(key)
        return None if value is None else value.decode("utf-8", errors="replace")

    def integer(self, key: int, default: int = 0) -> int:
        value = self.get(key)
        if value is None or len(value) != 4:
            return default
        return int.from_bytes(value, "big")

    def ipv4(self, key: int) -> str | None:
        value = self.get(key)
        if value is None or len(value) != 4:
            return None
        return ".".join(str(b) for b in value)


class Codec:
    """Decode requests and encode replies with one loaded dictionary."""

    def __init__(self, dictionary_path: Path | str):
        self.dictionary = Dictionary(str(dictionary_path))

    def decode(self, data: bytes) -> Request:
        check_structure(data)
        code = data[0]
        cls = {ACCESS_REQUEST: pyrad_packet.AuthPacket, ACCOUNTING_REQUEST: pyrad_packet.AcctPacket}.get(code)
        if cls is None:
            raise DropPacket("unknown_code", f"code {code} is not handled here")
        length = struct.unpack_from("!H", data, 2)[0]
        raw = data[:length]  # octets past Length are padding (RFC 2865 §3)
        try:
            pkt = cls(packet=raw, dict=self.dictionary)
        except Exception as exc:  # pyrad raises several types on malformed input
            raise DropPacket("decode_error", str(exc)) from exc
        return Request(pkt, raw)

    # --- verification -------------------------------------------------------------------

    @staticmethod
    def verify_accounting(req: Request, secret: bytes) -> bool:
        """RFC 2866 §3: MD5(Code+ID+Length+16 zero octets+Attributes+Secret)."""
        raw = req.raw
        expected = hashlib.md5(raw[:4] + b"\x00" * 16 + raw[20:] + secret).digest()
        return hmac.compare_digest(expected, raw[4:20])

    @staticmethod
    def verify_message_authenticator(req: Request, secret: bytes) -> bool:
        """RFC 3579 §3.2 / RFC 5176 §3.4, over the octets as received."""
        raw = req.raw
        pos, offset = 20, -1
        while pos < len(raw):
            if raw[pos] == MESSAGE_AUTHENTICATOR:
                if raw[pos + 1] != 18:
                    return False
                offset = pos + 2
                break
            pos += raw[pos + 1]
        if offset < 0:
            return False
        authenticator = raw[4:20] if req.code == ACCESS_REQUEST else b"\x00" * 16
        zeroed = raw[:4] + authenticator + raw[20:offset] + b"\x00" * 16 + raw[offset + 16 :]
        expected = hmac.new(secret, zeroed, hashlib.md5).digest()
        return hmac.compare_digest(expected, raw[offset : offset + 16])

    # --- encoding -----------------------------------------------------------------------

    def reply(
        self,
        req: Request,
        code: int,
        secret: bytes,
        attributes: Iterable[tuple[str, Any]] = (),
        *,
        message_authenticator: bool = True,
    ) -> bytes:
        """Encode a reply. Access-Accept/Reject carry Message-Authenticator as their first
        attribute (BlastRADIUS); ``message_authenticator=False`` exists only to reproduce the
        pre-2024 packets of RFC 2865 §7. Proxy-State is echoed in order (RFC 2865 §5.33)."""
        pkt = pyrad_packet.Packet(
            code=code, id=req.id, secret=secret, authenticator=req.authenticator, dict=self.dictionary
        )
        if message_authenticator and code in (ACCESS_ACCEPT, ACCESS_REJECT, ACCESS_CHALLENGE):
            pkt.add_message_authenticator()
        for name, value in attributes:
            pkt.AddAttribute(name, value)
        proxy_state = req.all(PROXY_STATE)
        if proxy_state:
            OrderedDict.__setitem__(pkt, PROXY_STATE, proxy_state)
        return pkt.ReplyPacket()
