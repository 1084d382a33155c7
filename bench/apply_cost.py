"""What applying a backlog costs the console's writer, headless: entries/s and CPU per entry.

The entries are exactly those a console catching up receives from a relay pre-filled by
bench/prefill.py (the sample NEW_MESSAGE webhook as the relay stores it, `received_at` set,
spread over `--conversations` conversations); they are applied with `Inbox.apply_many` in
batches of `--batch` (the live feed's BATCH_MAX) to a fresh console cache sealed with
AES-GCM (a new key ring), synchronous=FULL, with the writer thread's hand-off between
entries, on this thread: no UI, no websocket. CPU is this process's (all threads).

    python -m bench.apply_cost [--entries N] [--batch B] [--conversations M] [--profile FILE]

It prints one line per run and, with --profile, writes a cProfile file and its top entries.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.events import event
from kenar_core.cipher import AesGcmSealer
from kenar_core.keyfile import KeyRing
from kenar_tui.inbox import Inbox
from kenar_tui.inbox import writer as inbox_writer
from kenar_tui.store import Cache


def backlog(count: int, conversations: int) -> list[tuple[int, dict[str, Any]]]:
    """(seq, entry) as a relay filled by bench/prefill.py sends them, seq 1..count."""
    from relay.entries import entry_from_event  # the relay's own shaping of a webhook

    received = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    pairs = []
    for i in range(count):
        conv = f"00000000-0000-0000-0000-{i % conversations:012d}"
        entry = entry_from_event(event(f"fill-{i}", conversation_id=conv)).entry
        # Through JSON, as the link hands it over: fresh objects, nothing shared.
        pairs.append((i + 1, json.loads(json.dumps({**entry, "received_at": received}))))
    return pairs


def writer_hand_off() -> Callable[[], None]:
    """What the writer thread's Inbox calls between entries (in a tree from before
    `hand_off`, as run for a before/after pair, its per-entry `time.sleep(0)`)."""
    made = getattr(inbox_writer, "hand_off", None)
    return made() if made is not None else inbox_writer._let_others_run  # type: ignore[attr-defined]


def run(count: int, batch: int, conversations: int, profile: Path | None) -> dict[str, float]:
    pairs = backlog(count, conversations)
    with tempfile.TemporaryDirectory(prefix="apply-cost-") as tmp:
        cache = Cache(Path(tmp) / "cache.sqlite3", sealer=AesGcmSealer(KeyRing.generate()))
        try:
            inbox = Inbox(cache)
            inbox.between_entries = writer_hand_off()
            profiler = cProfile.Profile() if profile else None
            cpu, wall = time.process_time(), time.perf_counter()
            if profiler:
                profiler.enable()
            for start in range(0, count, batch):
                inbox.apply_many(pairs[start : start + batch])
            if profiler:
                profiler.disable()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            assert cache.last_seq == count, "not every entry was stored"
        finally:
            cache.close()
    if profiler and profile:
        profiler.dump_stats(profile)
        pstats.Stats(str(profile)).sort_stats("cumulative").print_stats(30)
    return {"entries_per_s": count / wall, "cpu_ms_per_entry": cpu * 1000 / count, "wall_s": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--conversations", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--profile", type=Path, default=None)
    args = parser.parse_args()
    for _ in range(args.runs):
        result = run(args.entries, args.batch, args.conversations, args.profile)
        print(
            f"{args.entries} entries, batches of {args.batch}, {args.conversations} conversations:"
            f" {result['entries_per_s']:,.0f} entries/s,"
            f" {result['cpu_ms_per_entry']:.3f} ms CPU/entry ({result['wall_s']:.2f} s wall)"
        )


if __name__ == "__main__":
    main()
