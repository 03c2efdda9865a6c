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


def test_requests_before_the_oldest_expiry_skip_the_scan_and_each_entry_still_expires() -> None:
    """The cache remembers when its oldest entry expires and does not look before then; entries
    added or refreshed since expire later, so each still goes at its own time."""
    clock = Clock()
    cache = ReplyCache(10, clock)
    cache.begin(key(1))  # expires at 110
    clock.now = 105
    cache.begin(key(2))  # 115
    cache.finish(key(1), b"one")  # refreshed: 115, behind key 2
    clock.now = 112
    cache.begin(key(3))  # 122; nothing has expired yet
    assert len(cache) == 3
    clock.now = 115.5
    cache.begin(key(4))
    assert set(cache._entries) == {key(3), key(4)}
    clock.now = 130
    assert cache.begin(key(5)) is None
    assert set(cache._entries) == {key(5)}
    cache.forget(key(5))
    clock.now = 131  # emptied: what is added now expires after anything the scan skipped for
    cache.begin(key(6))
    clock.now = 141.5
    cache.begin(key(7))
    assert set(cache._entries) == {key(7)}
