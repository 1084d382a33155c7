"""Live bursts stored in one transaction, and the list's summaries re-read only where changed."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from kenar_tui.config import Settings
from kenar_tui.credentials import CredentialStore
from kenar_tui.factory import make_app
from kenar_tui.inbox import Inbox
from kenar_tui.keyring_memory import MemoryKeyring
from kenar_tui.link import LinkEntry, LinkLive
from kenar_tui.store import Cache
from tests.console.conftest import (
    CAR,
    CID_CAR_1,
    CID_CAR_2,
    CID_FLAT,
    FIXED_NOW,
    FLAT,
    message_entry,
    post_update_entry,
)

NEW_CID = "5a6b7c8d-1111-4222-8333-944455566677"


def count_begins(cache: Cache) -> list[str]:
    """Every transaction the cache's connection begins from now on."""
    begins: list[str] = []
    cache.db.set_trace_callback(lambda sql: begins.append(sql) if sql.startswith("BEGIN") else None)
    return begins


def shape(inbox: Inbox) -> list[tuple[Any, ...]]:
    """What the list shows, field by field, in order."""
    return [
        (p.token, p.title, p.unanswered, p.longest_wait_s, p.last_at, p.unread, p.conversations)
        for p in inbox.posts()
    ]


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    """A real cache file in tmp."""
    with Cache(tmp_path / "cache.sqlite3") as cache:
        yield cache


def test_apply_many_is_one_transaction_in_seq_order_exactly_once(cache: Cache) -> None:
    """A burst is one commit; a repeated or older seq inside it is ignored, not stored twice."""
    inbox = Inbox(cache, now=lambda: FIXED_NOW)
    entries = [
        message_entry(CID_CAR_1, CAR, minutes_ago=10 - m, text=f"پیام {m}") for m in range(5)
    ]
    begins = count_begins(cache)
    changes = inbox.apply_many(
        [(1, entries[0]), (2, entries[1]), (2, entries[2]), (3, entries[3]), (1, entries[4])]
    )
    cache.db.set_trace_callback(None)
    assert len(begins) == 1
    assert [c.ignored for c in changes] == [False, False, True, False, True]
    assert inbox.last_seq == 3
    texts = [item.text for item in inbox.history(CID_CAR_1, 0, 10)]
    assert texts == ["پیام 0", "پیام 1", "پیام 3"]
    summary = inbox.conversation(CID_CAR_1)
    assert summary is not None and summary.unread == 3


def test_a_failed_burst_stores_nothing(cache: Cache) -> None:
    """If one entry of a burst cannot be stored, none is, and last_seq stays where it was."""
    inbox = Inbox(cache, now=lambda: FIXED_NOW)
    good = message_entry(CID_CAR_1, CAR, minutes_ago=2, text="سلام")
    bad: dict[str, Any] = {"kind": "message", "data": {}}
    with pytest.raises(AttributeError):  # an entry that is not a mapping
        inbox.apply_many([(1, good), (2, object())])  # type: ignore[list-item]
    assert inbox.last_seq == 0
    assert inbox.history_count(CID_CAR_1) == 0
    inbox.apply_many([(1, good), (2, bad)])
    assert inbox.last_seq == 2


def test_with_item_reads_the_message_a_toast_previews(cache: Cache) -> None:
    """A change from a burst carries no item; `with_item` reads it back for the toast."""
    inbox = Inbox(cache, now=lambda: FIXED_NOW)
    (change,) = inbox.apply_many([(1, message_entry(CID_FLAT, FLAT, minutes_ago=1, text="هست؟"))])
    assert change.item is None and change.new_from_buyer
    filled = inbox.with_item(change)
    assert filled.item is not None and filled.item.text == "هست؟"


def test_incremental_summaries_match_a_full_read(console_inbox: Inbox) -> None:
    """After every kind of write, the list equals what a fresh read of the cache shows."""
    inbox = console_inbox
    cache = inbox.cache

    def fresh() -> list[tuple[Any, ...]]:
        return shape(Inbox(cache, operator="سارا", now=lambda: FIXED_NOW))

    assert shape(inbox) == fresh()
    seq = inbox.last_seq
    steps: list[Any] = [
        lambda: inbox.apply_many(
            [(seq + 1, message_entry(CID_FLAT, FLAT, minutes_ago=0.5, text="تخفیف؟"))]
        ),
        lambda: inbox.apply(
            seq + 2, message_entry(CID_CAR_2, CAR, minutes_ago=0.2, side="SELLER", text="بله")
        ),
        lambda: inbox.mark_read(CID_CAR_1),
        lambda: inbox.mark_unread(CID_CAR_2),
        lambda: inbox.apply(seq + 3, post_update_entry(FLAT, "آپارتمان ۹۰ متری", minutes_ago=0)),
        lambda: inbox.apply(seq + 4, message_entry(NEW_CID, CAR, minutes_ago=0.1, text="سلام")),
        lambda: cache.purge(FIXED_NOW - timedelta(minutes=45)),
    ]
    for step in steps:
        step()
        assert shape(inbox) == fresh()
    assert inbox.conversation(NEW_CID) is not None


async def test_a_live_burst_is_stored_together_and_announced_once(
    console_inbox: Inbox, tmp_path: Path
) -> None:
    """Entries handled back to back are stored in one batch, in order, with one toast."""
    settings = Settings.load(tmp_path / "none.toml", data_dir=tmp_path / "data", bidi=False)
    app = make_app(
        settings,
        inbox=console_inbox,
        credentials=CredentialStore(MemoryKeyring()),
        clock=lambda: FIXED_NOW,
        welcome=False,
    )
    batches: list[int] = []
    writing = console_inbox.writer().inbox  # the writer thread's Inbox stores the batches
    apply_many = writing.apply_many

    def spy(pairs: Any) -> Any:
        pairs = list(pairs)
        batches.append(len(pairs))
        return apply_many(pairs)

    writing.apply_many = spy  # type: ignore[method-assign]
    toasts: list[tuple[str, str]] = []
    async with app.run_test(size=(100, 30)) as pilot:
        app.notify_new_message = lambda title, preview: toasts.append((title, preview))  # type: ignore[method-assign]
        start = console_inbox.last_seq
        backlog = message_entry(CID_FLAT, FLAT, minutes_ago=3, text="از قبل")
        app.feed.handle(LinkEntry(seq=start + 1, entry=backlog))
        app.feed.handle(LinkLive(seq=start + 1))
        assert await app.feed.settled()
        assert app.feed.live and app.feed.pending == 0  # stored before live: no backlog toast
        for n in range(20):
            entry = message_entry(CID_FLAT, FLAT, minutes_ago=1 - n / 100, text=f"زنده {n}")
            app.feed.handle(LinkEntry(seq=start + 2 + n, entry=entry))
        assert console_inbox.last_seq == start + 1
        while app.feed.pending or app.main_screen._refresh_timer is not None:
            await pilot.pause(0.01)
        await pilot.pause()
    assert batches == [1, 20]
    assert console_inbox.last_seq == start + 21
    count = console_inbox.history_count(CID_FLAT)
    texts = [i.text for i in console_inbox.history(CID_FLAT, count - 20, count)]
    assert texts == [f"زنده {n}" for n in range(20)]
    assert [preview for _, preview in toasts] == ["زنده 0"]


async def test_a_burst_that_cannot_be_stored_stops_the_link(
    console_inbox: Inbox, tmp_path: Path
) -> None:
    """A batch the cache refuses is not half-stored: the seller is told, nothing more is taken."""
    settings = Settings.load(tmp_path / "none.toml", data_dir=tmp_path / "data", bidi=False)
    app = make_app(
        settings,
        inbox=console_inbox,
        credentials=CredentialStore(MemoryKeyring()),
        clock=lambda: FIXED_NOW,
        welcome=False,
    )

    def refuse(pairs: Any) -> Any:
        raise sqlite3.OperationalError("database or disk is full")

    async with app.run_test(size=(100, 30)) as pilot:
        start = console_inbox.last_seq
        console_inbox.writer().inbox.apply_many = refuse  # type: ignore[method-assign]
        entry = message_entry(CID_FLAT, FLAT, minutes_ago=1, text="سلام")
        app.feed.handle(LinkEntry(seq=start + 1, entry=entry))
        while app.feed.pending:
            await pilot.pause(0.01)
        app.feed.handle(LinkEntry(seq=start + 2, entry=entry))
        assert app.feed.pending == 0  # stopped: not taken, resumed by the next connection
        assert app.feed.flush() is False
        messages = [str(n.message) for n in app._notifications]
    assert console_inbox.last_seq == start
    assert any("relay connection stopped" in m and "disk is full" in m for m in messages)
