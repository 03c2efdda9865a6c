"""Timing a call many times: median and 95th percentile in milliseconds (bench.search,
bench.console)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def timed(call: Callable[[], Any], runs: int) -> tuple[Any, float, float]:
    """The last result of ``runs`` calls, and the median and p95 of their times in ms."""
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return result, statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]
