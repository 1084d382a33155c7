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
  feed has stored them (coalesced into one transaction), the coalesced list refresh ran and
  the screen is idle;
- peak memory: ru_maxrss of the measuring process (the fill runs in a process of its own).

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


def _conversations(total: int) -> int:
    return min(CONVERSATIONS, max(2, total // 2))


def entries(
    count: int, start_seq: int, *, now: datetime, prefix: str, offset: int = 0, total: int = 0
) -> list[tuple[int, Any]]:
    """Entries `offset`..`offset+count` of a store of `total` (default `count`) messages:
    conversation 0 gets the first tenth, the rest go round-robin over the others."""
    from relay.entries import entry_from_event

    total = total or count
    conversations = _conversations(total)
    largest = max(1, total // 10)
    pairs = []
    for i in range(offset, offset + count):
        cid = _cid(0) if i < largest else _cid(1 + (i - largest) % (conversations - 1))
        body = event(f"{prefix}-{i}", conversation_id=cid)
        at = now - timedelta(seconds=total - i)
        body["new_message"]["sent_at"] = int(at.timestamp() * 1_000_000)
        if i % 3 == 2:
            body["new_message"]["sender"]["side"] = "SELLER"
            body["new_message"]["text"] = "بله، هنوز موجود است."
        entry = entry_from_event(body).entry
        entry["received_at"] = at.isoformat().replace("+00:00", "Z")
        pairs.append((start_seq + i - offset, entry))
    return pairs


def fill(size: int, root: Path) -> float:
    """Fill the cache under `root` with `size` messages; returns the seconds it took."""
    from kenar_tui.inbox import Inbox
    from kenar_tui.store.cache import Cache

    settings = _settings(root)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    with Cache(settings.cache_file) as cache:
        inbox = Inbox(cache, operator="bench", now=lambda: now)
        start = time.perf_counter()
        for k in range(0, size, 5000):
            chunk = entries(
                min(5000, size - k), 1 + k, now=now, prefix="fill", offset=k, total=size
            )
            inbox.apply_many(chunk)
        return time.perf_counter() - start


def _settings(root: Path) -> Any:
    from kenar_tui.config import Settings

    return Settings.load(root / "none.toml", data_dir=root / "data")


async def measure_one(size: int, root: Path) -> dict[str, Any]:
    """Open the filled cache under `root` in the app and time it (this process holds only it)."""
    from kenar_tui.credentials import CredentialStore
    from kenar_tui.factory import make_app
    from kenar_tui.inbox import Inbox
    from kenar_tui.keyring_memory import MemoryKeyring
    from kenar_tui.link import LinkEntry
    from kenar_tui.store.cache import Cache

    now = datetime.now(UTC)
    settings = _settings(root)
    burst = entries(BURST, size + 1, now=now, prefix=f"live-{uuid.uuid4().hex[:6]}")
    largest = _cid(0)
    for k, (_, entry) in enumerate(burst):
        # Half into the open (largest) conversation, half over 50 others.
        cid = largest if k % 2 == 0 else _cid(2 + k % 50)
        entry["conversation_id"] = cid
        entry["data"]["conversation"]["id"] = cid
    with Cache(settings.cache_file) as cache:
        inbox = Inbox(cache, operator="bench", now=lambda: now)
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
            main = app.main_screen
            switches = []
            for _ in range(5):
                main.show_conversation(_cid(1))
                await pilot.pause()
                start = time.perf_counter()
                main.show_conversation(largest)
                await pilot.pause()
                switches.append(time.perf_counter() - start)
            shown = app.inbox.history_count(largest)
            app.feed.live = True
            start = time.perf_counter()
            for seq, entry in burst:
                app.feed.handle(LinkEntry(seq=seq, entry=entry))
            await pilot.pause()
            # Stored in one coalesced transaction, then the coalesced list refresh.
            while app.feed.pending or main._refresh_timer is not None:
                await pilot.pause(0.005)
            await pilot.pause()
            burst_s = time.perf_counter() - start
            applied = app.inbox.last_seq
    return {
        "messages": size,
        "conversations": _conversations(size),
        "largest_conv": shown,
        "first_screen_ms": first_screen * 1000,
        "switch_ms": statistics.median(switches) * 1000,
        "burst_1000_ms": burst_s * 1000,
        "burst_applied": applied - size,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=None)
    parser.add_argument("--one", type=int, default=None, help=argparse_hidden())
    parser.add_argument("--fill", type=int, default=None, help=argparse_hidden())
    parser.add_argument("--root", type=Path, default=None, help=argparse_hidden())
    args = parser.parse_args(argv)
    if args.fill is not None:
        print(json.dumps({"fill_s": fill(args.fill, args.root)}), flush=True)
        return 0
    if args.one is not None:
        print(json.dumps(asyncio.run(measure_one(args.one, args.root))), flush=True)
        return 0
    started = time.monotonic()
    sizes = args.sizes or ([100, 500] if args.smoke else [100, 10_000, 100_000])
    rows = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="bench-console-") as tmp:
            filled = _child(["--fill", str(size), "--root", tmp])
            rows.append({**_child(["--one", str(size), "--root", tmp]), **filled})
    for row in rows:
        row["switch_vs_smallest"] = ratio(row["switch_ms"], rows[0]["switch_ms"])
    notes = {"terminal": f"{SIZE[0]}x{SIZE[1]}", "burst": BURST}
    report("console", rows, args=args, notes=notes, started=started)
    return 0


def _child(flags: list[str]) -> dict[str, Any]:
    """One step in a fresh process, so its peak memory is its own."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.console", *flags],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"bench.console {' '.join(flags)} failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    sys.exit(main())
