"""MD4 and one-block DES, the two primitives MS-CHAP needs, called straight in C through cffi.

OpenSSL 3 keeps both out of its default EVP provider, but its libcrypto still exports the
low-level ``DES_set_key_unchecked``, ``DES_ecb_encrypt`` and ``MD4`` (deprecated, not removed):
no allocation, two calls for a DES block and one for an MD4 digest. Where the libcrypto at hand
was built without them, or answers a known vector wrongly, the C libraries pycryptodome ships
serve instead, called the way its own modules declare them (its Python classes build objects
per call that cost more than the digest or block itself). An MS-CHAPv2 request makes two MD4
digests and three DES blocks (docs/benchmarks.md).
"""

from __future__ import annotations

import ctypes.util
import importlib.util
import threading
from typing import Any, Protocol

import cffi

_ffi = cffi.FFI()
_ffi.cdef(
    """
    typedef struct { unsigned char ks[128]; } DES_key_schedule;
    void DES_set_key_unchecked(const uint8_t *key, DES_key_schedule *schedule);
    void DES_ecb_encrypt(const uint8_t *input, uint8_t *output, DES_key_schedule *ks, int enc);
    unsigned char *MD4(const uint8_t *d, size_t n, uint8_t *md);

    int md4_init(void **shaState);
    int md4_destroy(void *shaState);
    int md4_copy(const void *src, void *dst);
    int md4_update(void *hs, const uint8_t *buf, size_t len);
    int md4_digest(const void *shaState, uint8_t digest[16]);
    int DES_start_operation(const uint8_t key[], size_t key_len, void **pResult);
    int DES_stop_operation(void *state);
    int ECB_start_operation(void *cipher, void **pResult);
    int ECB_encrypt(void *ecbState, const uint8_t *in, uint8_t *out, size_t data_len);
    int ECB_stop_operation(void *state);
    """
)

# RFC 2759 §9.2: the NT hash of "clientPass" and the challenge response it gives. A backend
# must reproduce both before it is used.
_CHECK_PASSWORD = "clientPass".encode("utf-16-le")
_CHECK_HASH = bytes.fromhex("44EBBA8D5312B8D611474411F56989AE")
_CHECK_CHALLENGE = bytes.fromhex("D02E4386BCE91226")
# The three DES keys RFC 2759's DesEncrypt derives from that hash (7 octets each, parity added).
_CHECK_KEYS = bytes.fromhex("4575EF51D5984A70D60851E9408FD5D389D6800101010101")
_CHECK_RESPONSE = bytes.fromhex("82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF")


class Backend(Protocol):
    name: str

    def md4(self, data: bytes) -> bytes: ...

    def des_encrypt_under(self, keys: bytes, block: bytes) -> bytes:
        """DES-ECB of one 8-octet block under each 8-octet key of ``keys`` in turn, the results
        joined (MS-CHAP's challenge response is three of them: one call)."""
        ...


def _check_lengths(keys: bytes, block: bytes) -> None:
    if len(keys) % 8 or not keys or len(block) != 8:
        raise ValueError("DES takes 8-octet keys and an 8-octet block")


class _LibCryptoScratch(threading.local):
    """One thread's key schedule and output buffers, reused by its calls."""

    def __init__(self) -> None:
        self.schedule = _ffi.new("DES_key_schedule *")
        self.blocks = _ffi.new("uint8_t[64]")
        self.digest = _ffi.new("uint8_t[16]")


class LibCrypto:
    """OpenSSL's low-level functions."""

    name = "openssl"

    def __init__(self) -> None:
        path = ctypes.util.find_library("crypto")
        if path is None:
            raise OSError("no libcrypto found")
        lib = _ffi.dlopen(path)
        # Looked up now: a libcrypto without them fails here, not on a request.
        self._set_key, self._ecb, self._md4 = lib.DES_set_key_unchecked, lib.DES_ecb_encrypt, lib.MD4
        self._scratch = _LibCryptoScratch()

    def md4(self, data: bytes) -> bytes:
        digest = self._scratch.digest
        self._md4(data, len(data), digest)
        return _ffi.buffer(digest)[:]

    def des_encrypt_under(self, keys: bytes, block: bytes) -> bytes:
        _check_lengths(keys, block)
        scratch = self._scratch
        schedule = scratch.schedule
        out = scratch.blocks if len(keys) <= 64 else _ffi.new("uint8_t[]", len(keys))
        set_key, ecb = self._set_key, self._ecb
        for at in range(0, len(keys), 8):
            set_key(keys[at : at + 8], schedule)
            ecb(block, out + at, schedule, 1)
        return _ffi.buffer(out, len(keys))[:]


class _PyCryptodomeScratch(threading.local):
    """What one thread's calls reuse instead of allocating per call: a fresh MD4 state to copy
    from, one to work in (both freed with the thread's scratch), and the output buffers."""

    def __init__(self, md4_lib: Any) -> None:
        self.md4_fresh = _md4_state(md4_lib)
        self.md4_work = _md4_state(md4_lib)
        self.digest = _ffi.new("uint8_t[16]")
        self.handle = _ffi.new("void **")
        self.blocks = _ffi.new("uint8_t[24]")


def _md4_state(md4_lib: Any) -> Any:
    state = _ffi.new("void **")
    if md4_lib.md4_init(state):
        raise MemoryError("md4_init failed")
    return _ffi.gc(state[0], md4_lib.md4_destroy)


def _library(module: str) -> Any:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ImportError(f"pycryptodome's {module} library is missing")
    return _ffi.dlopen(spec.origin)


class PyCryptodome:
    """The C functions behind pycryptodome's MD4 and DES (a DES state and an ECB state a key)."""

    name = "pycryptodome"

    def __init__(self) -> None:
        self._md4_lib = _library("Crypto.Hash._MD4")
        self._des = _library("Crypto.Cipher._raw_des")
        self._ecb = _library("Crypto.Cipher._raw_ecb")
        # A threading.local subclass: each thread gets its own, built with these arguments.
        self._scratch = _PyCryptodomeScratch(self._md4_lib)

    def md4(self, data: bytes) -> bytes:
        scratch, lib = self._scratch, self._md4_lib
        work, digest = scratch.md4_work, scratch.digest
        failed = (
            lib.md4_copy(scratch.md4_fresh, work)
            or lib.md4_update(work, data, len(data))
            or lib.md4_digest(work, digest)
        )
        if failed:
            raise ValueError(f"MD4 failed with error {failed}")
        return _ffi.buffer(digest)[:]

    def des_encrypt_under(self, keys: bytes, block: bytes) -> bytes:
        _check_lengths(keys, block)
        scratch = self._scratch
        handle = scratch.handle
        out = scratch.blocks if len(keys) <= 24 else _ffi.new("uint8_t[]", len(keys))
        for at in range(0, len(keys), 8):
            if failed := self._des.DES_start_operation(keys[at : at + 8], 8, handle):
                raise ValueError(f"DES key setup failed with error {failed}")
            cipher = handle[0]
            if failed := self._ecb.ECB_start_operation(cipher, handle):
                self._des.DES_stop_operation(cipher)
                raise MemoryError(f"ECB setup failed with error {failed}")
            try:
                # ECB_stop_operation frees the DES state it was given, too.
                failed = self._ecb.ECB_encrypt(handle[0], block, out + at, 8)
            finally:
                self._ecb.ECB_stop_operation(handle[0])
            if failed:
                raise ValueError(f"DES failed with error {failed}")
        return _ffi.buffer(out, len(keys))[:]


def proven(backend: Backend) -> bool:
    """``backend`` reproduces RFC 2759 §9.2's NT hash and challenge response."""
    return (
        backend.md4(_CHECK_PASSWORD) == _CHECK_HASH
        and backend.des_encrypt_under(_CHECK_KEYS, _CHECK_CHALLENGE) == _CHECK_RESPONSE
    )


def available() -> list[Backend]:
    """The backends that load here and pass the check, preferred first."""
    found: list[Backend] = []
    for kind in (LibCrypto, PyCryptodome):
        try:
            backend = kind()
        except (OSError, ImportError, AttributeError):  # no library, or it lacks the functions
            continue
        if proven(backend):
            found.append(backend)
    return found


def _choose() -> Backend:
    found = available()
    if not found:
        raise ImportError("neither libcrypto nor pycryptodome gives MD4 and DES here")
    return found[0]


BACKEND = _choose()
md4 = BACKEND.md4
des_encrypt_under = BACKEND.des_encrypt_under


def des_encrypt_block(key: bytes, block: bytes) -> bytes:
    """DES-ECB of one 8-octet block under an 8-octet key (parity bits ignored)."""
    return des_encrypt_under(key, block)
