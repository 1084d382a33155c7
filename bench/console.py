"""The console headless (Textual `run_test`) on caches of 100 to 1,000,000 messages.

Per store size, in a fresh process (so peak memory is that size's alone): the cache is
filled through `Inbox.apply_many` with the relay's own entries (made by relay.entries from
Divar-shaped webhooks), sealed with AES-GCM as the console seals it, over up to 2,000
conversations of different sizes (bench/console_data.py). `--cache-dir` keeps each size's
filled cache and reuses it in later runs (a 1,000,000 fill takes ~15 minutes). Then the app
is built by `kenar_tui.factory.make_app` and measured (bench/console_measure.py, which says
how a frame is timed):

- first screen: from `run_test()` to the main screen's first frame;
- switch: `show_conversation` among five conversations of different sizes, to the frame
  (median, p99, max of 40), each checked to show that conversation's newest message; next:
  the arrow key through the list; floors: a full repaint, a bare SQLite page read, and the
  smallest size's switch;
- search: the planted Persian phrase spelt another way, a common word, the bare FTS5 query;
- burst: 1,000 live entries through the app's own handler (`app.feed.handle`, as the relay
  link delivers them; half into the open conversation, half spread over others) until the
  feed has stored them, the coalesced list refresh ran and the screen is idle;
- peak memory: ru_maxrss of the measuring process (the fill runs in a process of its own).

    python -m bench.console [--smoke] [--sizes 100 10000 1000000] [--cache-dir DIR]
"""

from __future__ import annotations

import asyncio
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import base_parser, ratio, report
from bench.console_data import BURST, cid_of, conversations_of, entries
from bench.console_measure import FrameClock, measure_burst, measure_search, measure_switches
from bench.procs import ROOT

SIZE = (120, 40)
# Bumped when the fill's shape changes, so a cache dir never serves an old fill.
FILL_VERSION = 3


def fill(size: int, root: Path) -> float:
    """Fill the cache under `root` with `size` messages; returns the seconds it took."""
    from kenar_tui.inbox import Inbox
    from kenar_tui.store.cache import Cache

    settings = _settings(root)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    with Cache(settings.cache_file, sealer=bench_sealer(root)) as cache:
        inbox = Inbox(cache, operator="bench", now=lambda: now)
        start = time.perf_counter()
        for k in range(0, size, 5000):
            chunk = entries(
                min(5000, size - k), 1 + k, now=now, prefix="fill", offset=k, total=size
            )
            inbox.apply_many(chunk)
        return time.perf_counter() - start


def filled_root(size: int, cache_dir: Path) -> tuple[Path, dict[str, Any]]:
    """The cache of `size` messages under `cache_dir`, filled now if it is not there yet
    (a fill of 1,000,000 takes minutes; later runs reuse it). A fill that did not finish
    leaves no `filled.json` and is redone."""
    root = cache_dir / f"console-{size}-v{FILL_VERSION}"
    done = root / "filled.json"
    if done.exists():
        return root, {**json.loads(done.read_text()), "fill_reused": True}
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    filled = _child(["--fill", str(size), "--root", str(root)])
    done.write_text(json.dumps(filled))
    return root, {**filled, "fill_reused": False}


def bench_sealer(root: Path) -> Any:
    """The AES-GCM sealer the cache under `root` is sealed with, as the console seals its
    cache (its keys live in the system keyring there; here in a 0600 file of the fixture)."""
    from kenar_core.cipher import AesGcmSealer
    from kenar_core.files import write_atomically
    from kenar_core.keyfile import KeyRing, key_id_of

    keys = root / "bench-keys.json"
    if keys.exists():
        held = json.loads(keys.read_text())
        key = bytes.fromhex(held["data"])
        ring = KeyRing(key_id_of(key), {key_id_of(key): key}, bytes.fromhex(held["index"]))
    else:
        ring = KeyRing.generate()
        held = {"data": ring.current_key.hex(), "index": ring.index_key.hex()}
        write_atomically(keys, json.dumps(held).encode())
    return AesGcmSealer(ring)


def _settings(root: Path) -> Any:
    from kenar_tui.config import Settings

    return Settings.load(root / "none.toml", data_dir=root / "data")


async def measure_one(size: int, root: Path) -> dict[str, Any]:
    """Open the filled cache under `root` in the app and time it (this process holds only it)."""
    from kenar_tui.credentials import CredentialStore
    from kenar_tui.factory import make_app
    from kenar_tui.inbox import Inbox
    from kenar_tui.keyring_memory import MemoryKeyring
    from kenar_tui.store.cache import Cache

    now = datetime.now(UTC)
    settings = _settings(root)
    with Cache(settings.cache_file, sealer=bench_sealer(root)) as cache:
        inbox = Inbox(cache, operator="bench", now=lambda: now)
        app = make_app(
            settings,
            inbox=inbox,
            credentials=CredentialStore(MemoryKeyring()),
            clock=lambda: now,
            welcome=False,
        )
        frames = FrameClock(app)
        t0 = time.perf_counter()
        async with app.run_test(size=SIZE) as pilot:
            await frames.drawn(pilot)
            first_screen = time.perf_counter() - t0
            row = {
                "messages": size,
                "conversations": conversations_of(size),
                "largest_conv": app.inbox.history_count(cid_of(0)),
                "first_screen_ms": first_screen * 1000,
                **await measure_switches(app, pilot, frames, size),
                **measure_search(app, size),
                **await measure_burst(app, pilot, now),
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
    return row


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=None)
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="keep each size's filled cache here and reuse it in later runs (default: a"
        " temporary folder, filled anew)",
    )
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
    sizes = args.sizes or ([100, 500] if args.smoke else [100, 10_000, 100_000, 1_000_000])
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-console-") as tmp:
        cache_dir = args.cache_dir or Path(tmp)
        for size in sizes:
            root, filled = filled_root(size, cache_dir)
            rows.append({**_child(["--one", str(size), "--root", str(root)]), **filled})
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
        timeout=3600,
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
