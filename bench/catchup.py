"""Catch-up: one console resuming N missed entries, relay beside a bare SQLite-to-websocket loop.

The store is pre-filled in bulk (bench/prefill.py) with N message entries, then a real
relay process serves it; a console in this process sends `hello` with `since: 0` and counts
`entry` frames until the last one. Meanwhile a thread samples the relay's VmRSS every 10 ms
(and VmHWM, the kernel's peak, is read at the end). The floor (bench/sqlite_ws_server.py)
streams the same file to the same client code in the same run.

    python -m bench.catchup [--smoke] [--entries N] [--encryption on|off] [--compression on|off]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from websockets.asyncio.client import connect

from bench.common import CLIENT_TOKEN, base_parser, cpu_seconds, ratio, report, rss_kib
from bench.prefill import prefill
from bench.procs import ServerProcess, relay_process
from kenar_core.protocol import HelloFrame


class RssSampler(threading.Thread):
    """Samples a process's VmRSS until stopped; `peak_kib` is the highest seen."""

    def __init__(self, pid: int, every: float = 0.01) -> None:
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.peak_kib = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.peak_kib = max(self.peak_kib, rss_kib(self.pid).get("VmRSS", 0))
            self._stop_event.wait(self.every)

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        return self.peak_kib


async def resume(url: str, token: str, expect: int, *, deflate: bool = True) -> float:
    """Seconds from `hello` to the `expect`-th entry frame."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with connect(
        url, additional_headers=headers, max_size=None, compression="deflate" if deflate else None
    ) as ws:
        count = 0
        start = time.perf_counter()
        await ws.send(HelloFrame(since=0).json_text())
        async for frame in ws:
            if isinstance(frame, str) and frame.startswith('{"type":"entry"'):
                count += 1
                if count >= expect:
                    return time.perf_counter() - start
    raise RuntimeError(f"the stream ended after {count} of {expect} entries")


def measure(
    server: ServerProcess, url: str, token: str, entries: int, deflate: bool
) -> dict[str, Any]:
    before = rss_kib(server.pid).get("VmRSS", 0)
    sampler = RssSampler(server.pid)
    sampler.start()
    cpu_before, client_before = cpu_seconds(server.pid), time.process_time()
    try:
        seconds = asyncio.run(resume(url, token, entries, deflate=deflate))
    finally:
        peak = sampler.stop()
    server_cpu = cpu_seconds(server.pid) - cpu_before
    client_cpu = time.process_time() - client_before
    after = rss_kib(server.pid)
    return {
        "entries_per_s": entries / seconds,
        "seconds": seconds,
        # Share of one core each side used while streaming: near 100% marks the bottleneck.
        "server_cpu_pct": 100 * server_cpu / seconds,
        "client_cpu_pct": 100 * client_cpu / seconds,
        "rss_before_mib": before / 1024,
        "rss_peak_mib": max(peak, after.get("VmRSS", 0)) / 1024,
        "hwm_mib": after.get("VmHWM", 0) / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=None)
    parser.add_argument(
        "--encryption",
        choices=["on", "off"],
        default="on",
        help="the relay's encryption at rest (on is its default)",
    )
    parser.add_argument(
        "--compression",
        choices=["on", "off"],
        default="on",
        help="whether the console offers permessage-deflate (kenar-tui's link does)",
    )
    args: argparse.Namespace = parser.parse_args(argv)
    started = time.monotonic()
    entries = args.entries or (5_000 if args.smoke else 100_000)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-catchup-") as tmp:
        data = Path(tmp)
        db = data / "timeline.sqlite3"
        encrypted = args.encryption == "on"
        deflate = args.compression == "on"
        prefill(db, entries, encrypted=encrypted)
        floor = ServerProcess(
            [sys.executable, "-m", "bench.sqlite_ws_server", "--db", str(db), "--port", "0"]
            + ([] if encrypted else ["--plain"])
            + (["--compression"] if deflate else [])
        )
        with floor:
            bare = measure(floor, floor.url, "", entries, deflate)
        with relay_process(data, encryption=encrypted) as relay:
            ws_url = relay.url.replace("http", "ws", 1) + "/ws"
            measured = measure(relay, ws_url, CLIENT_TOKEN, entries, deflate)
        rows.append({"server": "floor (sqlite->websocket)", **bare})
        rows.append({"server": "relay", **measured})
    notes = {
        "entries": entries,
        "encryption": args.encryption,
        "compression": args.compression,
        "ratio_relay_to_floor": round(ratio(measured["entries_per_s"], bare["entries_per_s"]), 3),
        "relay_rss_growth_mib": round(measured["rss_peak_mib"] - measured["rss_before_mib"], 1),
    }
    report("catchup", rows, args=args, notes=notes, started=started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
