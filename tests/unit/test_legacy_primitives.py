"""MD4 and DES called straight in C (OpenSSL's libcrypto, else pycryptodome's libraries): the
published vectors, and the same answers as pycryptodome's own classes on any input, for every
backend this machine has."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest
from Crypto.Cipher import DES
from Crypto.Hash import MD4
from hypothesis import given
from hypothesis import strategies as st

from aaa.radius import crypto
from aaa.radius.legacy_primitives import (
    BACKEND,
    Backend,
    LibCrypto,
    PyCryptodome,
    available,
    des_encrypt_block,
    md4,
    proven,
)

h = bytes.fromhex
BACKENDS = available()
each_backend = pytest.mark.parametrize("backend", BACKENDS, ids=[b.name for b in BACKENDS])


def test_debian_has_both_backends_and_openssl_serves() -> None:
    """Debian's libcrypto 3 exports the low-level DES and MD4: no allocation per block."""
    assert [b.name for b in BACKENDS] == ["openssl", "pycryptodome"]
    assert isinstance(BACKEND, LibCrypto)


class _Wrong:
    """A backend whose DES answers something else (a libcrypto with another key schedule size)."""

    name = "wrong"

    def md4(self, data: bytes) -> bytes:
        return PyCryptodome().md4(data)

    def des_encrypt_under(self, keys: bytes, block: bytes) -> bytes:
        return bytes(len(keys))


def test_a_backend_that_misses_rfc_2759s_vector_is_not_proven() -> None:
    wrong: Backend = _Wrong()
    assert not proven(wrong) and all(proven(b) for b in BACKENDS)


@each_backend
@pytest.mark.parametrize(
    ("message", "digest"),
    [  # RFC 1320 §A.5
        (b"", "31d6cfe0d16ae931b73c59d7e0c089c0"),
        (b"abc", "a448017aaf21d8525fc10ae87aa6729d"),
        (b"1234567890" * 8, "e33b4ddc9c38f2199c3e7b164fcc0536"),
    ],
)
def test_each_backend_md4_rfc1320(backend: Backend, message: bytes, digest: str) -> None:
    assert backend.md4(message) == h(digest)


@each_backend
def test_each_backend_des_worked_example_and_lengths(backend: Backend) -> None:
    assert backend.des_encrypt_under(h("133457799bbcdff1"), h("0123456789abcdef")) == h("85e813540f0ab405")
    for key, block in ((b"k" * 7, b"b" * 8), (b"k" * 8, b"b" * 9), (b"", b"")):
        with pytest.raises(ValueError, match="8-octet"):
            backend.des_encrypt_under(key, block)


@each_backend
@given(st.binary(max_size=300), st.binary(min_size=8, max_size=80), st.binary(min_size=8, max_size=8))
def test_each_backend_agrees_with_pycryptodome_classes(
    backend: Backend, message: bytes, keys: bytes, block: bytes
) -> None:
    keys = keys[: len(keys) // 8 * 8]
    expected = b"".join(DES.new(keys[k : k + 8], DES.MODE_ECB).encrypt(block) for k in range(0, len(keys), 8))
    assert backend.md4(message) == MD4.new(message).digest()
    assert backend.des_encrypt_under(keys, block) == expected


@pytest.mark.parametrize(
    ("message", "digest"),
    [  # RFC 1320 §A.5
        (b"", "31d6cfe0d16ae931b73c59d7e0c089c0"),
        (b"abc", "a448017aaf21d8525fc10ae87aa6729d"),
        (b"message digest", "d9130a8164549fe818874806e1c7014b"),
        (b"1234567890" * 8, "e33b4ddc9c38f2199c3e7b164fcc0536"),
    ],
)
def test_md4_rfc1320_suite(message: bytes, digest: str) -> None:
    assert md4(message) == h(digest)


def test_des_the_classic_worked_example() -> None:
    # The worked example of FIPS 46 tutorials: key 133457799BBCDFF1, plaintext 0123456789ABCDEF.
    assert des_encrypt_block(h("133457799bbcdff1"), h("0123456789abcdef")) == h("85e813540f0ab405")


@given(st.binary(max_size=300))
def test_md4_agrees_with_pycryptodome(message: bytes) -> None:
    assert md4(message) == MD4.new(message).digest()


@given(st.binary(min_size=8, max_size=8), st.binary(min_size=8, max_size=8))
def test_des_agrees_with_pycryptodome(key: bytes, block: bytes) -> None:
    assert des_encrypt_block(key, block) == DES.new(key, DES.MODE_ECB).encrypt(block)


@pytest.mark.parametrize(("key", "block"), [(b"k" * 7, b"b" * 8), (b"k" * 8, b"b" * 9), (b"", b"")])
def test_des_refuses_other_lengths(key: bytes, block: bytes) -> None:
    with pytest.raises(ValueError, match="8-octet"):
        des_encrypt_block(key, block)


@given(st.binary(min_size=7, max_size=7))
def test_des_key_spreads_seven_bits_per_octet_with_odd_parity(key7: bytes) -> None:
    bits = int.from_bytes(key7, "big")
    groups = [bits >> (49 - 7 * i) & 0x7F for i in range(8)]
    key = crypto._des_key(key7)
    assert [octet >> 1 for octet in key] == groups
    assert all(bin(octet).count("1") % 2 == 1 for octet in key)


@given(st.binary(min_size=21, max_size=21))
def test_three_des_keys_at_once_are_the_three_keys(key21: bytes) -> None:
    thirds = (key21[0:7], key21[7:14], key21[14:21])
    assert crypto._des_keys(key21) == b"".join(crypto._des_key(third) for third in thirds)


def _many(backend: Backend, seed: int) -> bool:
    for n in range(300):
        message = os.urandom(seed + n % 40)
        keys, block = os.urandom(24), os.urandom(8)
        expected = b"".join(DES.new(keys[k : k + 8], DES.MODE_ECB).encrypt(block) for k in (0, 8, 16))
        if (
            backend.md4(message) != MD4.new(message).digest()
            or backend.des_encrypt_under(keys, block) != expected
        ):
            return False
    return True


@each_backend
def test_threads_at_once_each_get_their_own_answers(backend: Backend) -> None:
    """The scratch buffers are per thread: calls racing from several threads stay right."""
    with ThreadPoolExecutor(4) as pool:
        assert all(pool.map(partial(_many, backend), range(8)))


@pytest.mark.parametrize(
    ("key", "message", "digest"),
    [  # RFC 2202 §2, test cases 1, 2 and 6 (a key longer than the block)
        (b"\x0b" * 16, b"Hi There", "9294727a3638bb1c13f48ef8158bfc9d"),
        (b"Jefe", b"what do ya want for nothing?", "750c783e6ab0b503eaa86e310a5db738"),
        (
            b"\xaa" * 80,
            b"Test Using Larger Than Block-Size Key - Hash Key First",
            "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd",
        ),
    ],
)
def test_hmac_md5_rfc2202(key: bytes, message: bytes, digest: str) -> None:
    assert crypto.hmac_md5(key, message) == h(digest)


@given(st.binary(max_size=150), st.binary(max_size=600))
def test_hmac_md5_agrees_with_the_standard_library(key: bytes, message: bytes) -> None:
    import hmac

    assert crypto.hmac_md5(key, message) == hmac.digest(key, message, "md5")
