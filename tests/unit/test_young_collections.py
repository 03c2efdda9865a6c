"""A worker collects its young generations on a timer (aaa.node.processes.collect_young_every):
Python counts them as allocations net of deallocations, so a program that frees an old object
for each new one it keeps, as the reply cache does, lets the youngest generation grow without
a collection, and the one that finally comes walks all of it while requests wait."""

from __future__ import annotations

import asyncio
import gc
from collections import deque

from aaa.node.processes import collect_young_every


def churn(kept: deque[tuple[float, list[int]]], rounds: int) -> None:
    """Keep a new tracked object and free the oldest one (frozen, so older than any generation),
    as a full reply cache does: the young count does not move."""
    for n in range(rounds):
        kept.append((float(n), [n]))
        kept.popleft()


def youngest_after(timer: bool) -> int:
    async def scenario() -> int:
        kept: deque[tuple[float, list[int]]] = deque((float(n), [n]) for n in range(60_000))
        gc.collect()
        gc.freeze()  # like a worker's snapshots; the cache's old entries die from here
        task = asyncio.ensure_future(collect_young_every(0.001)) if timer else None
        try:
            largest = 0
            for _ in range(50):
                churn(kept, 1000)
                largest = max(largest, len(gc.get_objects(0)))
                await asyncio.sleep(0.002)
            return largest
        finally:
            if task is not None:
                task.cancel()
            gc.unfreeze()

    return asyncio.run(scenario())


def test_without_the_timer_the_youngest_generation_grows_past_its_threshold() -> None:
    assert youngest_after(timer=False) > 10 * gc.get_threshold()[0]


def test_with_the_timer_it_stays_near_what_one_interval_adds() -> None:
    assert youngest_after(timer=True) < 3_000
