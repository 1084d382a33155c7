"""Console stand-ins for bench/e2e.py: N websocket clients in one process, timing arrivals.

Each client connects (with the relay token), sends `hello` with `--since`, waits for `live`;
when all are live the process prints `ready`. From then on every `entry` frame's latency is
`time.time_ns()` now minus the send time the load generator embedded in the message id
(`e2e-<ns>-<i>`; CLOCK_REALTIME is one clock for every process on the machine). The process
ends when every client has `--expect` entries, or nothing arrived for `--idle` seconds, and
writes the latencies (int64 nanoseconds) to `--out`, then prints a JSON summary line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from array import array
from pathlib import Path

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from kenar_core.protocol import HelloFrame

MARK = '"id":"e2e-'
DEFLATE = [True]  # offer permessage-deflate, as kenar-tui's relay link does


async def console(
    url: str,
    token: str,
    since: int,
    expect: int,
    latencies: array[int],
    counts: list[int],
    index: int,
    live: asyncio.Event,
    ready: list[int],
    total: int,
    done: asyncio.Event,
) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with connect(
        url,
        additional_headers=headers,
        max_size=None,
        open_timeout=30,
        compression="deflate" if DEFLATE[0] else None,
    ) as ws:
        await ws.send(HelloFrame(since=since).json_text())
        async for frame in ws:
            if isinstance(frame, bytes):
                continue
            if frame.startswith('{"type":"live"'):
                break
        ready[0] += 1
        if ready[0] == total:
            live.set()
        try:
            async for frame in ws:
                now = time.time_ns()
                if not isinstance(frame, str):
                    continue
                at = frame.find(MARK)
                if at < 0:
                    continue
                start = at + len(MARK)
                sent = int(frame[start : frame.index("-", start)])
                latencies.append(now - sent)
                counts[index] += 1
                if counts[index] >= expect and all(c >= expect for c in counts):
                    done.set()
                    return
        except ConnectionClosed:
            return


async def run(args: argparse.Namespace) -> tuple[dict[str, object], array[int]]:
    latencies: array[int] = array("q")
    counts = [0] * args.n
    live, done = asyncio.Event(), asyncio.Event()
    ready = [0]
    tasks = [
        asyncio.create_task(
            console(
                args.url,
                args.token,
                args.since,
                args.expect,
                latencies,
                counts,
                i,
                live,
                ready,
                args.n,
                done,
            )
        )
        for i in range(args.n)
    ]
    await asyncio.wait_for(live.wait(), 60)
    print("ready", flush=True)
    last = -1
    while not done.is_set():
        try:
            await asyncio.wait_for(done.wait(), args.idle)
        except TimeoutError:
            if sum(counts) == last:
                break
        last = sum(counts)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    summary = {"received": sum(counts), "min_per_console": min(counts), "consoles": args.n}
    return summary, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", default="")
    parser.add_argument("--since", type=int, default=0)
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--expect", type=int, required=True)
    parser.add_argument("--idle", type=float, default=3.0)
    parser.add_argument("--out", required=True)
    parser.add_argument("--no-compression", action="store_true")
    args = parser.parse_args()
    DEFLATE[0] = not args.no_compression
    summary, latencies = asyncio.run(run(args))
    Path(args.out).write_bytes(latencies.tobytes())
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
