"""Live entries are stored by the Inbox's writer thread: the UI loop never waits for a commit."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Self

import pytest

from kenar_core.errors import CacheWriterStopped
from kenar_tui.app import KenarApp
from kenar_tui.controllers.live_feed import BATCH_MAX
from kenar_tui.inbox import Inbox
from kenar_tui.link import LinkEntry, LinkEvent, LinkLive
from tests.console.conftest import CAR, CID_CAR_2, CID_FLAT, FLAT, message_entry
from tests.console.test_raw_keys import build


def console(inbox: Inbox, tmp_path: Path) -> KenarApp:
    """The raw-key tests' app: the factory, a memory keyring, the fixed clock."""
    return build(inbox, tmp_path)


def stored_seq(inbox: Inbox) -> int:
    """last_seq as a fresh connection reads it from the file: what is committed."""
    db = sqlite3.connect(str(inbox.cache.path))
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'last_seq'").fetchone()
        return int(row[0]) if row else 0
    finally:
        db.close()


def entries(start: int, count: int, cid: str = CID_FLAT, post: str = FLAT) -> list[LinkEntry]:
    return [
        LinkEntry(
            seq=start + n,
            entry=message_entry(cid, post, minutes_ago=1 - n / 10_000, text=f"پیام {n}"),
        )
        for n in range(count)
    ]


class HeldWrites:
    """Makes the writer thread's batches wait (inside their transaction) until released."""

    def __init__(self, inbox: Inbox) -> None:
        self.writing = inbox.writer().inbox
        self.release = threading.Event()
        self.entered = threading.Event()
        apply_many = self.writing.apply_many

        def held(pairs: Any) -> Any:
            with self.writing.cache.transaction():  # the batch joins it: uncommitted till set
                changes = apply_many(pairs)
                self.entered.set()
                self.release.wait(timeout=30)
            return changes

        self.writing.apply_many = held  # type: ignore[method-assign]


class ListLink:
    """The link's edge: entries from a list, counting how many the console pulled."""

    def __init__(self, events: list[LinkEvent], inbox: Inbox) -> None:
        self._events = events
        self.inbox = inbox
        self.pulled = 0
        self.acks: list[tuple[int, int]] = []  # (acknowledged seq, committed seq then)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def events(self) -> AsyncIterator[LinkEvent]:
        for event in self._events:
            self.pulled += 1
            yield event

    async def ack(self, seq: int) -> None:
        self.acks.append((seq, stored_seq(self.inbox)))


async def test_live_entries_are_committed_on_the_writer_thread(
    console_inbox: Inbox, tmp_path: Path
) -> None:
    """The UI loop's connection writes no entry; every commit of them runs on the writer."""
    app = console(console_inbox, tmp_path)
    ui_writes: list[str] = []
    console_inbox.cache.db.set_trace_callback(
        lambda sql: ui_writes.append(sql) if "entries" in sql or "last_seq" in sql else None
    )
    writer = console_inbox.writer()
    commits: list[int] = []
    writer.cache.db.set_trace_callback(
        lambda sql: commits.append(threading.get_ident()) if sql == "COMMIT" else None
    )
    start = console_inbox.last_seq
    async with app.run_test(size=(100, 30)):
        app.feed.handle(LinkLive(seq=start))
        for event in entries(start + 1, 30, CID_CAR_2, CAR):
            app.feed.handle(event)
        assert await app.feed.settled()
    console_inbox.cache.db.set_trace_callback(None)
    assert [s for s in ui_writes if not s.startswith("SELECT")] == []
    assert commits and set(commits) == {writer.thread.ident}
    assert writer.thread.ident != threading.get_ident()
    assert console_inbox.last_seq == start + 30
    assert console_inbox.history_count(CID_CAR_2) >= 30


async def test_the_loop_answers_and_reads_while_a_write_is_held(
    console_inbox: Inbox, tmp_path: Path
) -> None:
    """A batch held open on the writer: keys still move the list, reads see committed data."""
    app = console(console_inbox, tmp_path)
    held = HeldWrites(console_inbox)
    start = console_inbox.last_seq
    before = console_inbox.history_count(CID_FLAT)
    async with app.run_test(size=(100, 30)) as pilot:
        app.feed.live = True
        for event in entries(start + 1, 5):
            app.feed.handle(event)
        app.feed.flush()
        while not held.entered.is_set():
            await pilot.pause(0.01)
        listed = app.main_screen.conversations
        listed.focus()
        selected = listed.selected
        await pilot.press("down")  # answered by the loop while the write is held
        assert listed.selected != selected
        assert app.feed.pending == 5  # not stored yet, and not shown as stored
        assert console_inbox.history_count(CID_FLAT) == before  # uncommitted: not seen
        assert console_inbox.last_seq == start
        held.release.set()
        assert await app.feed.settled()
    assert console_inbox.last_seq == start + 5
    assert console_inbox.history_count(CID_FLAT) == before + 5


async def test_a_held_writer_stops_the_link_being_read_and_acks_follow_commits(
    console_inbox: Inbox, tmp_path: Path
) -> None:
    """Bounded: while the writer is held the link is read only so far; nothing is dropped,
    and every ack names a seq already committed."""
    app = console(console_inbox, tmp_path)
    held = HeldWrites(console_inbox)
    start = console_inbox.last_seq
    total = BATCH_MAX * 5
    link = ListLink([*entries(start + 1, total), LinkLive(seq=start + total)], console_inbox)
    async with app.run_test(size=(100, 30)) as pilot:
        app.run_worker(app.feed._consume(link), name="relay-link", group="link")  # type: ignore[arg-type]
        writer = console_inbox.writer()
        # Two batches with the writer, one more collected: then the link waits.
        while link.pulled < BATCH_MAX * (writer.limit + 1):
            await pilot.pause(0.01)
        for _ in range(20):
            await pilot.pause()
        assert link.pulled == BATCH_MAX * (writer.limit + 1)
        assert stored_seq(console_inbox) == start
        held.release.set()
        while not app.feed.live:
            await pilot.pause(0.01)
    assert link.pulled == total + 1
    assert console_inbox.last_seq == start + total
    assert link.acks and all(seq <= committed for seq, committed in link.acks)
    assert link.acks[-1][0] == start + total
    count = console_inbox.history_count(CID_FLAT)
    texts = [i.text for i in console_inbox.history(CID_FLAT, count - total, count)]
    assert texts == [f"پیام {n}" for n in range(total)]  # each once, in order


async def test_after_a_failed_batch_the_writer_refuses_until_reset(console_inbox: Inbox) -> None:
    """A failure stores nothing, and no later batch is stored past the hole it left."""
    writer = console_inbox.writer()
    start = console_inbox.last_seq
    bad: Any = object()  # not a mapping
    good = [(e.seq, e.entry) for e in entries(start + 2, 2)]
    with pytest.raises(AttributeError):
        await writer.submit([(start + 1, bad)])
    with pytest.raises(CacheWriterStopped):
        await writer.submit(good)
    assert console_inbox.last_seq == start
    writer.reset()
    changes = await writer.submit(good)
    assert [c.ignored for c in changes] == [False, False]
    assert console_inbox.last_seq == start + 3


async def test_the_hand_off_is_bounded(console_inbox: Inbox) -> None:
    """Past its limit the writer says so; it never queues without bound."""
    writer = console_inbox.writer()
    held = HeldWrites(console_inbox)
    start = console_inbox.last_seq
    futures = [writer.submit([(e.seq, e.entry)]) for e in entries(start + 1, writer.limit)]
    assert writer.room == 0
    with pytest.raises(CacheWriterStopped, match="waiting to be stored"):
        writer.submit([(start + 99, entries(start + 99, 1)[0].entry)])
    held.release.set()
    for future in futures:
        await future
    assert writer.room == writer.limit
    assert console_inbox.last_seq == start + writer.limit


def test_the_writer_closes_with_the_cache(tmp_path: Path) -> None:
    """Closing the console's cache stops the thread and closes the twin connection."""
    from kenar_tui.store import Cache

    with Cache(tmp_path / "c.sqlite3") as cache:
        writer = Inbox(cache).writer()
    assert writer.closed and not writer.thread.is_alive()
    with pytest.raises(sqlite3.ProgrammingError):
        writer.cache.db.execute("SELECT 1")


async def test_a_costly_rebuild_spaces_the_next_one_out(
    console_inbox: Inbox, tmp_path: Path
) -> None:
    """The frame budget: after a rebuild that took long, the next waits REFRESH_BUDGET times
    as long (keys are answered between them); after a cheap one it goes within REFRESH_S."""
    import asyncio

    from kenar_tui.screens.main import REFRESH_BUDGET, REFRESH_S

    app = console(console_inbox, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        main = app.main_screen
        while main._refresh_timer is not None:
            await pilot.pause(0.01)
        loop = asyncio.get_running_loop()
        main._refresh_cost = 0.5  # a rebuild that took half a second, just now
        main._refreshed_at = time.monotonic()
        main.schedule_refresh()
        timer = main._refresh_timer
        assert timer is not None
        assert timer.when() - loop.time() > REFRESH_BUDGET * 0.5 - 1.0
        timer.cancel()
        main._refresh_timer = None
        main._refresh_cost = 0.0
        main._refreshed_at = -REFRESH_S
        main.schedule_refresh()
        timer = main._refresh_timer
        assert timer is not None and timer.when() - loop.time() <= REFRESH_S


async def test_the_open_conversation_is_marked_read_by_the_writer(
    console_inbox: Inbox, tmp_path: Path
) -> None:
    """Live messages into the open conversation are read: the mark is stored by the writer
    thread (the loop never waits for its lock) and the list then shows nothing unread."""
    app = console(console_inbox, tmp_path)
    ui_marks: list[str] = []
    writer_marks: list[int] = []
    writer = console_inbox.writer()
    writer.cache.db.set_trace_callback(
        lambda sql: writer_marks.append(threading.get_ident()) if "unread = 0" in sql else None
    )
    start = console_inbox.last_seq
    async with app.run_test(size=(100, 30)) as pilot:
        main = app.main_screen
        main.show_conversation(CID_CAR_2)  # opened: what arrives in it is read
        await pilot.pause()
        console_inbox.cache.db.set_trace_callback(
            lambda sql: ui_marks.append(sql) if "unread = 0" in sql else None
        )
        app.feed.handle(LinkLive(seq=start))
        for event in entries(start + 1, 10, CID_CAR_2, CAR):
            app.feed.handle(event)
        assert await app.feed.settled()
        for _ in range(500):  # bounded: without the hand-off the writer never marks
            if writer_marks and main._refresh_timer is None:
                break
            await pilot.pause(0.01)
        await pilot.pause()
        summary = next(c for p in app.inbox.posts() for c in p.conversations if c.id == CID_CAR_2)
    console_inbox.cache.db.set_trace_callback(None)
    assert summary.unread == 0
    assert ui_marks == []
    assert set(writer_marks) == {writer.thread.ident}
