"""Small pure pieces: rate-limit rendering, the reply and snapshot caches, the change cursor, settings."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, event, insert

from aaa.changes.feed import ChangeCursor
from aaa.db.base import utcnow
from aaa.policies.inputs import OpenSession, PlanSpeed
from aaa.policies.ratelimit import RateLimit
from aaa.radius.cache import SubscriberCache
from aaa.radius.dedup import PENDING, ReplyCache
from aaa.settings import SettingsError, load_settings
from aaa.tables.changes import ChangeEvent
from tests.unit.test_decide import SUB


@pytest.mark.parametrize(
    ("plan", "text"),
    [
        (PlanSpeed("a", 100_000, 50_000), "50M/100M"),
        (PlanSpeed("b", 1_500, 512), "512k/1500k"),
        (PlanSpeed("c", 10_240, 1_024), "1024k/10240k"),
        (
            PlanSpeed("d", 300_000, 150_000, 400_000, 200_000, 250_000, 120_000, 16),
            "150M/300M 200M/400M 120M/250M 16/16",
        ),
        (PlanSpeed("e", 300_000, 150_000, 400_000, 200_000), "150M/300M 200M/400M 150M/300M 1/1"),
        (PlanSpeed("f", 300_000, 150_000, 400_000, None), "150M/300M"),  # half a burst is no burst
    ],
)
def test_rate_limit_rendering(plan: PlanSpeed, text: str) -> None:
    assert plan.rate_limit().render() == text
    assert RateLimit.parse(text).render() == text


@pytest.mark.parametrize("bad", ["", "10Q", "1/2/3", "10M 20M 5M x"])
def test_rate_limit_parse_errors(bad: str) -> None:
    with pytest.raises(ValueError):
        RateLimit.parse(bad)


def test_reply_cache() -> None:
    now = [100.0]
    cache = ReplyCache(30, clock=lambda: now[0])
    key = ("127.0.0.1", 4000, 7, b"a" * 16)
    assert cache.begin(key) is None
    assert cache.begin(key) == PENDING  # in flight
    cache.finish(key, b"reply")
    assert cache.begin(key) == b"reply"
    now[0] += 31
    assert cache.begin(key) is None  # expired: a new request with recycled id/authenticator
    cache.forget(key)
    assert len(cache) == 0


def test_cache_closes_a_nas_s_sessions_in_place() -> None:
    """Accounting-On/Off: the NAS's sessions started by then leave the snapshots (the stale
    copies too); other NASes' and one started after it stay; the snapshots are not dropped."""
    t = utcnow()
    sub = SUB
    old = OpenSession(1, "a", None, None, t - timedelta(hours=1))
    unknown_start = OpenSession(1, "b", None, None, None)
    later = OpenSession(1, "c", None, None, t + timedelta(seconds=1))
    elsewhere = OpenSession(2, "d", None, None, t - timedelta(hours=1))
    cache = SubscriberCache(5.0)
    cache.fill({"maria": sub, "ana": sub}, {"maria": (old, unknown_start, later, elsewhere), "ana": (old,)})
    cache.invalidate("ana")
    cache.close_nas_sessions(1, t)
    entry = cache.get("maria")
    assert entry is not None and entry.subscriber is sub and entry.sessions == (later, elsewhere)
    stale = cache.stale("ana")
    assert cache.get("ana") is None and stale is not None and stale.sessions == ()


def test_a_late_copy_of_an_opening_does_not_count_a_closed_session_again() -> None:
    """A worker applies its own Start and Stop at once and reads them again from the feed poll
    (and from Redis): a poll that read the Start before the Stop was applied delivers it after
    the Stop. That copy is ignored; a new session under the same key (it starts later) counts,
    and so does anything once the closes are forgotten."""
    t = utcnow()
    clock = [0.0]
    cache = SubscriberCache(5.0, clock=lambda: clock[0])
    cache.fill({"maria": SUB}, {})
    session = OpenSession(1, "81a00001", None, "ether1", t)

    def cached() -> tuple[OpenSession, ...]:
        entry = cache.get("maria")
        assert entry is not None
        return entry.sessions

    cache.session_opened("maria", session)  # our own commit, at once
    cache.session_closed("maria", 1, "81a00001")  # the Stop, at once
    cache.session_opened("maria", session)  # the poll's late copy of the Start
    assert cached() == ()
    cache.session_closed("maria", 1, "81a00001")  # ... and of the Stop
    assert cached() == ()

    again = OpenSession(1, "81a00001", None, "ether1", t + timedelta(minutes=5))  # the NAS reused the id
    cache.session_opened("maria", again)
    assert cached() == (again,)

    clock[0] = 31.0  # closes are remembered long enough for any poll, not for ever
    cache.session_closed("maria", 1, "81a00001")
    clock[0] = 62.0
    cache.session_closed("maria", 2, "other")  # forgetting happens as closes come in
    cache.session_opened("maria", again)
    assert cached() == (again,)


def test_a_late_copy_of_an_opening_after_an_accounting_on_is_ignored() -> None:
    t = utcnow()
    cache = SubscriberCache(5.0)
    cache.fill({"maria": SUB}, {})
    before = OpenSession(1, "a", None, None, t - timedelta(minutes=1))
    cache.session_opened("maria", before)
    cache.close_nas_sessions(1, t)
    cache.session_opened("maria", before)  # read by a poll before the Accounting-On was applied
    cache.session_opened("maria", OpenSession(2, "a", None, None, t - timedelta(minutes=1)))  # other NAS
    after = OpenSession(1, "b", None, None, t + timedelta(seconds=1))
    cache.session_opened("maria", after)
    entry = cache.get("maria")
    assert entry is not None and [(s.nas_id, s.acct_session_id) for s in entry.sessions] == [
        (2, "a"),
        (1, "b"),
    ]


def feed_engine() -> Engine:
    engine = create_engine("sqlite://")
    ChangeEvent.__table__.create(engine)  # type: ignore[attr-defined]
    return engine


def commit_changes(engine: Engine, *ids: int) -> None:
    """Feed rows with these ids (service changes of logins u<id>), in one transaction."""
    with engine.begin() as conn:
        conn.execute(
            insert(ChangeEvent),
            [{"id": i, "kind": "service", "keys": f"u{i}", "created_at": utcnow()} for i in ids],
        )


def test_change_cursor_waits_for_late_commits_then_gives_up() -> None:
    engine = feed_engine()
    now = [0.0]
    cursor = ChangeCursor(0, gap_grace=10, clock=lambda: now[0])
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    def commit(*ids: int) -> None:
        commit_changes(engine, *ids)

    with engine.connect() as db:
        commit(1, 2, 4)  # 3 took its id first but has not committed yet
        assert cursor.poll(db) == [("service", "u1"), ("service", "u2"), ("service", "u4")]
        assert cursor.low == 2
        commit(3, 5)
        assert cursor.poll(db) == [("service", "u3"), ("service", "u5")]
        assert cursor.low == 5
        commit(7, 8)  # 6 rolled back: a permanent hole
        assert cursor.poll(db) == [("service", "u7"), ("service", "u8")]
        commit(9)
        assert cursor.poll(db) == [("service", "u9")]
        assert "BETWEEN" in statements[-1]  # only the hole and what is new: 7 and 8 are not read again
        now[0] += 11
        assert cursor.poll(db) == []
        assert cursor.low == 9


def test_change_cursor_skips_the_rows_a_worker_applied_from_its_own_commit() -> None:
    """The accounting worker applies its merge's changes from the merge's result and tells the
    cursor the rows' ids: the poll reads the others only (ids at or below the watermark, already
    read, change nothing)."""
    engine = feed_engine()
    cursor = ChangeCursor(0)

    def commit(*ids: int) -> None:
        commit_changes(engine, *ids)

    with engine.connect() as db:
        commit(1, 2, 3)
        cursor.skip([2])
        assert cursor.poll(db) == [("service", "u1"), ("service", "u3")]
        assert cursor.low == 3
        cursor.skip([5, 1])  # 5 is ours, committed before 4 (another worker's) is
        commit(5)
        assert cursor.poll(db) == []
        assert cursor.low == 3
        commit(4, 6)
        assert cursor.poll(db) == [("service", "u4"), ("service", "u6")]
        assert cursor.low == 6


def test_settings_layers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "aaa.toml"
    path.write_text('database_url = "postgresql://u@db/aaa"\n[radius]\nauth_port = 11812\nworkers = 4\n')
    s = load_settings(path)
    assert s.database_url == "postgresql+psycopg://u@db/aaa"
    assert (s.radius.auth_port, s.radius.workers, s.radius.acct_port) == (11812, 4, 1813)
    monkeypatch.setenv("AAA_RADIUS__WORKERS", "3")
    monkeypatch.setenv("AAA_REDIS_URL", "redis://127.0.0.1:6379/0")
    s = load_settings(path)
    assert (s.radius.workers, s.redis_url) == (3, "redis://127.0.0.1:6379/0")
    assert load_settings(path, radius={"workers": 1}).radius.workers == 1


@pytest.mark.parametrize(
    ("content", "env", "message"),
    [
        ("[radius]\nworkers = 0\n", {}, "radius.workers: Input should be greater than or equal to 1"),
        ("[radius]\nworkers = 1\nacct_workers = 2\n", {}, "acct_workers = 2 exceeds workers = 1"),
        (
            'database_url = "mysql://x"\n',
            {},
            "database_url: Value error, must start with sqlite:// or postgresql://",
        ),
        ("[radius\n", {}, "is not valid TOML"),
        ("", {"AAA_REDIS_URL": "http://x"}, "redis_url: Value error, must be empty"),
        ("[radius]\nnope = 1\n", {}, "radius.nope: Extra inputs are not permitted"),
        ('[radius]\ndictionary = "/nowhere"\n', {}, "dictionary file /nowhere does not exist"),
    ],
)
def test_settings_errors_name_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str, env: dict[str, str], message: str
) -> None:
    path = tmp_path / "aaa.toml"
    path.write_text(content)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(".", r"\.")):
        load_settings(path)


def test_settings_missing_file() -> None:
    with pytest.raises(SettingsError, match="not found"):
        load_settings("/nonexistent/aaa.toml")


def test_example_config_is_valid_and_complete() -> None:
    example = Path(__file__).resolve().parents[2] / "config" / "aaa.toml"
    settings = load_settings(example)
    text = example.read_text()
    for section in ("radius", "accounting", "metrics", "api", "policy", "enforcer", "billing", "jobs"):
        for name in type(getattr(settings, section)).model_fields:
            assert f"{name} =" in text, f"config/aaa.toml does not document {section}.{name}"
    for name in ("database_url", "redis_url", "log_level"):
        assert f"{name} =" in text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (bytes([0, 56]) + bytes.fromhex("20010db8000001"), "2001:db8:0:100::/56"),  # only the octets needed
        (bytes([0, 64]) + bytes.fromhex("20010db800010002") + bytes(8), "2001:db8:1:2::/64"),  # padded to 16
        (bytes([0, 56]) + bytes.fromhex("20010db80000017f"), "2001:db8:0:100::/56"),  # bits past /56 ignored
        (bytes([0, 0]), "::/0"),
        (bytes([0, 64]) + bytes.fromhex("20010db8"), None),  # too short for /64
        (bytes([0, 129]) + bytes(16), None),
        (bytes([0]), None),
    ],
)
def test_ipv6_prefix_decoding_rfc3162(value: bytes, expected: str | None) -> None:
    from aaa.radius.codec import DELEGATED_IPV6_PREFIX, Request

    assert Request(bytes(20), {DELEGATED_IPV6_PREFIX: [value]}).ipv6_prefix(DELEGATED_IPV6_PREFIX) == expected
