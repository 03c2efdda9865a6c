"""PAP against a stored hash (aaa.vocabulary.passwords), the way FreeRADIUS's rlm_pap checks
them, and the NT hash MS-CHAPv2 needs."""

from __future__ import annotations

import hashlib
import warnings

from aaa.radius import crypto
from aaa.vocabulary.passwords import _DIGEST, _SALTED, StoredHash


def pap_matches(stored: StoredHash, given: bytes) -> bool:
    scheme = stored.scheme
    if scheme == "nt":
        try:
            text = given.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return crypto.constant_time_equal(crypto.nt_password_hash(text), stored.digest)
    if scheme == "crypt":
        return _crypt_matches(stored.text, given)
    base = _SALTED.get(scheme, scheme)
    size = _DIGEST[base]
    digest, salt = stored.digest[:size], stored.digest[size:]
    return crypto.constant_time_equal(hashlib.new(base, given + salt).digest(), digest)


def nt_hash(password: str | StoredHash) -> bytes | None:
    """The NT hash behind a password, if the server has it."""
    if isinstance(password, str):
        return crypto.nt_password_hash(password)
    return password.digest if password.scheme == "nt" else None


def _crypt_matches(text: str, given: bytes) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import crypt  # the C library's crypt(3), as FreeRADIUS uses it
        except ImportError:  # Python 3.13 dropped it
            return False
    try:
        result = crypt.crypt(given.decode("utf-8"), text)
    except (UnicodeDecodeError, OSError):
        return False
    return result is not None and crypto.constant_time_equal(result.encode(), text.encode())
