"""RADIUS wire format: the only module that imports pyrad.

pyrad's dictionary and value encoders build every reply. Requests are split by this module in the
same pass that validates them strictly (pyrad tolerates attribute lengths that overrun the
packet, and its decoder costs more than the whole policy decision). Request-authenticator
and Message-Authenticator checks run in constant time, and Access-Accept/Reject carry
Message-Authenticator as their first attribute (BlastRADIUS).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import ipaddress
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

from pyrad import tools as pyrad_tools
from pyrad.dictionary import Dictionary

from aaa.radius.crypto import hmac_md5

ACCESS_REQUEST = 1
ACCESS_ACCEPT = 2
ACCESS_REJECT = 3
ACCESS_CHALLENGE = 11
ACCOUNTING_REQUEST = 4
ACCOUNTING_RESPONSE = 5
STATUS_SERVER = 12  # RFC 5997

DISCONNECT_REQUEST = 40  # RFC 5176
DISCONNECT_ACK = 41
DISCONNECT_NAK = 42
COA_REQUEST = 43
COA_ACK = 44
COA_NAK = 45
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
VENDOR_SPECIFIC = 26
MESSAGE_AUTHENTICATOR = 80
NAS_PORT_ID = 87
FRAMED_IPV6_PREFIX = 97
ERROR_CAUSE = 101
DELEGATED_IPV6_PREFIX = 123
MS_CHAP_RESPONSE = (VENDOR_MICROSOFT, 1)
MS_CHAP_CHALLENGE = (VENDOR_MICROSOFT, 11)
MS_CHAP2_RESPONSE = (VENDOR_MICROSOFT, 25)
MS_CHAP_MPPE_KEYS = (VENDOR_MICROSOFT, 12)
MS_MPPE_SEND_KEY = (VENDOR_MICROSOFT, 16)
MS_MPPE_RECV_KEY = (VENDOR_MICROSOFT, 17)
MS_MPPE_ENCRYPTION_POLICY = (VENDOR_MICROSOFT, 7)
MS_MPPE_ENCRYPTION_TYPES = (VENDOR_MICROSOFT, 8)
MS_CHAP2_SUCCESS = (VENDOR_MICROSOFT, 26)


class DropPacket(Exception):
    """The datagram is discarded silently (RFC 2865 §3); ``cause`` is a bounded metric label."""

    def __init__(self, cause: str, detail: str = ""):
        super().__init__(detail or cause)
        self.cause = cause


_D = TypeVar("_D", int, None)
Key = int | tuple[int, int]  # an attribute code, or (vendor, vendor type) for a VSA
Attributes = dict[Key, list[bytes]]


def check_structure(data: bytes) -> Attributes:
    """Reject anything that is not exactly a well-formed RADIUS packet (RFC 2865 §3, §5), and
    split its attributes in the same pass (vendor-specific ones by RFC 2865 §5.26 layout)."""
    if len(data) < 20:
        raise DropPacket("truncated", f"{len(data)} octets, the header alone is 20")
    if len(data) > MAX_PACKET:
        raise DropPacket("oversized", f"{len(data)} octets, the limit is {MAX_PACKET}")
    length = struct.unpack_from("!H", data, 2)[0]
    if length < 20 or length > len(data):
        raise DropPacket("bad_length", f"Length field {length}, datagram {len(data)}")
    attributes: Attributes = {}
    pos = 20
    while pos < length:
        if pos + 2 > length:
            raise DropPacket("bad_attribute", f"attribute header cut at offset {pos}")
        code, end = data[pos], pos + data[pos + 1]
        if end < pos + 2 or end > length:
            raise DropPacket("bad_attribute", f"attribute {code} length {data[pos + 1]} at offset {pos}")
        value = data[pos + 2 : end]
        if code == VENDOR_SPECIFIC and end - pos > 8:
            for key, sub_value in _vendor_attributes(value):
                attributes.setdefault(key, []).append(sub_value)
        elif (values := attributes.get(code)) is None:  # setdefault would build a list each time
            attributes[code] = [value]
        else:
            values.append(value)
        pos = end
    return attributes


def _vendor_attributes(value: bytes) -> list[tuple[Key, bytes]]:
    """Sub-attributes of a Vendor-Specific value; kept whole when they do not add up."""
    vendor, pos = int.from_bytes(value[:4], "big"), 4
    out: list[tuple[Key, bytes]] = []
    while pos < len(value):
        if pos + 2 > len(value) or value[pos + 1] < 2 or pos + value[pos + 1] > len(value):
            return [(VENDOR_SPECIFIC, value)]
        out.append(((vendor, value[pos]), value[pos + 2 : pos + value[pos + 1]]))
        pos += value[pos + 1]
    return out


def vendor_attribute(key: tuple[int, int], data: bytes) -> bytes:
    """One Vendor-Specific attribute holding one sub-attribute (RFC 2865 §5.26), on the wire:
    for values the request path makes itself (MS-CHAP's), with no dictionary lookup."""
    if len(data) > 247:
        raise ValueError(f"vendor {key[0]} attribute {key[1]}: {len(data)} octets do not fit")
    return struct.pack("!BBIBB", VENDOR_SPECIFIC, len(data) + 8, key[0], key[1], len(data) + 2) + data


def _message_authenticator_valid(raw: bytes, authenticator: bytes, secret: bytes) -> bool:
    """HMAC-MD5 over the packet with ``authenticator`` in the header and the attribute zeroed."""
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
    zeroed = raw[:4] + authenticator + raw[20:offset] + b"\x00" * 16 + raw[offset + 16 :]
    expected = hmac_md5(secret, zeroed)
    return hmac.compare_digest(expected, raw[offset : offset + 16])


def text_of(values: list[bytes] | None) -> str | None:
    """An attribute's values (as in ``Attributes``) as text: UTF-8, with what is not (and NUL,
    which no PostgreSQL text can hold: one such value would fail every batch it is written in)
    as U+FFFD."""
    if values is None:
        return None
    return values[0].decode("utf-8", errors="replace").replace("\x00", "\ufffd")


def integer_of(values: list[bytes] | None, default: _D = 0) -> int | _D:  # type: ignore[assignment]
    """An attribute's values (as in ``Attributes``) as a 4-octet integer; ``default`` when
    absent or of another length."""
    if values is None or len(value := values[0]) != 4:
        return default
    return int.from_bytes(value, "big")


class Request:
    """A decoded request: typed access to raw attribute values."""

    __slots__ = ("attributes", "authenticator", "code", "id", "raw")

    def __init__(self, raw: bytes, attributes: Attributes):
        self.raw = raw
        self.attributes = attributes
        self.code: int = raw[0]
        self.id: int = raw[1]
        self.authenticator: bytes = raw[4:20]

    # The accessors read the attribute dict directly, not through get(): one call less each
    # (accounting's parse_record skips the accessors too, with integer_of and text_of).
    def get(self, key: Key) -> bytes | None:
        values = self.attributes.get(key)
        return values[0] if values else None

    def all(self, key: Key) -> list[bytes]:
        return list(self.attributes.get(key, ()))

    def has(self, key: Key) -> bool:
        return key in self.attributes

    def text(self, key: int) -> str | None:
        return text_of(self.attributes.get(key))

    def integer(self, key: int, default: _D = 0) -> int | _D:  # type: ignore[assignment]
        return integer_of(self.attributes.get(key), default)

    def ipv4(self, key: int) -> str | None:
        values = self.attributes.get(key)
        if values is None or len(value := values[0]) != 4:
            return None
        return f"{value[0]}.{value[1]}.{value[2]}.{value[3]}"

    def ipv6_prefix(self, key: int) -> str | None:
        """RFC 3162 §2.3: reserved octet, prefix length, then only the octets the prefix needs.
        A malformed value reads as absent (the record is still stored)."""
        values = self.attributes.get(key)
        if values is None:
            return None
        value = values[0]
        if not 2 <= len(value) <= 18 or value[1] > 128 or len(value) - 2 < -(-value[1] // 8):
            return None
        network = int.from_bytes(value[2:].ljust(16, b"\0"), "big")
        network &= ((1 << value[1]) - 1) << (128 - value[1])  # bits past the length are ignored
        return f"{ipaddress.IPv6Address(network)}/{value[1]}"


# Never shown in a debug trace.
MASKED = frozenset(
    {
        "User-Password",
        "CHAP-Password",
        "MS-CHAP-Response",
        "MS-CHAP2-Response",
        "MS-CHAP2-Success",
        "MS-MPPE-Send-Key",
        "MS-MPPE-Recv-Key",
        "Message-Authenticator",
    }
)
_NUMBERS = frozenset({"integer", "short", "byte", "integer64", "signed"})


def _flatten(path: Path, seen: tuple[Path, ...] = ()) -> list[str]:
    """A dictionary file with its $INCLUDEs expanded (relative to the including file, as
    FreeRADIUS reads them; ``$INCLUDE-`` may be missing) and the data type of each ATTRIBUTE in
    lower case: FreeRADIUS reads types case-insensitively and vendors' files rely on it (Debian's
    dictionary.juniper has ``String``), while pyrad's parser knows the lower-case names only."""
    if path in seen:
        raise ValueError(f"dictionary {path} includes itself")
    lines = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        words = line.split()
        if words and words[0] in ("$INCLUDE", "$INCLUDE-") and len(words) > 1:
            target = Path(words[1]) if Path(words[1]).is_absolute() else path.parent / words[1]
            if words[0] == "$INCLUDE-" and not target.exists():
                continue
            lines += _flatten(target, (*seen, path))
            continue
        if len(words) >= 4 and words[0] == "ATTRIBUTE" and words[3] != words[3].lower():
            words[3] = words[3].lower()
            line = "\t".join(words)
        lines.append(line)
    return lines


def load_dictionary(path: Path | str) -> Dictionary:
    """A FreeRADIUS-format dictionary, the way FreeRADIUS would read it (see _flatten)."""
    return Dictionary(io.StringIO("\n".join(_flatten(Path(path))) + "\n"))


def attribute_value(dictionary: Dictionary, name: str, text: str) -> Any:
    """``text`` as a value of attribute ``name``, checked against its dictionary type (an
    integer, a VALUE name, an address...); ValueError says what is wrong."""
    if name not in dictionary.attributes:
        raise ValueError(f"attribute {name!r} is not in the RADIUS dictionary")
    attr = dictionary.attributes[name]
    value: Any = text
    if attr.type in _NUMBERS:
        if text in attr.values.forward:  # a VALUE name, stored encoded
            value = int.from_bytes(attr.values.forward[text], "big")
        else:
            try:
                value = int(text, 10)
            except ValueError:
                known = ", ".join(sorted(attr.values.forward)[:10])
                raise ValueError(
                    f"{name} takes a whole number{' or one of ' + known if known else ''}, not {text!r}"
                ) from None
    try:
        data = pyrad_tools.EncodeAttr(attr.type, value)
    except Exception as exc:  # pyrad raises TypeError, ValueError, struct.error, OSError...
        raise ValueError(f"{text[:60]!r} is not a valid {attr.type} for {name}: {exc}") from None
    if len(data) > (247 if attr.vendor else 253):
        raise ValueError(f"{name}: {len(data)} octets do not fit in one attribute")
    return value


class Codec:
    """Decode requests and encode replies with one loaded dictionary."""

    def __init__(self, dictionary_path: Path | str):
        self.dictionary = load_dictionary(dictionary_path)
        self._layouts: dict[str, tuple[int, int, str]] = {}  # name -> (code, vendor id, type)

    def decode(self, data: bytes) -> Request:
        """Parse a request. The attribute split is our own single pass (pyrad's DecodePacket
        costs more per packet than the whole policy decision); values stay raw octets."""
        attributes = check_structure(data)
        if data[0] not in (ACCESS_REQUEST, ACCOUNTING_REQUEST, STATUS_SERVER):
            raise DropPacket("unknown_code", f"code {data[0]} is not handled here")
        length = struct.unpack_from("!H", data, 2)[0]
        return Request(data[:length], attributes)  # octets past Length are padding (RFC 2865 §3)

    # --- verification -------------------------------------------------------------------

    @staticmethod
    def verify_accounting(req: Request, secret: bytes) -> bool:
        """RFC 2866 §3: MD5(Code+ID+Length+16 zero octets+Attributes+Secret)."""
        raw = req.raw
        expected = hashlib.md5(raw[:4] + b"\x00" * 16 + raw[20:] + secret).digest()
        return hmac.compare_digest(expected, raw[4:20])

    @staticmethod
    def verify_message_authenticator(req: Request, secret: bytes) -> bool:
        """RFC 3579 §3.2 / RFC 5176 §3.4, over the octets as received (Status-Server: as for an
        Access-Request, RFC 5997 §3)."""
        authenticator = req.raw[4:20] if req.code in (ACCESS_REQUEST, STATUS_SERVER) else b"\x00" * 16
        return _message_authenticator_valid(req.raw, authenticator, secret)

    # --- encoding -----------------------------------------------------------------------

    def reply(
        self,
        req: Request,
        code: int,
        secret: bytes,
        attributes: Iterable[tuple[str, Any]] = (),
        *,
        encoded: bytes = b"",
        message_authenticator: bool = True,
    ) -> bytes:
        """Encode a reply in one pass: ``encoded`` (attributes already on the wire, see
        ``encode``), then ``attributes``. Access-Accept/Reject/Challenge carry
        Message-Authenticator as their first attribute (BlastRADIUS; RFC 3579 §3.2: HMAC over
        the packet with the Request Authenticator in place), ``message_authenticator=False``
        exists only to reproduce the pre-2024 packets of RFC 2865 §7. Proxy-State is echoed in
        order (RFC 2865 §5.33)."""
        body = encoded + self.encode(attributes) if attributes else encoded
        if PROXY_STATE in req.attributes:
            body += b"".join(bytes([PROXY_STATE, len(v) + 2]) + v for v in req.attributes[PROXY_STATE])
        signed = message_authenticator and (
            code in (ACCESS_ACCEPT, ACCESS_REJECT, ACCESS_CHALLENGE) or req.code == STATUS_SERVER
        )
        if signed:
            body = bytes([MESSAGE_AUTHENTICATOR, 18]) + b"\x00" * 16 + body
        if 20 + len(body) > MAX_PACKET:
            raise ValueError(f"reply of {20 + len(body)} octets exceeds {MAX_PACKET}")
        header = struct.pack("!BBH", code, req.id, 20 + len(body))
        if signed:
            digest = hmac_md5(secret, header + req.authenticator + body)
            body = body[:2] + digest + body[18:]
        return header + hashlib.md5(header + req.authenticator + body + secret).digest() + body

    def encode(self, attributes: Iterable[tuple[str, Any]]) -> bytes:
        """Attributes as octets, in order (ValueError for a value that does not fit)."""
        return b"".join([self._encode(name, value) for name, value in attributes])

    def dynamic_request(
        self, code: int, identifier: int, secret: bytes, attributes: Iterable[tuple[str, Any]]
    ) -> bytes:
        """A CoA-Request or Disconnect-Request (RFC 5176 §3.4): Message-Authenticator first,
        computed with a zero authenticator, then the Request Authenticator as for accounting."""
        body = bytes([MESSAGE_AUTHENTICATOR, 18]) + b"\x00" * 16
        body += self.encode(attributes)
        header = struct.pack("!BBH", code, identifier, 20 + len(body))
        digest = hmac_md5(secret, header + b"\x00" * 16 + body)
        body = body[:2] + digest + body[18:]
        return header + hashlib.md5(header + b"\x00" * 16 + body + secret).digest() + body

    def access_request(
        self, identifier: int, authenticator: bytes, secret: bytes, attributes: Iterable[tuple[str, Any]]
    ) -> bytes:
        """An Access-Request as a NAS sends it (for `aaa compare`): Message-Authenticator first
        (RFC 3579 §3.2, BlastRADIUS), then the attributes; the caller hides User-Password."""
        body = bytes([MESSAGE_AUTHENTICATOR, 18]) + b"\x00" * 16
        body += self.encode(attributes)
        header = struct.pack("!BBH", ACCESS_REQUEST, identifier, 20 + len(body))
        digest = hmac_md5(secret, header + authenticator + body)
        return header + authenticator + body[:2] + digest + body[18:]

    def reply_attributes(self, raw: bytes) -> list[tuple[str, str]]:
        """A reply's attributes as (name, value) text, nothing masked (for `aaa compare`)."""
        from pyrad.packet import Packet

        decoded = Packet(dict=self.dictionary, packet=raw)
        found = []
        for name in decoded.keys():  # noqa: SIM118 - pyrad's keys() gives names
            label = name if isinstance(name, str) else f"Attr-{name}"
            for value in decoded[name]:
                found.append((label, "0x" + value.hex() if isinstance(value, bytes) else str(value)))
        return found

    @staticmethod
    def verify_response(data: bytes, request_authenticator: bytes, secret: bytes) -> Attributes:
        """Check a CoA/Disconnect ACK or NAK against its request (RFC 5176 §3.5 and §3.4);
        returns its attributes, raises DropPacket when it is not from the NAS we asked."""
        attributes = check_structure(data)
        length = struct.unpack_from("!H", data, 2)[0]
        data = data[:length]
        expected = hashlib.md5(data[:4] + request_authenticator + data[20:] + secret).digest()
        if not hmac.compare_digest(expected, data[4:20]):
            raise DropPacket("bad_authenticator", "the response authenticator does not match")
        if MESSAGE_AUTHENTICATOR in attributes and not _message_authenticator_valid(
            data, request_authenticator, secret
        ):
            raise DropPacket(
                "bad_message_authenticator", "the response's Message-Authenticator does not match"
            )
        return attributes

    def describe(self, raw: bytes) -> list[tuple[str, str]]:
        """A packet's attributes as (name, value) text for a debug trace, credentials masked.
        Off the request path: pyrad decodes it."""
        from pyrad.packet import Packet

        try:
            decoded = Packet(dict=self.dictionary, packet=raw)
        except Exception as exc:  # a trace shows what it can
            return [("(undecodable)", str(exc)[:200])]
        lines = []
        for name in decoded.keys():  # noqa: SIM118 - pyrad's keys() gives names, iteration codes
            label = name if isinstance(name, str) else f"Attr-{name}"
            for value in decoded[name]:
                if label in MASKED:
                    text = "<masked>"
                elif isinstance(value, bytes):
                    text = "0x" + value.hex()
                else:
                    text = repr(value) if isinstance(value, str) else str(value)
                lines.append((label, text))
        return lines

    def _encode(self, name: str, value: Any) -> bytes:
        layout = self._layouts.get(name)
        if layout is None:
            attr = self.dictionary.attributes[name]
            vendor = self.dictionary.vendors.GetForward(attr.vendor) if attr.vendor else 0
            layout = self._layouts[name] = (attr.code, vendor, attr.type)
        code, vendor, datatype = layout
        if datatype == "octets" and isinstance(value, bytes):  # keys and MS-CHAP's, as they are
            data = value
        elif datatype == "string" and isinstance(value, str):
            data = value.encode()
        else:
            if isinstance(value, str) and datatype in _NUMBERS:  # a custom reply attribute, as text
                value = attribute_value(self.dictionary, name, value)
            data = pyrad_tools.EncodeAttr(datatype, value)
        if len(data) > (247 if vendor else 253):
            raise ValueError(f"{name}: {len(data)} octets do not fit in one attribute")
        if vendor:
            return vendor_attribute((vendor, code), data)
        return bytes([code, len(data) + 2]) + data
