"""`aaa trace`: watch a running node's requests and replies, like `radiusd -X`, but bounded
(time and packets) and filtered (NAS, login), so it can run in production."""

from __future__ import annotations

import argparse
import time
from typing import Any

from aaa.cli.common import Command, settings_of, transaction


def cmd_trace(args: argparse.Namespace) -> int:
    from aaa.cli.logs import nas_id_of
    from aaa.radius.trace import begin_trace, end_trace, trace_lines

    settings = settings_of(args)
    with transaction(settings) as session:
        trace = begin_trace(
            session,
            nas_id=nas_id_of(session, args.nas),
            login=args.login,
            seconds=args.seconds,
            packets=args.packets,
        )
        trace_id, until, packets = trace.id, trace.until.timestamp(), trace.max_packets
    what = " ".join(
        x for x in (f"NAS {args.nas}" if args.nas else "", f"login {args.login}" if args.login else "") if x
    )
    print(
        f"tracing {what or 'every request'} for {args.seconds} s or {packets} packets "
        f"(trace {trace_id}; Ctrl-C stops)",
        flush=True,
    )
    after = 0
    grace = settings.radius.authlog_flush_ms / 1000 + 1  # the workers write lines in their flush
    received: set[str] = set()
    answered: set[str] = set()
    last_packet_at: float | None = None
    try:
        # Until the last packet, then until every packet's answer is shown: an accounting answer
        # is sent (and written) only once its record is stored, after the request's lines.
        while time.time() < until + grace:
            if len(received) >= packets:
                last_packet_at = last_packet_at or time.time()
                if received <= answered or time.time() > last_packet_at + grace:
                    break
            time.sleep(0.2)
            with transaction(settings) as session:
                lines = trace_lines(session, trace_id, after)
            for _, text in lines:
                print(text, flush=True)
                number = text.split(")", 1)[0]
                if " Received " in text or " Dropped " in text:
                    received.add(number)
                if " Sent " in text or " Dropped " in text:
                    answered.add(number)
            after = lines[-1][0] if lines else after
    except KeyboardInterrupt:
        pass
    finally:
        with transaction(settings) as session:
            end_trace(session, trace_id)
    print(f"trace {trace_id} ended: {len(received)} packet(s)")
    return 0


def register(sub: Any, command: Command) -> None:
    p = command("trace", cmd_trace, "show a running node's requests and replies (bounded, filtered)")
    p.add_argument("--nas", help="NAS name")
    p.add_argument("--login", help="PPPoE login")
    p.add_argument("--seconds", type=int, default=60, help="stop after this long (at most 3600)")
    p.add_argument("--packets", type=int, default=100, help="stop after this many requests")
