"""Which authentication method a request uses, whether its credentials are right, and the
method-specific reply attributes (MS-CHAP success/error, MPPE keys)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from aaa.radius import codec as c
from aaa.radius import crypto
from aaa.radius.codec import Request
from aaa.radius.stored_passwords import nt_hash, pap_matches
from aaa.vocabulary.passwords import StoredHash

Password = str | StoredHash | None  # None: the login is unknown

PAP, CHAP, MSCHAP1, MSCHAP2, NONE = "pap", "chap", "mschapv1", "mschapv2", "none"

# FreeRADIUS rlm_mschap defaults: encryption allowed (1), 40- and 128-bit types (0x2 | 0x4).
MPPE_POLICY = 1
MPPE_TYPES = 6
# Passwords whose MS-CHAP key material a worker keeps (about 300 octets each): a flap storm's
# re-dials find theirs.
NT_KEYS_CACHED = 65_536


@dataclass(frozen=True, slots=True)
class Verdict:
    method: str
    ok: bool
    accept_attributes: tuple[tuple[str, Any], ...] = ()  # as a trace shows them
    reject_attributes: tuple[tuple[str, Any], ...] = ()
    accept_encoded: bytes = b""  # accept_attributes on the wire, made along with them


# The MPPE policy and types are the same in every accept.
_MPPE_SETTINGS = (("MS-MPPE-Encryption-Policy", MPPE_POLICY), ("MS-MPPE-Encryption-Types", MPPE_TYPES))
_MPPE_SETTINGS_ENCODED = c.vendor_attribute(
    c.MS_MPPE_ENCRYPTION_POLICY, MPPE_POLICY.to_bytes(4, "big")
) + c.vendor_attribute(c.MS_MPPE_ENCRYPTION_TYPES, MPPE_TYPES.to_bytes(4, "big"))


def detect(req: Request) -> str:
    if req.has(c.USER_PASSWORD):
        return PAP
    if req.has(c.CHAP_PASSWORD):
        return CHAP
    if req.has(c.MS_CHAP2_RESPONSE) and req.has(c.MS_CHAP_CHALLENGE):
        return MSCHAP2
    if req.has(c.MS_CHAP_RESPONSE) and req.has(c.MS_CHAP_CHALLENGE):
        return MSCHAP1
    return NONE


def verify(req: Request, method: str, password: Password, secret: bytes) -> Verdict:
    """``password`` None means the login is unknown: the answer is a failure shaped exactly
    like a wrong password, so the NAS user cannot tell the two apart. A password known only by
    its hash fails the methods the hash cannot verify (CHAP; MS-CHAP but for an NT hash)."""
    if method == PAP:
        return _pap(req, password, secret)
    if method == CHAP:
        return _chap(req, password)
    if method == MSCHAP2:
        return _mschap2(req, password, secret)
    if method == MSCHAP1:
        return _mschap1(req, password, secret)
    return Verdict(NONE, False)


def _pap(req: Request, password: Password, secret: bytes) -> Verdict:
    try:
        given = crypto.unhide_password(req.get(c.USER_PASSWORD) or b"", secret, req.authenticator)
    except ValueError:
        return Verdict(PAP, False)
    if isinstance(password, StoredHash):
        return Verdict(PAP, pap_matches(password, given))
    ok = password is not None and crypto.constant_time_equal(given, password.encode())
    return Verdict(PAP, ok)


def _chap(req: Request, password: Password) -> Verdict:
    # RFC 2865 §2.2: CHAP-Challenge if present, else the Request Authenticator.
    challenge = req.get(c.CHAP_CHALLENGE) or req.authenticator
    chap_password = req.get(c.CHAP_PASSWORD) or b""
    ok = isinstance(password, str) and crypto.chap_verify(chap_password, password.encode(), challenge)
    return Verdict(CHAP, ok)


def _ms_error(ident: int, challenge: bytes | None = None) -> tuple[tuple[str, Any], ...]:
    # RFC 2759 §6 failure packet: E=691 authentication failure, no retry, version 3.
    challenge = challenge if challenge is not None else os.urandom(16)
    text = f"E=691 R=0 C={challenge.hex().upper()} V=3 M=Authentication failed".encode()
    return (("MS-CHAP-Error", bytes([ident]) + text),)


def _mschap2_accept(success: bytes, send: bytes, recv: bytes, secret: bytes, authenticator: bytes) -> Verdict:
    random = os.urandom(2)
    salt_a = bytes([0x80 | (random[0] & 0x7F), random[1]])
    salt_b = bytes([salt_a[0] ^ 0x01, salt_a[1]])  # salts must differ within the packet
    recv_key = crypto.salt_encrypt(recv, secret, authenticator, salt_a)
    send_key = crypto.salt_encrypt(send, secret, authenticator, salt_b)
    attributes = (
        ("MS-CHAP2-Success", success),
        ("MS-MPPE-Recv-Key", recv_key),
        ("MS-MPPE-Send-Key", send_key),
        *_MPPE_SETTINGS,
    )
    encoded = (
        c.vendor_attribute(c.MS_CHAP2_SUCCESS, success)
        + c.vendor_attribute(c.MS_MPPE_RECV_KEY, recv_key)
        + c.vendor_attribute(c.MS_MPPE_SEND_KEY, send_key)
        + _MPPE_SETTINGS_ENCODED
    )
    return Verdict(MSCHAP2, True, accept_attributes=attributes, accept_encoded=encoded)


@lru_cache(maxsize=NT_KEYS_CACHED)
def _nt_keys(password: str | StoredHash) -> crypto.NtKeys | None:
    """A password's NT key material, derived once for the many requests of its subscriber
    (every PPPoE re-dial, on every NAS) instead of at each: two MD4 digests and the DES key
    schedule input. Bounded: a base larger than the cache derives the rest as it goes."""
    password_hash = nt_hash(password)
    return None if password_hash is None else crypto.NtKeys.of(password_hash)


def _mschap2(req: Request, password: Password, secret: bytes) -> Verdict:
    response = req.get(c.MS_CHAP2_RESPONSE) or b""
    auth_challenge = req.get(c.MS_CHAP_CHALLENGE) or b""
    if len(response) != 50 or len(auth_challenge) != 16:
        return Verdict(MSCHAP2, False, reject_attributes=_ms_error(response[0] if response else 0))
    ident, peer_challenge, nt_response = response[0], response[2:18], response[26:50]
    keys = _nt_keys(password) if password is not None else None
    if keys is None:
        return Verdict(MSCHAP2, False, reject_attributes=_ms_error(ident))
    # RFC 2759 §8: one NT hash and one challenge hash serve the check, S= and the MPPE keys.
    challenge = crypto.challenge_hash(peer_challenge, auth_challenge, req.get(c.USER_NAME) or b"")
    if not crypto.constant_time_equal(keys.challenge_response(challenge), nt_response):
        return Verdict(MSCHAP2, False, reject_attributes=_ms_error(ident))
    success = crypto.mschap2_authenticator_response(keys.hash_hash, nt_response, challenge)
    send, recv = crypto.mppe_server_keys(keys.hash_hash, nt_response)
    return _mschap2_accept(bytes([ident]) + success, send, recv, secret, req.authenticator)


def _mschap1(req: Request, password: Password, secret: bytes) -> Verdict:
    response = req.get(c.MS_CHAP_RESPONSE) or b""
    challenge = req.get(c.MS_CHAP_CHALLENGE) or b""
    if len(response) != 50 or len(challenge) != 8:
        return Verdict(MSCHAP1, False, reject_attributes=_ms_error(response[0] if response else 0))
    ident, use_nt, nt_response = response[0], response[1] & 1, response[26:50]
    nt = _nt_keys(password) if password is not None else None
    # LM-only responses (flags 0) are refused: the LM hash is broken beyond repair.
    if nt is None or not use_nt:
        return Verdict(MSCHAP1, False, reject_attributes=_ms_error(ident))
    if not crypto.constant_time_equal(nt.challenge_response(challenge), nt_response):
        return Verdict(MSCHAP1, False, reject_attributes=_ms_error(ident))
    # RFC 2548 §2.4.1: LM key + NT key; with only an NT hash the LM part is zeros, as
    # FreeRADIUS's rlm_mschap sends it.
    plain = crypto.mschap1_mppe_keys(password) if isinstance(password, str) else b"\x00" * 8 + nt.hash_hash
    keys = crypto.hide_password(plain, secret, req.authenticator)
    return Verdict(
        MSCHAP1,
        True,
        accept_attributes=(("MS-CHAP-MPPE-Keys", keys), *_MPPE_SETTINGS),
        accept_encoded=c.vendor_attribute(c.MS_CHAP_MPPE_KEYS, keys) + _MPPE_SETTINGS_ENCODED,
    )
