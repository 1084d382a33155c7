"""Intake: webhook POSTs against the durable relay and against the no-op floor, same run.

Closed loop (wrk, bench/wrk/events.lua) at concurrency 1, 16 and 64, then open loop at a
fixed rate (bench/loadgen.py) for latency under a steady 1,000 events/s. Both servers run as
separate processes on loopback; only one is loaded at a time. The ratio relay/no-op is the
number that matters on a shared machine.

    python -m bench.intake [--smoke] [--store sqlite|redis|redis://H:P/DB] [--replicas N]
                           [--encryption on|off] [--seconds S] [--rate R]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import IDENTIFICATION_KEY, base_parser, ratio, report, rss_kib
from bench.events import BodyTemplate
from bench.loadgen import LoadResult, open_loop
from bench.procs import ServerProcess, noop_process, redis_server, relay_process
from bench.wrkrun import WrkResult, run_wrk


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument(
        "--store",
        default="sqlite",
        help="sqlite, redis (a throwaway server) or redis://HOST:PORT/DB",
    )
    parser.add_argument("--replicas", type=int, default=1, help="relay processes (Redis only)")
    parser.add_argument("--encryption", choices=["on", "off"], default=None)
    parser.add_argument("--seconds", type=float, default=None, help="per measurement")
    parser.add_argument("--rate", type=float, default=None, help="the fixed rate (events/s)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=None)
    args = parser.parse_args(argv)
    if args.replicas > 1 and args.store == "sqlite":
        parser.error("--replicas above 1 needs --store redis (SQLite is one process's file)")
    return args


@contextlib.contextmanager
def servers(args: argparse.Namespace) -> Iterator[tuple[list[ServerProcess], list[ServerProcess]]]:
    """N relays (sharing one store) and N no-op endpoints."""
    encryption = None if args.encryption is None else args.encryption == "on"
    with contextlib.ExitStack() as stack:
        store: str | None = None
        if args.store != "sqlite":
            store = stack.enter_context(redis_server(None if args.store == "redis" else args.store))
        relays = []
        for n in range(args.replicas):
            data = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"bench-{n}-")))
            relays.append(
                stack.enter_context(relay_process(data, store=store, encryption=encryption))
            )
        noops = [stack.enter_context(noop_process()) for _ in range(args.replicas)]
        yield relays, noops


def fixed_rate(urls: list[str], rate: float, seconds: float) -> LoadResult:
    template = BodyTemplate()
    nonce = uuid.uuid4().hex[:12]
    return asyncio.run(
        open_loop(
            urls,
            rate=rate,
            seconds=seconds,
            body=lambda i, _due: template.body(f"{nonce}-{i}"),
            key=IDENTIFICATION_KEY,
        )
    )


def closed_row(c: int, noop: WrkResult, relay: WrkResult) -> dict[str, Any]:
    return {
        "load": f"wrk c={c}",
        "noop_rps": noop.rps,
        "noop_p50_ms": noop.p50_ms,
        "noop_p99_ms": noop.p99_ms,
        "relay_rps": relay.rps,
        "relay_p50_ms": relay.p50_ms,
        "relay_p99_ms": relay.p99_ms,
        "ratio": ratio(relay.rps, noop.rps),
        "errors": noop.errors + relay.errors,
    }


def open_row(rate: float, noop: LoadResult, relay: LoadResult) -> dict[str, Any]:
    return {
        "load": f"fixed {rate:g}/s",
        "noop_rps": noop.rate,
        "noop_p50_ms": noop.p(50),
        "noop_p99_ms": noop.p(99),
        "relay_rps": relay.rate,
        "relay_p50_ms": relay.p(50),
        "relay_p99_ms": relay.p(99),
        "ratio": ratio(relay.rate, noop.rate),
        "errors": noop.errors + relay.errors,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    seconds = args.seconds or (1.0 if args.smoke else 8.0)
    rate = args.rate or (200.0 if args.smoke else 1000.0)
    levels = args.concurrency or ([1, 16] if args.smoke else [1, 16, 64])
    rows: list[dict[str, Any]] = []
    notes: dict[str, Any] = {
        "store": args.store,
        "replicas": args.replicas,
        "encryption": args.encryption or "relay default",
        "noop": "uvicorn+starlette, reads the body, answers 200 {seq,duplicate}; no auth, "
        "no JSON parse, no storage (bench/noop_server.py)",
    }
    if args.replicas > 1:
        notes["spread"] = (
            f"one wrk per replica with c/{args.replicas} connections each (at least 1); the "
            "fixed rate goes round-robin; no-op endpoints likewise"
        )
    with servers(args) as (relays, noops):
        relay_urls = [r.url for r in relays]
        noop_urls = [n.url for n in noops]
        # Warm both (imports, first connections, SQLite pages) before measuring.
        run_wrk(noop_urls, connections=4, seconds=1)
        run_wrk(relay_urls, connections=4, seconds=1)
        for c in levels:
            noop = run_wrk(noop_urls, connections=c, seconds=seconds)
            relay = run_wrk(relay_urls, connections=c, seconds=seconds)
            rows.append(closed_row(c, noop, relay))
        noop_fixed = fixed_rate(noop_urls, rate, seconds)
        relay_fixed = fixed_rate(relay_urls, rate, seconds)
        rows.append(open_row(rate, noop_fixed, relay_fixed))
        notes["generator_worst_lag_ms"] = {
            "noop": round(noop_fixed.worst_dispatch_lag_ms, 2),
            "relay": round(relay_fixed.worst_dispatch_lag_ms, 2),
        }
        notes["relay_rss_kib"] = [rss_kib(r.pid) for r in relays]
    report("intake" + _suffix(args), rows, args=args, notes=notes, started=started)
    return 0


def _suffix(args: argparse.Namespace) -> str:
    parts = []
    if args.store != "sqlite":
        parts.append(f"redis-x{args.replicas}")
    if args.encryption:
        parts.append(f"enc-{args.encryption}")
    return "".join(f"-{p}" for p in parts)


if __name__ == "__main__":
    sys.exit(main())
