"""Growth: intake throughput and relay memory with 10^4, 10^5 and 10^6 entries already stored.

One store grows through the sizes: it is filled in bulk (bench/prefill.py) up to each size,
a fresh relay process opens it, and wrk (closed loop, c=64) posts webhooks for a few
seconds; the no-op endpoint is measured right before, so each size has its own floor and
the ratio relay/no-op can be compared across sizes on a noisy machine.

    python -m bench.growth [--smoke] [--sizes 10000 100000 1000000] [--seconds S]
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import base_parser, ratio, report, rss_kib
from bench.prefill import prefill
from bench.procs import noop_process, relay_process
from bench.wrkrun import run_wrk


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=None)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args(argv)
    started = time.monotonic()
    sizes = sorted(args.sizes or ([10_000] if args.smoke else [10_000, 100_000, 1_000_000]))
    seconds = args.seconds or (1.0 if args.smoke else 6.0)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-growth-") as tmp, noop_process() as noop:
        data = Path(tmp)
        db = data / "timeline.sqlite3"
        stored = 0
        for size in sizes:
            fill_start = time.monotonic()
            prefill(db, size - stored, prefix=f"fill{size}")
            fill_seconds = time.monotonic() - fill_start
            with relay_process(data) as relay:
                run_wrk([relay.url], connections=4, seconds=1)  # warm the page cache
                floor = run_wrk([noop.url], connections=args.concurrency, seconds=seconds)
                measured = run_wrk([relay.url], connections=args.concurrency, seconds=seconds)
                memory = rss_kib(relay.pid)
            rows.append(
                {
                    "stored": size,
                    "relay_rps": measured.rps,
                    "relay_p50_ms": measured.p50_ms,
                    "relay_p99_ms": measured.p99_ms,
                    "noop_rps": floor.rps,
                    "ratio": ratio(measured.rps, floor.rps),
                    "relay_rss_mib": memory.get("VmRSS", 0) / 1024,
                    "relay_hwm_mib": memory.get("VmHWM", 0) / 1024,
                    "db_mib": db.stat().st_size / 2**20,
                    "fill_s": fill_seconds,
                    "errors": measured.errors,
                }
            )
            stored = _count(db)  # the fill, plus what wrk added
    base = rows[0]["ratio"]
    for row in rows:
        row["vs_smallest"] = ratio(row["ratio"], base)
    notes = {"concurrency": args.concurrency, "seconds": seconds}
    report("growth", rows, args=args, notes=notes, started=started)
    return 0


def _count(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("SELECT count(*) FROM entries").fetchone()[0])
    finally:
        conn.close()


if __name__ == "__main__":
    sys.exit(main())
