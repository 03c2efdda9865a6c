"""Passwords brought from FreeRADIUS as hashes: read the way rlm_pap reads them (hex or base64,
{header} prefixes), checked for PAP, MS-CHAP by an NT hash, and refused for what a hash
cannot verify (CHAP)."""

from __future__ import annotations

import base64
import hashlib

import pytest

from aaa.radius import crypto
from aaa.radius.stored_passwords import nt_hash, pap_matches
from aaa.vocabulary.passwords import StoredHash, from_freeradius, methods_for, stored

SALT = b"\x01\x02\x03\x04"


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        ("NT-Password", crypto.nt_password_hash("s3cret").hex()),
        ("NT-Password", "0x" + crypto.nt_password_hash("s3cret").hex().upper()),
        ("MD5-Password", hashlib.md5(b"s3cret").hexdigest()),
        ("MD5-Password", b64(hashlib.md5(b"s3cret").digest())),
        ("SMD5-Password", b64(hashlib.md5(b"s3cret" + SALT).digest() + SALT)),
        ("SHA-Password", hashlib.sha1(b"s3cret").hexdigest()),
        ("SSHA-Password", b64(hashlib.sha1(b"s3cret" + SALT).digest() + SALT)),
        ("SHA2-Password", hashlib.sha256(b"s3cret").hexdigest()),
        ("SHA2-Password", hashlib.sha512(b"s3cret").hexdigest()),
        ("SSHA2-256-Password", b64(hashlib.sha256(b"s3cret" + SALT).digest() + SALT)),
        ("SSHA2-512-Password", b64(hashlib.sha512(b"s3cret" + SALT).digest() + SALT)),
        ("Password-With-Header", "{ssha}" + b64(hashlib.sha1(b"s3cret" + SALT).digest() + SALT)),
        ("Password-With-Header", "{nt}" + crypto.nt_password_hash("s3cret").hex()),
        ("Crypt-Password", "$6$saltsalt$" + "x"),  # replaced below by a real crypt string
    ],
)
def test_freeradius_hashes_verify_pap(attribute: str, value: str) -> None:
    if attribute == "Crypt-Password":
        crypt = pytest.importorskip("crypt")
        value = crypt.crypt("s3cret", "$6$saltsalt$")
    scheme, kept = from_freeradius(attribute, value)
    password = stored(scheme, kept)
    assert isinstance(password, StoredHash)
    assert pap_matches(password, b"s3cret")
    assert not pap_matches(password, b"s3cret!")
    assert "pap" in password.methods and "chap" not in password.methods


def test_what_each_scheme_allows_and_what_is_refused() -> None:
    assert methods_for("cleartext") == {"pap", "chap", "mschapv1", "mschapv2"}
    assert methods_for("nt") == {"pap", "mschapv1", "mschapv2"}
    assert methods_for("ssha1") == {"pap"}
    nt = stored(*from_freeradius("NT-Password", crypto.nt_password_hash("s3cret").hex()))
    assert nt_hash(nt) == crypto.nt_password_hash("s3cret") == nt_hash("s3cret")  # type: ignore[arg-type]
    assert nt_hash(stored(*from_freeradius("MD5-Password", hashlib.md5(b"x").hexdigest()))) is None
    assert from_freeradius("Password-With-Header", "no header") == ("cleartext", "no header")
    for attribute, value, problem in (
        ("MD5-Password", "abc", "neither hex nor base64"),
        ("NT-Password", b64(b"short"), "5 bytes where the hash has 16"),
        ("Password-With-Header", "{bcrypt}$2y$abc", "unknown password header"),
        ("Simultaneous-Use", "1", "not a password attribute"),
    ):
        with pytest.raises(ValueError, match=problem):
            from_freeradius(attribute, value)
