"""The reply cache for retransmissions (RFC 5080 §2.2.2) expires a few entries per request."""

from __future__ import annotations

from aaa.radius.dedup import EXPIRE_AT_ONCE, PENDING, ReplyCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def key(n: int) -> tuple[str, int, int, bytes]:
    return ("127.0.0.1", 40000 + n, n % 256, n.to_bytes(16, "big"))


def test_a_retransmission_gets_the_reply_until_it_expires() -> None:
    clock = Clock()
    cache = ReplyCache(30, clock)
    assert cache.begin(key(1)) is None
    assert cache.begin(key(1)) == PENDING
    cache.finish(key(1), b"reply")
    clock.now += 29
    assert cache.begin(key(1)) == b"reply"
    clock.now += 2
    assert cache.begin(key(1)) is None  # a new request with an old key, not the old reply


def test_after_a_pause_the_backlog_goes_a_little_per_request() -> None:
    clock = Clock()
    cache = ReplyCache(30, clock)
    for n in range(1000):
        cache.begin(key(n))
        cache.finish(key(n), b"reply")
    clock.now += 31
    cache.begin(key(5))  # expired but maybe still held: new again, and kept in expiry order
    assert len(cache) <= 1000 - EXPIRE_AT_ONCE + 1
    for n in range(2000, 2000 + 1000 // EXPIRE_AT_ONCE + 1):
        cache.begin(key(n))
    assert key(5) in cache._entries and all(key(n) not in cache._entries for n in range(6, 1000))
