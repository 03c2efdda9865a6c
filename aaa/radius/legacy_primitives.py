"""MD4 and one-block DES, called straight in pycryptodome's C libraries.

MS-CHAP needs them and OpenSSL 3 keeps both in its legacy provider, so they come from
pycryptodome. Its Python classes spend 8-15 µs building an object per call (argument
parsing, smart pointers, mode factories), and an MS-CHAPv2 request makes five calls: that
was about half of its server CPU. The same C functions called through cffi cost 3-4 µs.
The declarations below are the ones pycryptodome's own modules make for these libraries.
"""

from __future__ import annotations

import importlib.util
import threading
from typing import Any

import cffi

_ffi = cffi.FFI()
_ffi.cdef(
    """
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


def _library(module: str) -> Any:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ImportError(f"pycryptodome's {module} library is missing")
    return _ffi.dlopen(spec.origin)


_md4 = _library("Crypto.Hash._MD4")
_des = _library("Crypto.Cipher._raw_des")
_ecb = _library("Crypto.Cipher._raw_ecb")


class _Scratch(threading.local):
    """What one thread's calls reuse instead of allocating per call: a fresh MD4 state to copy
    from, one to work in (both freed with the thread's scratch), and the output buffers."""

    def __init__(self) -> None:
        self.md4_fresh = _md4_state()
        self.md4_work = _md4_state()
        self.digest = _ffi.new("uint8_t[16]")
        self.handle = _ffi.new("void **")
        self.blocks = _ffi.new("uint8_t[24]")


def _md4_state() -> Any:
    state = _ffi.new("void **")
    if _md4.md4_init(state):
        raise MemoryError("md4_init failed")
    return _ffi.gc(state[0], _md4.md4_destroy)


_scratch = _Scratch()


def md4(data: bytes) -> bytes:
    scratch = _scratch
    work, digest = scratch.md4_work, scratch.digest
    failed = (
        _md4.md4_copy(scratch.md4_fresh, work)
        or _md4.md4_update(work, data, len(data))
        or _md4.md4_digest(work, digest)
    )
    if failed:
        raise ValueError(f"MD4 failed with error {failed}")
    return _ffi.buffer(digest)[:]


def des_encrypt_block(key: bytes, block: bytes) -> bytes:
    """DES-ECB of one 8-octet block under an 8-octet key (parity bits ignored)."""
    return des_encrypt_under(key, block)


def des_encrypt_under(keys: bytes, block: bytes) -> bytes:
    """DES-ECB of one 8-octet block under each 8-octet key of ``keys`` in turn, the results
    joined (MS-CHAP's challenge response is three of them: one call, one pair of buffers)."""
    if len(keys) % 8 or not keys or len(block) != 8:
        raise ValueError("DES takes 8-octet keys and an 8-octet block")
    scratch = _scratch
    handle = scratch.handle
    out = scratch.blocks if len(keys) <= 24 else _ffi.new("uint8_t[]", len(keys))
    for at in range(0, len(keys), 8):
        if failed := _des.DES_start_operation(keys[at : at + 8], 8, handle):
            raise ValueError(f"DES key setup failed with error {failed}")
        cipher = handle[0]
        if failed := _ecb.ECB_start_operation(cipher, handle):
            _des.DES_stop_operation(cipher)
            raise MemoryError(f"ECB setup failed with error {failed}")
        try:
            # ECB_stop_operation frees the DES state it was given, too.
            failed = _ecb.ECB_encrypt(handle[0], block, out + at, 8)
        finally:
            _ecb.ECB_stop_operation(handle[0])
        if failed:
            raise ValueError(f"DES failed with error {failed}")
    return _ffi.buffer(out, len(keys))[:]
