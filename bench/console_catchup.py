"""Catch-up into the console: a real console process that was off while N entries arrived.

The relay's store is pre-filled in bulk (bench/prefill.py: N buyer messages over M
conversations, sealed as the relay seals them) and a real relay serves it; no console was
connected. Then a real console process starts (bench/screen_console.py in catch-up mode:
`open_console`, the CLI's wiring, on a 120x40 pty) with an empty cache: it resumes from seq 0,
stores every entry (its writer thread, synchronous=FULL, acks as it goes) and builds its list.

**current**: from the console process's spawn to the moment it is live with `last_seq` at
the relay's head and its list showing all M conversations (stamped inside the console, wall
clock); **startup** is the share of that before the console's code ran (Python and Textual
imports). **keys**: as soon as the first conversation is stored the console opens it with its
history focused, and from then until current an arrow key is written to the pty every 100 ms;
key = the frame showing the moved cursor (draw log) − the write: usable while catching up.
Afterwards the console's cache file is read: every entry stored once, last_seq = N, and the
list's summaries account for every message.

    python -m bench.console_catchup [--smoke] [--entries N] [--conversations M]
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import base_parser, percentile, report
from bench.prefill import prefill
from bench.procs import relay_process
from bench.screen import SIZE, Terminal, key_latencies, press_keys, spawn_console, stop_console

TARGET_S = 10.0
DEADLINE_S = 300.0  # a console that is not current by then has failed


def conversation(i: int) -> str:
    """bench/prefill.py's conversation id for entry i's conversation number."""
    return f"00000000-0000-0000-0000-{i:012d}"


@contextlib.contextmanager
def console_process(
    relay_url: str, tmp: Path, log: Path, *, expect: int, conversations: int
) -> Iterator[tuple[Terminal, int, Path, Path, subprocess.Popen[bytes]]]:
    """The console on a pty; yields the terminal, its spawn time (ns), ready and report files."""
    terminal = Terminal()
    ready, current, data = tmp / "console-ready", tmp / "console-current.json", tmp / "console"
    data.mkdir()
    extra = ["--ready", str(ready), "--current", str(current)]
    extra += ["--expect", str(expect), "--conversations", str(conversations)]
    spawned = time.time_ns()
    proc = spawn_console(terminal, relay_url, data, log, conversation(0), *extra)
    try:
        yield terminal, spawned, ready, current, proc
    finally:
        stop_console(proc)
        terminal.close()


def written(path: Path, ending: str) -> bool:
    """The console wrote `path` to its end (it is written in one call, ending so)."""
    try:
        return path.read_text(encoding="ascii").endswith(ending)
    except FileNotFoundError:
        return False


def wait_for(path: Path, ending: str, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not written(path, ending):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the console was not {what}")
        time.sleep(0.01)


def stored(cache_file: Path) -> dict[str, int]:
    """What the console's cache file holds (counts only: the payloads are sealed)."""
    db = sqlite3.connect(f"file:{cache_file}?mode=ro", uri=True)
    try:
        one = lambda sql: int(db.execute(sql).fetchone()[0])  # noqa: E731
        return {
            "entries": one("SELECT count(*) FROM entries"),
            "distinct_seqs": one("SELECT count(DISTINCT seq) FROM entries"),
            "max_seq": one("SELECT coalesce(max(seq), 0) FROM entries"),
            "items": one("SELECT count(*) FROM items"),
            "conversations": one("SELECT count(*) FROM conversations"),
            "last_seq": one(
                "SELECT coalesce(max(CAST(value AS INTEGER)), 0) FROM meta WHERE key = 'last_seq'"
            ),
        }
    finally:
        db.close()


def run(entries: int, conversations: int, tmp: Path) -> dict[str, Any]:
    relay_dir = tmp / "relay"
    relay_dir.mkdir()
    prefill(relay_dir / "timeline.sqlite3", entries, conversations=conversations)
    log = tmp / "draws.log"
    with (
        relay_process(relay_dir) as relay,
        console_process(relay.url, tmp, log, expect=entries, conversations=conversations) as (
            terminal,
            spawned,
            ready,
            current,
            proc,
        ),
    ):
        wait_for(ready, "ready", proc, "able to open a conversation")
        stop, sent = threading.Event(), list[int]()
        presser = threading.Thread(target=press_keys, args=(terminal, stop, sent), daemon=True)
        presser.start()
        try:
            wait_for(current, "\n", proc, f"current within {DEADLINE_S:.0f} s")
        finally:
            stop.set()
            presser.join()
        result = json.loads(current.read_text(encoding="ascii"))
        keys, answered = key_latencies(sent, log, 0)
    cache = stored(Path(result["cache_file"]))
    return {
        "entries": entries,
        "conversations": conversations,
        "current_s": (result["current_ns"] - spawned) / 1e9,
        "startup_s": (result["started_ns"] - spawned) / 1e9,
        "opened_s": (result["opened_ns"] - spawned) / 1e9,
        "entries_per_s": entries / ((result["current_ns"] - result["started_ns"]) / 1e9),
        "key_p50_ms": percentile(keys, 50),
        "key_p99_ms": percentile(keys, 99),
        "key_max_ms": max(keys, default=float("nan")),
        "keys_answered": f"{answered}/{len(sent)}",
        "last_seq": result["last_seq"],
        "listed": result["listed"],
        "listed_distinct": result["listed_distinct"],
        "items_in_summaries": result["items_in_summaries"],
        **{f"stored_{k}": v for k, v in cache.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=None)
    parser.add_argument("--conversations", type=int, default=None)
    args = parser.parse_args(argv)
    started = time.monotonic()
    entries = args.entries or (2_000 if args.smoke else 100_000)
    conversations = args.conversations or (100 if args.smoke else 2_000)
    with tempfile.TemporaryDirectory(prefix="bench-console-catchup-") as tmp:
        row = run(entries, conversations, Path(tmp))
    notes = {
        "target": f"current in < {TARGET_S:.0f} s, keys answered < 50 ms while catching up",
        "current": "console process spawned -> live, last_seq at the relay's head, "
        "every conversation listed (stamped in the console)",
        "startup": "spawn -> the console's code running (imports)",
        "key": "arrow key written to the pty -> frame showing the moved cursor written, "
        "from the first conversation opened until current",
        "terminal": f"{SIZE[0]}x{SIZE[1]} pty",
    }
    report("console_catchup", [row], args=args, notes=notes, started=started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
