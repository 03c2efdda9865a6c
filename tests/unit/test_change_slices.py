"""A worker applies the change feed in slices, for a bounded time at a turn of its event loop:
a poll or a merge that brings tens of thousands of changes (the reaper closing a dead NAS's
sessions, an accounting wave) lets the requests that arrive meanwhile through between the
turns, and keeps the changes in their order."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy.orm import sessionmaker

from aaa.changes.feed import Change
from aaa.changes.listener import SLICE, TURN_SECONDS, ChangeListener
from aaa.tables.changes import ChangeKind


def closes(first: int, count: int) -> list[Change]:
    return [(ChangeKind.SESSION_CLOSE, f'["login{i}", 1, "s{i}"]') for i in range(first, first + count)]


def test_a_large_delivery_is_applied_a_turn_at_a_time_with_other_work_between() -> None:
    now = [0.0]
    applied: list[list[Change]] = []

    def apply(batch: list[Change]) -> None:
        applied.append(batch)
        now[0] += TURN_SECONDS * 0.4  # each slice takes 40 % of a turn: three slices a turn

    listener = ChangeListener(sessionmaker(), apply, poll_interval=1.0, clock=lambda: now[0])
    served: list[int] = []  # how many slices were applied when a "datagram" was served

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        listener.deliver(closes(0, 5 * SLICE))
        listener.deliver(closes(5 * SLICE, SLICE // 2))  # a later delivery waits its turn
        for _ in range(2):
            loop.call_soon(lambda: served.append(len(applied)))
            await asyncio.sleep(0)
        while listener._draining:
            await asyncio.sleep(0)

    asyncio.run(scenario())
    assert [len(batch) for batch in applied] == [SLICE] * 5 + [SLICE // 2]
    assert [change for batch in applied for change in batch] == closes(0, 5 * SLICE + SLICE // 2)
    assert served == [3, 6]  # served after the first turn's three slices, then after the rest


def test_a_quick_delivery_is_applied_in_one_turn() -> None:
    applied: list[list[Change]] = []
    listener = ChangeListener(sessionmaker(), applied.append, poll_interval=1.0, clock=lambda: 0.0)

    async def scenario() -> None:
        listener.deliver(closes(0, 3 * SLICE + 1))
        await asyncio.sleep(0)
        assert not listener._draining

    asyncio.run(scenario())
    assert [len(batch) for batch in applied] == [SLICE, SLICE, SLICE, 1]


def test_a_slice_that_fails_does_not_hold_back_the_rest(caplog: pytest.LogCaptureFixture) -> None:
    applied: list[list[Change]] = []

    def apply(batch: list[Change]) -> None:
        if not applied:
            applied.append([])
            raise ValueError("a change this worker could not apply")
        applied.append(batch)

    listener = ChangeListener(sessionmaker(), apply, poll_interval=1.0)

    async def scenario() -> None:
        listener.deliver(closes(0, SLICE + 1))
        while listener._draining:
            await asyncio.sleep(0)

    with caplog.at_level(logging.ERROR):
        asyncio.run(scenario())
    assert [len(batch) for batch in applied] == [0, 1]
    assert "could not apply" in caplog.text
