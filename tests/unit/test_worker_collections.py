"""A worker's full garbage collections run on a timer, not on Python's heuristic."""

from __future__ import annotations

import asyncio
import gc
import weakref

from aaa.node.processes import _collect_every, full_collections_on_a_timer


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def test_the_heuristic_never_starts_a_full_collection_and_the_timer_does() -> None:
    before = gc.get_threshold()
    try:
        full_collections_on_a_timer(300)
        assert gc.get_threshold()[:2] == before[:2] and gc.get_threshold()[2] >= 1 << 30
        a, b = Node(), Node()
        a.other, b.other = b, a
        gone = weakref.ref(a)
        gc.collect(1)  # survives the young generations: only a full collection can free it now
        gc.collect(1)
        del a, b
        gc.collect(1)
        assert gone() is not None

        async def two_rounds() -> None:
            task = asyncio.get_running_loop().create_task(_collect_every(0.05))
            await asyncio.sleep(0.12)
            task.cancel()

        asyncio.run(two_rounds())
        assert gone() is None
    finally:
        gc.set_threshold(*before)


def test_zero_leaves_python_its_heuristic() -> None:
    before = gc.get_threshold()
    full_collections_on_a_timer(0)
    assert gc.get_threshold() == before
