"""The console headless (Textual `run_test`) on caches of 100, 10,000 and 100,000 messages.

Per store size, in a fresh process (so peak memory is that size's alone): the cache is
filled through `Inbox.apply_many` with the relay's own entries (made by relay.entries from
Divar-shaped webhooks) over up to 2,000 conversations, one of which holds a tenth of all
messages (the largest). Then the app is built by `kenar_tui.factory.make_app` and measured:

- first screen: from `run_test()` to the first frame of the main screen (mounted, list and
  first conversation shown);
- switch: `show_conversation` of the largest conversation until the screen is idle again
  (median of 5, alternating with a small conversation);
- burst: 1,000 live entries through the app's own handler (`app.feed.handle`, as the relay
  link delivers them; half into the open conversation, half spread over others) until the
  coalesced list refresh ran and the screen is idle;
- peak memory: the process's ru_maxrss (fill included).

    python -m bench.console [--smoke] [--sizes 100 10000 100000]
"""

from __future__ import annotations

import asyncio
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import base_parser, ratio, report
from bench.events import event
from bench.procs import ROOT

CONVERSATIONS = 2000
SIZE = (120, 40)
BURST = 1000


def _cid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def entries(count: int, start_seq: int, *, now: datetime, prefix: str) -> list[tuple[int, Any]]:
    """`count` relay entries: conversation 0 gets a tenth, the rest round-robin."""
    from relay.entries import entry_from_event

    conversations = min(CONVERSATIONS, max(2, count // 2))
    largest = max(1, count // 10)
    pairs = []
    for i in range(count):
        cid = _cid(0) if i < largest else _cid(1 + (i - largest) % (conversations - 1))
        body = event(f"{prefix}-{i}", conversation_id=cid)
        at = now - timedelta(seconds=count - i)
        body["new_message"]["sent_at"] = int(at.timestamp() * 1_000_000)
        if i % 3 == 2:
            body["new_message"]["sender"]["side"] = "SELLER"
            body["new_message"]["text"] = "بله، هنوز موجود است."
        entry = entry_from_event(body).entry
        entry["received_at"] = at.isoformat().replace("+00:00", "Z")
        pairs.append((start_seq + i, entry))
    return pairs


async def measure_one(size: int) -> dict[str, Any]:
    from kenar_tui.config import Settings
    from kenar_tui.credentials import CredentialStore
    from kenar_tui.factory import make_app
    from kenar_tui.inbox import Inbox
    from kenar_tui.keyring_memory import MemoryKeyring
    from kenar_tui.link import LinkEntry
    from kenar_tui.store.cache import Cache

    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="bench-console-") as tmp:
        root = Path(tmp)
        settings = Settings.load(root / "none.toml", data_dir=root / "data")
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        with Cache(settings.cache_file) as cache:
            inbox = Inbox(cache, operator="bench", now=lambda: now)
            fill_start = time.perf_counter()
            pairs = entries(size, 1, now=now, prefix="fill")
            for k in range(0, len(pairs), 5000):
                inbox.apply_many(pairs[k : k + 5000])
            fill_s = time.perf_counter() - fill_start
            app = make_app(
                settings,
                inbox=inbox,
                credentials=CredentialStore(MemoryKeyring()),
                clock=lambda: now,
                welcome=False,
            )
            t0 = time.perf_counter()
            async with app.run_test(size=SIZE) as pilot:
                await pilot.pause()
                first_screen = time.perf_counter() - t0
                main = app.main
                small, largest = _cid(1), _cid(0)
                switches = []
                for _ in range(5):
                    main.show_conversation(small)
                    await pilot.pause()
                    start = time.perf_counter()
                    main.show_conversation(largest)
                    await pilot.pause()
                    switches.append(time.perf_counter() - start)
                shown = app.inbox.history_count(largest)
                burst = entries(BURST, size + 1, now=now, prefix=f"live-{uuid.uuid4().hex[:6]}")
                for k, (_, entry) in enumerate(burst):
                    if k % 2:  # the other half lands in the open conversation
                        cid = _cid(2 + k % 50)
                        entry["conversation_id"] = cid
                        entry["data"]["conversation"]["id"] = cid
                    else:
                        entry["conversation_id"] = largest
                        entry["data"]["conversation"]["id"] = largest
                app.feed.live = True
                start = time.perf_counter()
                for seq, entry in burst:
                    app.feed.handle(LinkEntry(seq=seq, entry=entry))
                await pilot.pause()
                while main._refresh_timer is not None:  # the coalesced list refresh
                    await pilot.pause(0.005)
                await pilot.pause()
                burst_s = time.perf_counter() - start
                applied = app.inbox.last_seq
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "messages": size,
        "conversations": min(CONVERSATIONS, max(2, size // 2)),
        "largest_conv": shown,
        "fill_s": fill_s,
        "first_screen_ms": first_screen * 1000,
        "switch_ms": statistics.median(switches) * 1000,
        "burst_1000_ms": burst_s * 1000,
        "burst_applied": applied - size,
        "peak_rss_mib": peak,
    }


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=None)
    parser.add_argument("--one", type=int, default=None, help=argparse_hidden())
    args = parser.parse_args(argv)
    if args.one is not None:
        print(json.dumps(asyncio.run(measure_one(args.one))), flush=True)
        return 0
    started = time.monotonic()
    sizes = args.sizes or ([100, 500] if args.smoke else [100, 10_000, 100_000])
    rows = []
    for size in sizes:
        out = subprocess.run(
            [sys.executable, "-m", "bench.console", "--one", str(size)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if out.returncode != 0:
            raise RuntimeError(f"the console run for {size} failed:\n{out.stderr[-3000:]}")
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    for row in rows:
        row["switch_vs_smallest"] = ratio(row["switch_ms"], rows[0]["switch_ms"])
    notes = {"terminal": f"{SIZE[0]}x{SIZE[1]}", "burst": BURST}
    report("console", rows, args=args, notes=notes, started=started)
    return 0


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    sys.exit(main())
