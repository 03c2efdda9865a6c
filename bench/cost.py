"""The request path's own CPU, without sockets: how many microseconds one worker spends on an
Access-Request from the datagram to the reply octets, per method, on the bench data set.

    .venv/bin/python -m bench.cost [--requests 20000] [--profile pap [--sort cumulative]]
    valgrind --tool=callgrind .venv/bin/python -m bench.cost --subscribers 2000 --requests 2000 --rounds 1

Under callgrind (instructions, not seconds: the same count whatever else the machine does), a
small data set keeps the snapshot load short.

A RADIUS worker loads the bench data set (bench.run loads it) and handles pre-built datagrams
through the same entry point as its UDP socket; replies go to a port that counts them. The
figure is what a socket-level benchmark can at best divide into one core (the kernel's UDP
work and the load generator come on top). ``--profile`` prints where the time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import time

from aaa import metrics
from aaa.composition import build
from aaa.radius.server import RadiusWorker
from aaa.settings import Settings
from bench import dataset
from bench.loadgen import Builder, chap_builder, mschap2_builder, pap_builder
from bench.run import OURS_DB, dsn


class CountingPort:
    """Stands for the worker's UDP socket (the request path only sends): counts the replies."""

    def __init__(self) -> None:
        self.sent = 0

    def sendto(self, data: bytes, addr: tuple[str, int]) -> None:
        self.sent += 1


def datagrams(builder: Builder, count: int) -> list[bytes]:
    return [builder(n % 256, os.urandom(16)) for n in range(count)]


def run(worker: RadiusWorker, packets: list[bytes]) -> float:
    """Microseconds per request, every reply accounted for."""
    port = worker.auth_port
    assert isinstance(port, CountingPort)
    before = port.sent
    started = time.process_time()
    for n, data in enumerate(packets):
        worker.on_auth(data, ("127.0.0.1", 40000 + n % 20000))
    spent = time.process_time() - started
    assert port.sent - before == len(packets), f"{port.sent - before} replies for {len(packets)}"
    return spent / len(packets) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", choices=("pap", "chap", "mschapv2"))
    parser.add_argument("--sort", default="tottime", help="the profile's order (cumulative, ...)")
    parser.add_argument(
        "--subscribers", type=int, help="a data set of this size (bench.scale loads it): small for callgrind"
    )
    parser.add_argument("--only", nargs="+", choices=("pap", "chap", "mschapv2"), help="these methods alone")
    args = parser.parse_args()
    db = OURS_DB
    if args.subscribers:
        from bench import scale

        db = scale.database(args.subscribers)
        dataset.resize(args.subscribers)
    settings = Settings(database_url=dsn(db).replace("postgresql://", "postgresql+psycopg://"))
    worker = RadiusWorker(settings, build(settings).factory, None, name="cost")
    worker.load()
    metrics.buffer_in_this_thread()  # as the worker's event loop does
    loop = asyncio.new_event_loop()
    worker._loop = loop
    worker.auth_port = CountingPort()  # type: ignore[assignment]
    secret = dataset.SECRET.encode()
    users = dataset.offline_users()
    builders = {"pap": pap_builder, "chap": chap_builder, "mschapv2": mschap2_builder}
    # Every datagram is new (a repeated one would be answered from the duplicate cache).
    makers = {kind: make(users, secret) for kind, make in builders.items() if kind in (args.only or builders)}
    for make in makers.values():  # a first pass: every reply path warm
        run(worker, datagrams(make, 2000))
    if args.profile:
        sent = datagrams(makers[args.profile], args.requests)
        profiler = cProfile.Profile()
        profiler.enable()
        run(worker, sent)
        profiler.disable()
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(30)
        return
    for kind, make in makers.items():
        costs = sorted(run(worker, datagrams(make, args.requests)) for _ in range(args.rounds))
        median = costs[len(costs) // 2]
        print(f"{kind:10s} {costs[0]:6.1f} µs per request (best of {args.rounds}; median {median:.1f})")
    # What each request leaves to the auth-log thread, which shares the worker's interpreter.
    rows, worker.recorder._rows = worker.recorder._rows, []
    started = time.process_time()
    worker.recorder._write(rows, {}, set(), {}, [])
    per_row = (time.process_time() - started) / len(rows) * 1e6
    print(f"auth log  {per_row:6.1f} µs per row written ({len(rows)} rows)")
    worker.recorder.close()


if __name__ == "__main__":
    main()
