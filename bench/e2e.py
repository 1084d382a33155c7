"""End to end: a webhook's POST to its arrival at 1, 10 and 100 websocket consoles.

Beside each relay cell, the floor in the same run: a bare `websockets` broadcast server
(bench/broadcast_server.py) handed the same entry frames over one websocket, no HTTP and no
storage. The load generator (open loop, bench/loadgen.py) runs in this process and embeds
each request's due time (time.time() clock) in its message id; the consoles run in one or
two other processes (bench/e2e_clients.py) and subtract it on arrival. Latency is per delivered
frame (each event counts once per console).

    python -m bench.e2e [--smoke] [--store sqlite|redis|redis://H:P/DB] [--replicas N]
                        [--seconds S] [--consoles 1 10 100] [--rates 100 1000]
                        [--compression on|off]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
import tempfile
import time
import uuid
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from websockets.asyncio.client import connect

from bench.common import CLIENT_TOKEN, IDENTIFICATION_KEY, base_parser, percentile, report
from bench.events import BodyTemplate, event
from bench.loadgen import open_loop
from bench.procs import ROOT, broadcast_process, redis_server, relay_process
from relay.entries import entry_from_event


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--store", default="sqlite")
    parser.add_argument(
        "--replicas",
        type=int,
        default=1,
        help="relays (Redis only); consoles and webhooks are spread over them round-robin",
    )
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--consoles", type=int, nargs="+", default=None)
    parser.add_argument("--rates", type=float, nargs="+", default=None)
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument(
        "--compression",
        choices=["on", "off"],
        default="on",
        help="whether consoles offer permessage-deflate (kenar-tui's link does; the relay and "
        "the floor accept it)",
    )
    args = parser.parse_args(argv)
    if args.replicas > 1 and args.store == "sqlite":
        parser.error("--replicas above 1 needs --store redis")
    return args


def floor_frames() -> Callable[[int, str], str]:
    """The relay's entry frame for the sample event, with the message id swapped in."""
    mark = "MESSAGE-ID-MARK"
    entry = entry_from_event(event(mark)).entry
    entry["received_at"] = "2026-01-01T00:00:00.000000Z"
    payload = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
    head, *rest = payload.split(mark)

    def frame(seq: int, message_id: str) -> str:
        return f'{{"type":"entry","seq":{seq},"entry":{head}{message_id.join(rest)}}}'

    return frame


async def publish(url: str, rate: float, seconds: float) -> int:
    """Open-loop broadcast through the floor server; returns frames sent."""
    frame = floor_frames()
    total = int(rate * seconds)
    async with connect(url, max_size=None) as ws:
        await ws.send('{"type":"publish"}')
        start, wall = time.perf_counter(), time.time()
        i = 0
        while i < total:
            now = time.perf_counter()
            while i < total and start + i / rate <= now:
                due_ns = int((wall + i / rate) * 1e9)
                await ws.send(frame(i + 1, f"e2e-{due_ns}-{i}"))
                i += 1
            await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
        await asyncio.sleep(0.2)  # let the last frames leave before closing
    return total


async def post_webhooks(urls: list[str], rate: float, seconds: float) -> int:
    template = BodyTemplate()
    result = await open_loop(
        urls,
        rate=rate,
        seconds=seconds,
        key=IDENTIFICATION_KEY,
        connections=32,
        # The due time, not the write time: a request held back because the relay is slow
        # to answer counts that wait too (open loop).
        body=lambda i, due: template.body(f"e2e-{int(due * 1e9)}-{i}"),
    )
    return result.ok


def start_clients(
    urls: list[str], n: int, expect: int, procs: int, tmp: Path, token: str, deflate: bool = True
) -> list[tuple[subprocess.Popen[str], Path]]:
    started = []
    extra = [] if deflate else ["--no-compression"]
    shares = [n // procs + (1 if k < n % procs else 0) for k in range(min(procs, n))]
    for k, share in enumerate(shares):
        url = urls[k % len(urls)]
        since = 0
        if token:
            since = int(
                httpx.get(url.replace("ws", "http", 1).removesuffix("/ws") + "/healthz").json()[
                    "head"
                ]
            )
        out = tmp / f"lat-{k}-{uuid.uuid4().hex[:6]}.bin"
        argv = [
            sys.executable,
            "-m",
            "bench.e2e_clients",
            "--url",
            url,
            "--token",
            token,
            *extra,
            "--since",
            str(since),
            "--n",
            str(share),
            "--expect",
            str(expect),
            "--out",
            str(out),
        ]
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        started.append((proc, out))
    for proc, _ in started:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"the console clients did not connect: {line!r}")
    return started


def collect(started: list[tuple[subprocess.Popen[str], Path]]) -> tuple[list[float], int]:
    values: array[int] = array("q")
    received = 0
    for proc, out in started:
        text, _ = proc.communicate(timeout=120)
        received += int(json.loads(text.strip().splitlines()[-1])["received"])
        with out.open("rb") as fh:
            values.frombytes(fh.read())
        out.unlink()
    return [v / 1e6 for v in values], received


def cell(
    kind: str,
    urls: list[str],
    n: int,
    rate: float,
    seconds: float,
    args: argparse.Namespace,
    tmp: Path,
) -> dict[str, Any]:
    expect = int(rate * seconds)
    token = CLIENT_TOKEN if kind == "relay" else ""
    ws_urls = [u.replace("http", "ws", 1) + "/ws" for u in urls] if kind == "relay" else urls
    deflate = args.compression == "on"
    started = start_clients(ws_urls, n, expect, args.client_procs, tmp, token, deflate)
    if kind == "relay":
        sent = asyncio.run(post_webhooks(urls, rate, seconds))
    else:
        sent = asyncio.run(publish(urls[0], rate, seconds))
    latencies, received = collect(started)
    return {
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "delivered": received / (sent * n) if sent else 0.0,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    seconds = args.seconds or (1.0 if args.smoke else 5.0)
    consoles = args.consoles or ([1, 10] if args.smoke else [1, 10, 100])
    rates = args.rates or ([100.0] if args.smoke else [100.0, 1000.0])
    rows: list[dict[str, Any]] = []
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-e2e-")))
        store = None
        if args.store != "sqlite":
            store = stack.enter_context(redis_server(None if args.store == "redis" else args.store))
        relays = [
            stack.enter_context(relay_process(tmp / f"relay-{k}", store=store))
            for k in range(args.replicas)
        ]
        floor = stack.enter_context(broadcast_process(args.compression == "on"))
        for n in consoles:
            for rate in rates:
                relay = cell("relay", [r.url for r in relays], n, rate, seconds, args, tmp)
                bare = cell("floor", [floor.url], n, rate, seconds, args, tmp)
                rows.append(
                    {
                        "consoles": n,
                        "events_per_s": rate,
                        "floor_p50_ms": bare["p50_ms"],
                        "floor_p99_ms": bare["p99_ms"],
                        "relay_p50_ms": relay["p50_ms"],
                        "relay_p99_ms": relay["p99_ms"],
                        "floor_delivered": bare["delivered"],
                        "relay_delivered": relay["delivered"],
                    }
                )
    notes = {
        "store": args.store,
        "compression": args.compression,
        "replicas": args.replicas,
        "delivered": "share of (events sent x consoles) that arrived before the clients "
        "went idle; below 1.0 means consoles were cut off or fell behind",
    }
    suffix = f"-redis-x{args.replicas}" if args.store != "sqlite" else ""
    report("e2e" + suffix, rows, args=args, notes=notes, started=started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
