"""How a subscriber's password is stored: in clear (every method works) or, for subscribers
brought over from FreeRADIUS, as the hash FreeRADIUS had (NT-Password, MD5/SMD5, SHA/SSHA,
SHA-2, Crypt-Password). A hash verifies only what it can: PAP against any of them, MS-CHAP (v1
and v2) against an NT hash, CHAP only in clear (RFC 1994 needs the password itself).

Stored form: the hash's bytes in base64 (digest, then salt for the salted ones), the NT hash in
hex, a crypt string as it is. FreeRADIUS's own values (hex or base64, ``{header}`` prefixes)
are read by ``from_freeradius``.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

CLEARTEXT = "cleartext"
_DIGEST = {"md5": 16, "sha1": 20, "sha256": 32, "sha512": 64}
_SALTED = {"smd5": "md5", "ssha1": "sha1", "ssha256": "sha256", "ssha512": "sha512"}
SCHEMES = (CLEARTEXT, "nt", *_DIGEST, *_SALTED, "crypt")
_ALL = frozenset({"pap", "chap", "mschapv1", "mschapv2"})
METHODS = {CLEARTEXT: _ALL, "nt": frozenset({"pap", "mschapv1", "mschapv2"})}

# FreeRADIUS check attributes (rlm_pap) and Password-With-Header headers → scheme.
_ATTRIBUTES = {
    "cleartext-password": CLEARTEXT,
    "user-password": CLEARTEXT,
    "nt-password": "nt",
    "md5-password": "md5",
    "smd5-password": "smd5",
    "sha-password": "sha1",
    "sha1-password": "sha1",
    "ssha-password": "ssha1",
    "ssha1-password": "ssha1",
    "sha2-password": "sha2",
    "ssha2-256-password": "ssha256",
    "ssha2-512-password": "ssha512",
    "crypt-password": "crypt",
}
_HEADERS = {
    "cleartext": CLEARTEXT,
    "nt": "nt",
    "nthash": "nt",
    "md5": "md5",
    "smd5": "smd5",
    "sha": "sha1",
    "ssha": "ssha1",
    "sha2": "sha2",
    "sha256": "sha256",
    "sha512": "sha512",
    "ssha256": "ssha256",
    "ssha512": "ssha512",
    "crypt": "crypt",
}


@dataclass(frozen=True, slots=True)
class StoredHash:
    """A password the server knows only by its hash: ``digest`` (the NT hash, or a digest
    followed by its salt) or ``text`` (a crypt string)."""

    scheme: str
    digest: bytes = b""
    text: str = ""

    @property
    def methods(self) -> frozenset[str]:
        return methods_for(self.scheme)


def methods_for(scheme: str) -> frozenset[str]:
    return METHODS.get(scheme, frozenset({"pap"}))


def stored(scheme: str, value: str) -> str | StoredHash:
    """What the RADIUS snapshot keeps: the password itself, or its hash decoded once."""
    if scheme == CLEARTEXT:
        return value
    if scheme == "crypt":
        return StoredHash(scheme, text=value)
    if scheme == "nt":
        return StoredHash(scheme, bytes.fromhex(value))
    return StoredHash(scheme, base64.b64decode(value))


def _raw(value: str, size: int, salted: bool) -> bytes:
    """FreeRADIUS accepts a digest in hex or in base64 (rlm_pap's normify)."""
    text = value.strip()
    if text.lower().startswith("0x"):
        text = text[2:]
    if len(text) % 2 == 0 and all(c in "0123456789abcdefABCDEF" for c in text):
        raw = bytes.fromhex(text)
        if len(raw) == size or (salted and len(raw) > size):
            return raw
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("neither hex nor base64") from None
    if len(raw) == size or (salted and len(raw) > size):
        return raw
    raise ValueError(f"{len(raw)} bytes where the hash has {size}{' plus a salt' if salted else ''}")


def from_freeradius(attribute: str, value: str) -> tuple[str, str]:
    """(scheme, stored value) for a radcheck row; ValueError says why it cannot be used."""
    name = attribute.strip().lower()
    if name == "password-with-header":
        if not value.startswith("{") or "}" not in value:
            return CLEARTEXT, value  # no header: FreeRADIUS takes it as a cleartext password
        header, rest = value[1:].split("}", 1)
        if header.lower() not in _HEADERS:
            raise ValueError(f"unknown password header {{{header}}}")
        scheme, value = _HEADERS[header.lower()], rest
    elif name in _ATTRIBUTES:
        scheme = _ATTRIBUTES[name]
    else:
        raise ValueError(f"{attribute} is not a password attribute")
    if scheme == CLEARTEXT:
        return scheme, value
    if scheme == "crypt":
        if not value or len(value) > 128:
            raise ValueError("an empty or overlong crypt string")
        return scheme, value
    if scheme == "nt":
        return scheme, _raw(value, 16, False).hex().upper()
    if scheme == "sha2":  # SHA2-Password: the length tells which
        raw = _raw(value, 32, False) if len(value.strip()) in (64, 44) else _raw(value, 64, False)
        return {32: "sha256", 64: "sha512"}[len(raw)], base64.b64encode(raw).decode()
    base = _SALTED.get(scheme, scheme)
    raw = _raw(value, _DIGEST[base], scheme in _SALTED)
    return scheme, base64.b64encode(raw).decode()
