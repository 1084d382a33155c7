"""The console's SQLite cache: sealed bodies, indexed history pages, drafts, retention."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kenar_core.errors import ConfigError
from kenar_tui.inbox import Inbox
from kenar_tui.store import Cache, OutboxRow, OutboxRows, Timeline, micros
from kenar_tui.store.timeline import PAGE_SQL
from tests.console.conftest import CAR, FIXED_NOW, message_entry


class XorSealer:
    """A reversible stand-in for encryption, to see that bodies pass through the sealer."""

    def seal(self, plaintext: bytes) -> bytes:
        return bytes(b ^ 0x5A for b in plaintext)

    def open(self, blob: bytes) -> bytes:
        return bytes(b ^ 0x5A for b in blob)

    def keyed_hash(self, value: str) -> str:
        return hashlib.sha256(b"k" + value.encode()).hexdigest()[:32]


def fill(cache: Cache, conversations: int, per_conversation: int) -> None:
    """Items written straight through the Timeline, many at once (fast enough for a test)."""
    timeline = Timeline(cache)
    base = micros(FIXED_NOW)
    with cache.transaction():
        for c in range(conversations):
            cid = f"conv-{c:05d}"
            timeline.ensure_conversation(cid, f"post-{c % 40}", "POST")
            for m in range(per_conversation):
                timeline.append(
                    cid, kind="message", side="buyer", at=base + m, text=f"پیام {m}", preview="…"
                )


def steps_for_page(cache: Cache, cid: str, start: int, stop: int) -> int:
    """SQLite virtual-machine steps spent reading one page: the cost, not the time."""
    counter = [0]

    def tick() -> int:
        counter[0] += 1
        return 0

    cache.db.set_progress_handler(tick, 1)
    try:
        rows = Timeline(cache).page(cid, start, stop)
    finally:
        cache.db.set_progress_handler(None, 1)
    assert len(rows) == stop - start
    return counter[0]


def test_bodies_are_stored_through_the_sealer(tmp_path: Path) -> None:
    """Entry payloads and previews pass through the sealer: no chat text is in the file in clear."""
    path = tmp_path / "cache.sqlite3"
    with Cache(path, sealer=XorSealer()) as cache:
        inbox = Inbox(cache, now=lambda: FIXED_NOW)
        inbox.apply(1, message_entry("c-1", CAR, minutes_ago=3, text="قیمت نهایی؟"))
        assert inbox.history("c-1", 0, 1)[0].text == "قیمت نهایی؟"
        assert inbox.conversation("c-1").last_preview == "قیمت نهایی؟"  # type: ignore[union-attr]
        payload = cache.db.execute("SELECT payload FROM entries").fetchone()[0]
    assert "قیمت".encode() not in payload


def test_the_cache_is_wal_and_keeps_the_last_seq(tmp_path: Path) -> None:
    """The file is in WAL mode and a reopened cache resumes from its last seq."""
    path = tmp_path / "cache.sqlite3"
    with Cache(path) as cache:
        assert cache.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        Inbox(cache).apply(7, message_entry("c-1", CAR, minutes_ago=1, text="سلام"))
    with Cache(path) as again:
        assert again.last_seq == 7
        again.close()
        again.close()  # closing twice is harmless
        assert again.closed


def test_a_file_that_is_not_a_cache_is_refused_in_words(tmp_path: Path) -> None:
    """Opening a file that is not a SQLite cache says so and how to recover."""
    path = tmp_path / "cache.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ConfigError, match="not a kenar-tui cache"):
        Cache(path)


def test_history_page_reads_through_the_index(tmp_path: Path) -> None:
    """A history page is a range read on the (conversation, position) index, never a scan."""
    with Cache(tmp_path / "cache.sqlite3") as cache:
        plan = cache.db.execute(f"EXPLAIN QUERY PLAN {PAGE_SQL}", ("c", 0, 50)).fetchall()
    details = " ".join(str(row[-1]) for row in plan)
    assert "SEARCH items USING INDEX" in details
    assert "(conversation_id=? AND pos>? AND pos<?)" in details
    assert "SCAN" not in details and "TEMP B-TREE" not in details


def test_history_page_cost_follows_the_page_not_the_store(tmp_path: Path) -> None:
    """Reading 50 items costs the same with 1,000 or 20,000 stored, at the start or the end."""
    with Cache(tmp_path / "small.sqlite3") as small, Cache(tmp_path / "big.sqlite3") as big:
        fill(small, 20, 50)
        fill(big, 200, 100)
        small_cost = steps_for_page(small, "conv-00007", 0, 50)
        big_start = steps_for_page(big, "conv-00123", 0, 50)
        big_end = steps_for_page(big, "conv-00123", 50, 100)
    assert big_start <= small_cost * 1.2
    assert big_end <= small_cost * 1.2


def test_drafts_are_kept_per_conversation(tmp_path: Path) -> None:
    """A draft survives a restart; clearing the composer deletes it."""
    path = tmp_path / "cache.sqlite3"
    with Cache(path, sealer=XorSealer()) as cache:
        cache.set_draft("c-1", "فردا ساعت ۵ خوبه؟")
    with Cache(path, sealer=XorSealer()) as cache:
        assert cache.draft("c-1") == "فردا ساعت ۵ خوبه؟"
        cache.set_draft("c-1", "  ")
        assert cache.draft("c-1") is None


def test_purge_forgets_old_history_but_not_pending_replies(tmp_path: Path) -> None:
    """purge(older_than) drops old entries and conversations, keeps newer ones and unsent ones."""
    with Cache(tmp_path / "cache.sqlite3") as cache:
        inbox = Inbox(cache, now=lambda: FIXED_NOW)
        old = FIXED_NOW - timedelta(days=40)
        inbox.apply(1, message_entry("old", CAR, minutes_ago=40 * 24 * 60, text="قدیمی"))
        inbox.apply(2, message_entry("mixed", CAR, minutes_ago=40 * 24 * 60, text="خیلی قبل"))
        inbox.apply(3, message_entry("mixed", CAR, minutes_ago=5, text="امروز"))
        OutboxRows(cache).insert(
            OutboxRow(
                "r1",
                "old",
                CAR,
                "POST",
                {"message": "x"},
                "retrying",
                None,
                1,
                None,
                micros(old),
                micros(old),
                None,
                None,
            )
        )
        removed = cache.purge(FIXED_NOW - timedelta(days=30))
        assert removed == 2
        assert inbox.conversation("old") is not None  # an unsent reply keeps it
        assert [i.text for i in inbox.history("mixed", 0, 10)] == ["امروز"]
        assert inbox.history_count("mixed") == 1
        assert inbox.search("قبل") == []
        assert cache.last_seq == 3
        assert OutboxRows(cache).get("r1") is not None


def test_fts5_is_available() -> None:
    """This SQLite has FTS5 with the trigram tokenizer the search index uses."""
    db = sqlite3.connect(":memory:")
    try:
        db.execute("CREATE VIRTUAL TABLE t USING fts5 (x, tokenize = 'trigram')")
    finally:
        db.close()
    assert datetime.now(UTC).year >= 2024
