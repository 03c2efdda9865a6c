"""The cryptography of RADIUS authentication, as pure functions over bytes.

PAP hiding (RFC 2865 §5.2), CHAP (RFC 1994, RFC 2865 §2.2), MS-CHAPv1 (RFC 2433),
MS-CHAPv2 (RFC 2759), MPPE key material (RFC 2548, RFC 3079). MD4 and DES come from
:mod:`aaa.radius.legacy_primitives`.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from aaa.radius.legacy_primitives import des_encrypt_block, des_encrypt_under, md4


def constant_time_equal(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)


_XOR_IPAD = bytes(b ^ 0x36 for b in range(256))
_XOR_OPAD = bytes(b ^ 0x5C for b in range(256))


@lru_cache(maxsize=4096)  # one entry per shared secret in use (NASes, CoA peers)
def _hmac_md5_pads(key: bytes) -> tuple[Any, Any]:
    """MD5 states after the inner and the outer padded key (RFC 2104 §2)."""
    if len(key) > 64:
        key = hashlib.md5(key).digest()
    key = key.ljust(64, b"\x00")
    return hashlib.md5(key.translate(_XOR_IPAD)), hashlib.md5(key.translate(_XOR_OPAD))


def hmac_md5(key: bytes, message: bytes) -> bytes:
    """HMAC-MD5 (RFC 2104), as Message-Authenticator needs it (RFC 3579 §3.2). The same as
    ``hmac.digest(key, message, "md5")``, which makes OpenSSL 3 set the key up on every call,
    at three times the cost; here the padded key's MD5 states are kept per secret and copied."""
    inner_start, outer_start = _hmac_md5_pads(key)
    inner = inner_start.copy()
    inner.update(message)
    outer = outer_start.copy()
    outer.update(inner.digest())
    return outer.digest()


def _xor(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(len(a), "big")


# --- PAP (RFC 2865 §5.2) -------------------------------------------------------------------


def hide_password(password: bytes, secret: bytes, authenticator: bytes) -> bytes:
    """User-Password hiding; also RFC 2548 §2.4.1 (MS-CHAP-MPPE-Keys)."""
    padded = password.ljust(max(16, len(password) + -len(password) % 16), b"\x00")
    out, last = b"", authenticator
    for i in range(0, len(padded), 16):
        block = _xor(padded[i : i + 16], hashlib.md5(secret + last).digest())
        out += block
        last = block
    return out


def unhide_password(hidden: bytes, secret: bytes, authenticator: bytes) -> bytes:
    """Reverse of :func:`hide_password`; the chain is keyed on the *ciphertext* blocks."""
    if not hidden or len(hidden) % 16 or len(hidden) > 128:
        raise ValueError("User-Password must be 16 to 128 octets in steps of 16")
    out, last = b"", authenticator
    for i in range(0, len(hidden), 16):
        block = hidden[i : i + 16]
        out += _xor(block, hashlib.md5(secret + last).digest())
        last = block
    return out.rstrip(b"\x00")


# --- CHAP (RFC 1994 §4.1) ------------------------------------------------------------------


def chap_response(ident: int, password: bytes, challenge: bytes) -> bytes:
    return hashlib.md5(bytes([ident]) + password + challenge).digest()


def chap_verify(chap_password: bytes, password: bytes, challenge: bytes) -> bool:
    if len(chap_password) != 17:
        return False
    return constant_time_equal(chap_response(chap_password[0], password, challenge), chap_password[1:])


# --- MS-CHAP (RFC 2433, RFC 2759) ----------------------------------------------------------


def nt_password_hash(password: str) -> bytes:
    return md4(password.encode("utf-16-le"))


# An octet whose low bit is free, with that bit set to make the count of ones odd.
_WITH_ODD_PARITY = bytes(b | (bin(b).count("1") % 2 == 0) for b in range(256))


def _lanes(mask: int) -> int:
    """``mask`` repeated in three 64-bit lanes."""
    return mask | mask << 64 | mask << 128


_M56 = (1 << 56) - 1
# Three mask-and-shift steps halve the groups of a 56-bit key (28, 14, 7 bits) into 32-, 16- and
# 8-bit lanes: about half the time of a loop over the eight groups. The masks cover three keys
# side by side, 64 bits apart; a single key uses the lowest lane.
_SPREAD = [
    (4, _lanes(0xFFFFFFF0000000), _lanes(0xFFFFFFF)),
    (2, _lanes(0x0FFFC0000FFFC000), _lanes(0x00003FFF00003FFF)),
    (1, _lanes(0x3F803F803F803F80), _lanes(0x007F007F007F007F)),
]


def _spread(x: int, octets: int) -> bytes:
    for shift, high, low in _SPREAD:
        x = (x & high) << shift | (x & low)
    return (x << 1).to_bytes(octets, "big").translate(_WITH_ODD_PARITY)


def _des_key(key7: bytes) -> bytes:
    """Spread 56 key bits over 8 octets (7 bits each), odd parity in the low bit."""
    return _spread(int.from_bytes(key7, "big"), 8)


def _des_keys(key21: bytes) -> bytes:
    """``_des_key`` of each 7-octet third of ``key21``, joined: the three 56-bit groups go to
    64-bit lanes of one integer, and ``_spread`` does all of them at once."""
    x = int.from_bytes(key21, "big")
    return _spread((x >> 112 & _M56) << 128 | (x >> 56 & _M56) << 64 | (x & _M56), 24)


def _des(key7: bytes, block: bytes) -> bytes:
    return des_encrypt_block(_des_key(key7), block)


def _challenge_keys(password_hash: bytes) -> bytes:
    """The three DES keys of ChallengeResponse: the hash padded to 21 octets, in thirds."""
    return _des_keys(password_hash + b"\x00" * 5)


def challenge_response(challenge8: bytes, password_hash: bytes) -> bytes:
    """RFC 2759 §8.5 ChallengeResponse: three DES encryptions of the 8-octet challenge."""
    return des_encrypt_under(_challenge_keys(password_hash), challenge8)


@dataclass(frozen=True, slots=True)
class NtKeys:
    """What MS-CHAP derives from a password's NT hash alone, the same at every request: the
    hash, its hash (RFC 2759 §8.7, MPPE) and the three DES keys of ChallengeResponse (§8.5)."""

    password_hash: bytes
    hash_hash: bytes
    des_keys: bytes

    @classmethod
    def of(cls, password_hash: bytes) -> NtKeys:
        return cls(password_hash, md4(password_hash), _challenge_keys(password_hash))

    def challenge_response(self, challenge8: bytes) -> bytes:
        return des_encrypt_under(self.des_keys, challenge8)


def lm_password_hash(password: str) -> bytes:
    """RFC 2433 §A.8 LmPasswordHash; only its first 8 octets are used (the MPPE LM key)."""
    oem = password.upper().encode("latin-1", errors="replace")[:14].ljust(14, b"\x00")
    magic = b"KGS!@#$%"
    return _des(oem[:7], magic) + _des(oem[7:], magic)


def challenge_hash(peer_challenge: bytes, authenticator_challenge: bytes, username: bytes) -> bytes:
    """RFC 2759 §8.2; the user name is taken without any ``DOMAIN\\`` prefix."""
    username = username.rsplit(b"\\", 1)[-1]
    return hashlib.sha1(peer_challenge + authenticator_challenge + username).digest()[:8]


def mschap2_nt_response(
    authenticator_challenge: bytes, peer_challenge: bytes, username: bytes, password: str
) -> bytes:
    challenge = challenge_hash(peer_challenge, authenticator_challenge, username)
    return challenge_response(challenge, nt_password_hash(password))


_MAGIC1 = b"Magic server to client signing constant"
_MAGIC2 = b"Pad to make it do more than one iteration"


def mschap2_authenticator_response(password_hash_hash: bytes, nt_response: bytes, challenge: bytes) -> bytes:
    """RFC 2759 §8.7: the 42-octet ``S=<40 hex>`` string the server proves itself with.
    ``challenge`` is the 8-octet :func:`challenge_hash`."""
    digest = hashlib.sha1(password_hash_hash + nt_response + _MAGIC1).digest()
    digest = hashlib.sha1(digest + challenge + _MAGIC2).digest()
    return b"S=" + digest.hex().upper().encode()


# --- MPPE key material (RFC 2548, RFC 3079) -----------------------------------------------

_PAD1 = b"\x00" * 40
_PAD2 = b"\xf2" * 40
# RFC 3079 §3.4: on the server, Magic3 is the send key and Magic2 the receive key.
_KEY_MAGIC2 = b"On the client side, this is the send key; on the server side, it is the receive key."
_KEY_MAGIC3 = b"On the client side, this is the receive key; on the server side, it is the send key."


def mppe_master_key(password_hash_hash: bytes, nt_response: bytes) -> bytes:
    return hashlib.sha1(password_hash_hash + nt_response + b"This is the MPPE Master Key").digest()[:16]


def mppe_server_keys(password_hash_hash: bytes, nt_response: bytes) -> tuple[bytes, bytes]:
    """MS-CHAPv2 (send, receive) 16-octet start keys, as FreeRADIUS and RouterOS expect them."""
    master = mppe_master_key(password_hash_hash, nt_response)
    send = hashlib.sha1(master + _PAD1 + _KEY_MAGIC3 + _PAD2).digest()[:16]
    recv = hashlib.sha1(master + _PAD1 + _KEY_MAGIC2 + _PAD2).digest()[:16]
    return send, recv


def mschap1_mppe_keys(password: str) -> bytes:
    """RFC 2548 §2.4.1 MS-CHAP-MPPE-Keys plaintext: LM key (8) + NT key (16)."""
    return lm_password_hash(password)[:8] + md4(nt_password_hash(password))


def salt_encrypt(value: bytes, secret: bytes, request_authenticator: bytes, salt: bytes) -> bytes:
    """RFC 2548 §2.4.2 (MS-MPPE-Send/Recv-Key): salt + User-Password-style chain.

    The plaintext is the one-octet key length, the key, and zero padding to 16n.
    The salt's high bit must be set and salts must differ within one packet.
    """
    if len(salt) != 2 or not salt[0] & 0x80:
        raise ValueError("salt must be 2 octets with the high bit set")
    plain = bytes([len(value)]) + value
    plain += b"\x00" * (-len(plain) % 16)
    out, last = b"", request_authenticator + salt
    for i in range(0, len(plain), 16):
        block = _xor(plain[i : i + 16], hashlib.md5(secret + last).digest())
        out += block
        last = block
    return salt + out
