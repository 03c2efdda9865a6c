"""Metric updates a RADIUS worker's event loop makes are summed in the process and written once
a second; updates from any other thread go straight through."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram

from aaa import metrics


@pytest.fixture
def buffering() -> Iterator[None]:
    metrics.buffer_in_this_thread()
    yield
    metrics._loop_thread = None


def test_counter_updates_wait_for_the_flush(buffering: None) -> None:
    counter = Counter("t_requests", "requests", ["kind"], registry=CollectorRegistry())
    buffered = metrics.Buffered(counter.labels("pap"))
    for _ in range(5):
        buffered.inc()
    buffered.inc(2.5)
    assert counter.labels("pap")._value.get() == 0
    metrics.flush()
    assert counter.labels("pap")._value.get() == 7.5
    metrics.flush()  # nothing new: nothing added
    assert counter.labels("pap")._value.get() == 7.5


def test_histogram_observations_land_in_their_buckets(buffering: None) -> None:
    histogram = Histogram("t_seconds", "latency", buckets=(0.001, 0.01, 0.1), registry=CollectorRegistry())
    buffered = metrics.Buffered(histogram)
    for value in (0.0005, 0.001, 0.005, 0.05, 3.0):
        buffered.observe(value)
    metrics.flush()
    direct = Histogram("t_direct", "latency", buckets=(0.001, 0.01, 0.1), registry=CollectorRegistry())
    for value in (0.0005, 0.001, 0.005, 0.05, 3.0):
        direct.observe(value)
    assert [b.get() for b in histogram._buckets] == [b.get() for b in direct._buckets] == [2, 1, 1, 1]
    assert histogram._sum.get() == pytest.approx(direct._sum.get())


def test_observations_of_zero_are_counted(buffering: None) -> None:
    histogram = Histogram("t_zero", "zero", buckets=(0.001, 0.01), registry=CollectorRegistry())
    buffered = metrics.Buffered(histogram)
    buffered.observe(0.0)
    buffered.observe(0.0)
    metrics.flush()
    assert [b.get() for b in histogram._buckets] == [2, 0, 0]


def test_other_threads_update_at_once(buffering: None) -> None:
    counter = Counter("t_other", "other", registry=CollectorRegistry())
    buffered = metrics.Buffered(counter)
    thread = threading.Thread(target=buffered.inc)
    thread.start()
    thread.join()
    assert counter._value.get() == 1


def test_without_a_buffering_thread_updates_are_immediate() -> None:
    counter = Counter("t_plain", "plain", registry=CollectorRegistry())
    metrics.Buffered(counter).inc()
    assert counter._value.get() == 1
