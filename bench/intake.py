"""Intake: webhook POSTs against the durable relay and against the no-op floor, same run.

Closed loop (wrk, bench/wrk/events.lua) at concurrency 1, 16 and 64, then open loop at a
fixed rate (bench/loadgen.py) for latency under a steady 1,000 events/s. Both servers run as
separate processes on loopback; only one is loaded at a time. The ratio relay/no-op is the
number that matters on a shared machine.

    python -m bench.intake [--smoke] [--store sqlite|redis|redis://H:P/DB] [--replicas N]
                           [--encryption on|off] [--seconds S] [--rate R]
                           [--floor asgi|starlette]

The floor is a bare ASGI endpoint on the same uvicorn (issue 20); `--floor starlette` puts
Starlette's routing, Request and Response in it, as the floor was before.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
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
    parser.add_argument("--floor", choices=["asgi", "starlette"], default="asgi")
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
        noops = [stack.enter_context(floor_process(args.floor)) for _ in range(args.replicas)]
        yield relays, noops


def floor_process(kind: str) -> ServerProcess:
    """The no-op endpoint (bench/noop_server.py): bare ASGI, or behind Starlette."""
    if kind == "asgi":
        return noop_process()
    return ServerProcess([sys.executable, "-m", "bench.noop_server", "--port", "0", "--starlette"])


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


def cpu_seconds(pids: list[int]) -> tuple[float, float]:
    """CPU time (user + system) of the processes' main threads, and of all their threads."""
    tick = os.sysconf("SC_CLK_TCK")
    main = every = 0.0
    for pid in pids:
        for task in Path(f"/proc/{pid}/task").iterdir():
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            spent = (int(fields[11]) + int(fields[12])) / tick
            every += spent
            if task.name == str(pid):
                main += spent
    return main, every


def measured_wrk(
    servers: list[ServerProcess], c: int, seconds: float
) -> tuple[WrkResult, float, float]:
    """wrk at c connections, and the servers' CPU per answered request (µs): loop, all threads."""
    pids = [s.pid for s in servers]
    main_before, every_before = cpu_seconds(pids)
    result = run_wrk([s.url for s in servers], connections=c, seconds=seconds)
    main_after, every_after = cpu_seconds(pids)
    per = 1e6 / result.requests if result.requests else float("nan")
    return result, (main_after - main_before) * per, (every_after - every_before) * per


def closed_row(
    c: int, noop: tuple[WrkResult, float, float], relay: tuple[WrkResult, float, float]
) -> dict[str, Any]:
    (floor, _, floor_cpu), (served, relay_loop_cpu, relay_cpu) = noop, relay
    return {
        "load": f"wrk c={c}",
        "noop_rps": floor.rps,
        "noop_p50_ms": floor.p50_ms,
        "noop_p99_ms": floor.p99_ms,
        "relay_rps": served.rps,
        "relay_p50_ms": served.p50_ms,
        "relay_p99_ms": served.p99_ms,
        "ratio": ratio(served.rps, floor.rps),
        # CPU per request (µs): the no-op's, the relay's event loop, the relay's every thread.
        "noop_cpu_us": floor_cpu,
        "relay_loop_cpu_us": relay_loop_cpu,
        "relay_cpu_us": relay_cpu,
        "errors": floor.errors + served.errors,
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
        "noop_cpu_us": None,
        "relay_loop_cpu_us": None,
        "relay_cpu_us": None,
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
        "noop": f"uvicorn + {'a bare ASGI app' if args.floor == 'asgi' else 'starlette'}, "
        "reads the body, answers 200 {seq,duplicate}; no auth, no JSON parse, no storage "
        "(bench/noop_server.py)",
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
            noop = measured_wrk(noops, c, seconds)
            relay = measured_wrk(relays, c, seconds)
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
    if args.floor != "asgi":
        parts.append(f"floor-{args.floor}")
    return "".join(f"-{p}" for p in parts)


if __name__ == "__main__":
    sys.exit(main())
