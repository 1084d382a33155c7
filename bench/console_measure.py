"""What bench/console.py times inside the running app: frames, switches, search, the burst.

A frame is timed without sleeping: the pilot waits until every widget has handled the
messages already posted (`Pilot._wait_for_screen`, an event, no polling), then the screen's
update runs at once (`Screen._on_timer_update`, what Textual's 60 Hz timer calls: layout,
the dirty widgets' lines, the compositor's update) and the update is encoded into the bytes
a terminal would get (`render_segments`; the headless driver skips that step, so the clock
adds it back). `pilot.pause()` is not used: it sleeps in 20 ms steps until the process looks
idle, which is what the 100 ms "switch" of the first round measured.
"""

from __future__ import annotations

import re
import sqlite3
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bench.console_data import (
    BURST,
    PLANTED_QUERY,
    cid_of,
    conversation_of,
    entries,
    planted_count,
    sample_conversations,
)
from kenar_core.blind_index import query_terms
from kenar_tui.text.fold import fold

SWITCHES = 40  # switches timed per store (median and p99 over these)
SEARCHES = 7  # timed runs of each search (the first is also reported alone: cold)
_NUMBERED = re.compile(r"(?:fill|live-\w+) (\d+)")


class FrameClock:
    """Draws the next frame of a headless app now, terminal encoding included."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.encoded_bytes = 0
        shown = app._display

        def display(screen: Any, renderable: Any) -> None:
            if renderable is not None and hasattr(renderable, "render_segments"):
                self.encoded_bytes += len(renderable.render_segments(app.console))
            shown(screen, renderable)

        app._display = display

    async def drawn(self, pilot: Any) -> None:
        """Return once the messages posted so far are handled and their frame is encoded."""
        await pilot._wait_for_screen()
        self.app.screen._on_timer_update()


def _p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def last_number(app: Any, cid: str) -> str:
    """The number the fill wrote into `cid`'s newest message ("(fill 123)" -> "123")."""
    count = app.inbox.history_count(cid)
    [item] = app.inbox.history(cid, count - 1, count)
    found = _NUMBERED.search(item.text)
    return found.group(1) if found else ""


def newest_filled(cid: str, size: int) -> str:
    """The number of `cid`'s newest message as the fill wrote it, found without the store
    (the smoke test compares it with what the store answers)."""
    for i in range(size - 1, max(-1, size - 300_000), -1):
        if cid_of(conversation_of(i, size)) == cid:
            return str(i)
    return ""


async def measure_switches(app: Any, pilot: Any, frames: FrameClock, size: int) -> dict[str, Any]:
    """Switch among conversations of different sizes; each switch is timed from the call to
    its frame encoded, and must show that conversation's newest message."""
    main = app.main_screen
    cids = [cid_of(k) for k in sample_conversations(size)]
    cids = [cid for cid in cids if app.inbox.history_count(cid) > 0]
    expected = {cid: last_number(app, cid) for cid in cids}
    times: list[float] = []
    wrong: list[str] = []
    for k in range(SWITCHES + 1):
        cid = cids[k % len(cids)]
        start = time.perf_counter()
        main.show_conversation(cid)
        await frames.drawn(pilot)
        elapsed = time.perf_counter() - start
        if k:  # the first switch also pays for warming up the widgets' code paths
            times.append(elapsed)
        # The bottom-most numbered message on screen is the conversation's newest.
        numbers = _NUMBERED.findall(" ".join(main.history.visible_text()))
        if not numbers or numbers[-1] != expected[cid]:
            wrong.append(cid)
    # The arrow key in the list: the next conversation down, as a seller reads through them.
    main.show_conversation(cids[0])
    await frames.drawn(pilot)
    steps: list[float] = []
    for _ in range(SWITCHES):
        start = time.perf_counter()
        main.conversations.action_move(1)
        await frames.drawn(pilot)
        steps.append(time.perf_counter() - start)
        if main.cid != main.conversations.selected:
            wrong.append(str(main.conversations.selected))
    return {
        "next_ms": statistics.median(steps) * 1000,
        "next_p99_ms": _p99(steps) * 1000,
        "switch_ms": statistics.median(times) * 1000,
        "switch_p99_ms": _p99(times) * 1000,
        "switch_max_ms": max(times) * 1000,
        "switches": len(times),
        "switch_wrong": len(wrong),
        "switch_sizes": [app.inbox.history_count(cid) for cid in cids],
        "newest_as_filled": sum(expected[cid] == newest_filled(cid, size) for cid in cids),
        **await _frame_floor(app, pilot, frames),
        "page_sql_ms": _page_floor(app) * 1000,
    }


async def _frame_floor(app: Any, pilot: Any, frames: FrameClock) -> dict[str, float]:
    """Textual's own cost of a frame: the whole screen repainted with nothing changed."""
    times = []
    for _ in range(SWITCHES):
        await pilot._wait_for_screen()
        start = time.perf_counter()
        app.screen.refresh(repaint=True)
        for widget in app.screen.walk_children():
            widget.refresh()
        await frames.drawn(pilot)
        times.append(time.perf_counter() - start)
    return {"frame_floor_ms": statistics.median(times) * 1000}


def _page_floor(app: Any) -> float:
    """A bare SQLite read of the largest conversation's last 48 rows (its last screenful and
    margin), on a connection of its own, median of 20: the store's floor for a switch."""
    path = app.inbox.cache.path
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        times = []
        for _ in range(20):
            start = time.perf_counter()
            db.execute(
                "SELECT * FROM items WHERE conversation_id = ? ORDER BY pos DESC LIMIT 48",
                (cid_of(0),),
            ).fetchall()
            times.append(time.perf_counter() - start)
    finally:
        db.close()
    return statistics.median(times)


def _timed(run: Callable[[], Any]) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(SEARCHES):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return times, result


def measure_search(app: Any, size: int) -> dict[str, Any]:
    """The planted phrase, asked with its other spellings, through `Inbox.search` (what the
    search dialog calls); a common word (newest 200 of many); and the bare FTS5 query of the
    phrase's trigram terms as the floor."""
    inbox = app.inbox
    times, hits = _timed(lambda: inbox.search(PLANTED_QUERY))
    common_times, common = _timed(lambda: inbox.search("موجود"))
    terms = query_terms(fold(PLANTED_QUERY), inbox.cache.sealer.keyed_hash)
    floor_times, _ = _timed(
        lambda: inbox.cache.db.execute(
            "SELECT rowid FROM search_terms WHERE search_terms MATCH ? ORDER BY rowid LIMIT 200",
            (terms,),
        ).fetchall()
    )
    return {
        "search_ms": statistics.median(times) * 1000,
        "search_cold_ms": times[0] * 1000,
        "search_found": len(hits),
        "search_planted": planted_count(size),
        "search_common_ms": statistics.median(common_times) * 1000,
        "search_common_found": len(common),
        "search_floor_ms": statistics.median(floor_times) * 1000,
    }


async def measure_burst(app: Any, pilot: Any, now: datetime) -> dict[str, Any]:
    """1,000 live entries through the app's own handler, half into the open conversation,
    until stored (one coalesced transaction), the list refreshed and the screen idle. Seqs
    follow the store's last one, so a reused cache takes a new burst each run."""
    from kenar_tui.link import LinkEntry

    main = app.main_screen
    first = app.inbox.last_seq + 1
    burst = entries(BURST, first, now=now, prefix=f"live-{uuid.uuid4().hex[:6]}", plant=False)
    largest = cid_of(0)
    for k, (_, entry) in enumerate(burst):
        cid = largest if k % 2 == 0 else cid_of(2 + k % 50)
        entry["conversation_id"] = cid
        entry["data"]["conversation"]["id"] = cid
    main.show_conversation(largest)
    await pilot.pause()
    app.feed.live = True
    start = time.perf_counter()
    for seq, entry in burst:
        app.feed.handle(LinkEntry(seq=seq, entry=entry))
    await pilot.pause()
    while app.feed.pending or main._refresh_timer is not None:
        await pilot.pause(0.005)
    await pilot.pause()
    return {
        "burst_1000_ms": (time.perf_counter() - start) * 1000,
        "burst_applied": app.inbox.last_seq - first + 1,
    }
