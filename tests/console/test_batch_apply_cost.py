"""A backlog applied in batches stores exactly what applying it entry by entry stores.

`Inbox.apply_many` takes shortcuts for a batch (inbox/applying.py, store/cache.py,
store/timeline.py): each entry's JSON made once and cleaned from it, the entries and
search-index rows written with one executemany before the commit, the conversations' rows
read once per batch, the buyer's part of the summary in the same update as the item. These
tests hold the result to the plain path, table by table, over every kind of entry.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from kenar_tui.inbox import Inbox
from kenar_tui.inbox import writer as writer_module
from kenar_tui.inbox.writer import hand_off
from kenar_tui.store import Cache
from kenar_tui.text.sanitize import _TABLE, clean_json, clean_tree
from tests.console.conftest import (
    CAR,
    CID_CAR_1,
    CID_CAR_2,
    CID_FLAT,
    FIXED_NOW,
    FLAT,
    message_entry,
    sample_entries,
)
from tests.console.test_inbox import reply_entry

BOT_CID = "bbbbbbbb-0000-4000-8000-000000000001"


def _at(minutes_ago: float) -> str:
    return (FIXED_NOW - timedelta(minutes=minutes_ago)).isoformat()


def mixed_backlog() -> list[dict[str, Any]]:
    """Every kind the applier knows, with the cases that read what the batch wrote before:
    echoes both ways, a reply posted twice, a button pressed on a reply's button, a note and
    an assignment, a chatbot conversation, hostile text, a conversation new to the cache."""
    grid = {
        "rows": [
            {"buttons": [{"action": {"open_server_link": {"data": {"k": 1}}}, "caption": "بله"}]}
        ]
    }
    entries = sample_entries()
    entries += [
        message_entry("c-new", CAR, minutes_ago=9, text="سلام، موجوده؟"),
        reply_entry("c-new", CAR, "بله موجوده", minutes_ago=8, ref="ref-1", buttons=grid),
        message_entry("c-new", CAR, minutes_ago=7.5, side="SELLER", text="بله موجوده"),
        message_entry(CID_CAR_2, CAR, minutes_ago=7, side="SELLER", text="سلام، بفرمایید"),
        reply_entry(CID_CAR_2, CAR, "سلام، بفرمایید", minutes_ago=6.9, ref="ref-2"),
        reply_entry(CID_CAR_2, CAR, "سلام، بفرمایید", minutes_ago=6.9, ref="ref-2"),
        {
            "kind": "button_pressed",
            "received_at": _at(6),
            "conversation_id": "c-new",
            "post_token": CAR,
            "data": {"conversation_id": "c-new", "user_side": "Demand", "extra_data": {"k": 1}},
        },
        {
            "kind": "note",
            "received_at": _at(5),
            "conversation_id": CID_FLAT,
            "author": "سارا",
            "data": {"text": "خریدار جدی است\x1b]52;c;aGk=\x07"},
        },
        {
            "kind": "assignment",
            "received_at": _at(5),
            "conversation_id": CID_FLAT,
            "data": {"assignee": "علی"},
        },
        message_entry(BOT_CID, "", minutes_ago=4, text="ربات"),
        message_entry(CID_CAR_1, CAR, minutes_ago=3, text="قیمت\u202e نهایی\u009b؟"),
        message_entry(CID_CAR_1, CAR, minutes_ago=2, text="برای ۱۲۰ میلیون می‌دید؟"),
        {"kind": "payment", "received_at": _at(1), "data": {"amount": 1}},
    ]
    entries[-4]["data"]["conversation"]["type"] = "BOT"
    return entries


def dump(cache: Cache) -> dict[str, list[tuple[Any, ...]]]:
    """Every table the applier writes, as plain values (the cache is unsealed here)."""
    db = cache.db
    tables = {
        "entries": "SELECT seq, conversation_id, post_token, kind, at, payload FROM entries",
        "items": "SELECT * FROM items ORDER BY id",
        "conversations": "SELECT * FROM conversations ORDER BY id",
        "terms": "SELECT rowid, terms FROM search_terms ORDER BY rowid",
        "buttons": "SELECT * FROM buttons ORDER BY rowid",
        "notices": "SELECT * FROM notices ORDER BY id",
        "posts": "SELECT * FROM posts ORDER BY token",
        "meta": "SELECT * FROM meta WHERE key = 'last_seq'",
    }
    found = {name: db.execute(sql).fetchall() for name, sql in tables.items()}
    # A payload is the entry's JSON: compared as values, whatever made the text.
    found["entries"] = [(*r[:5], json.loads(r[5])) for r in found["entries"]]
    return found


@pytest.fixture
def two_caches(tmp_path: Path) -> Iterator[tuple[Cache, Cache]]:
    with Cache(tmp_path / "one.sqlite3") as one, Cache(tmp_path / "batch.sqlite3") as batch:
        yield one, batch


@pytest.mark.parametrize("batch_size", [1, 7, 500])
def test_batches_store_what_one_by_one_stores(
    two_caches: tuple[Cache, Cache], batch_size: int
) -> None:
    """Entry by entry (`apply`) and in batches (`apply_many`): the same rows in every table,
    the same list, the same search hits."""
    one, batch = two_caches
    entries = list(enumerate(mixed_backlog(), start=1))
    by_one = Inbox(one, operator="سارا", now=lambda: FIXED_NOW)
    for seq, entry in entries:
        by_one.apply(seq, entry)
    in_batches = Inbox(batch, operator="سارا", now=lambda: FIXED_NOW)
    for start in range(0, len(entries), batch_size):
        in_batches.apply_many(entries[start : start + batch_size])
    assert dump(batch) == dump(one)
    assert in_batches.conversations() == by_one.conversations()
    for query in ("موجوده", "۱۲۰", "ربات", "بفرمایید"):
        assert [h.snippet for h in in_batches.search(query)] == [
            h.snippet for h in by_one.search(query)
        ]
    assert in_batches.search("موجوده"), "the blind index finds the Persian text"


def test_a_batch_reading_its_own_entries_sees_them(two_caches: tuple[Cache, Cache]) -> None:
    """Rows written at the commit are there for a read inside the same transaction."""
    cache, _ = two_caches
    inbox = Inbox(cache, now=lambda: FIXED_NOW)
    with cache.transaction():
        inbox.apply_many([(1, message_entry(CID_CAR_1, CAR, minutes_ago=1, text="سلام خوبید"))])
        assert cache.entry(1) is not None
        assert [h.cid for h in inbox.search("خوبید")] == [CID_CAR_1]


def test_a_failing_batch_leaves_no_deferred_rows_behind(two_caches: tuple[Cache, Cache]) -> None:
    """The rows a batch would write at its commit go with its rollback, and the next batch
    starts clean: nothing of the failed one is stored later."""
    cache, _ = two_caches
    inbox = Inbox(cache, now=lambda: FIXED_NOW)
    good = message_entry(CID_CAR_1, CAR, minutes_ago=2, text="اولی")
    with pytest.raises(AttributeError):
        inbox.apply_many([(1, good), (2, object())])  # type: ignore[list-item]
    inbox.apply_many([(3, message_entry(CID_FLAT, FLAT, minutes_ago=1, text="دومی"))])
    assert [r[0] for r in cache.db.execute("SELECT seq FROM entries")] == [3]
    assert cache.db.execute("SELECT count(*) FROM search_terms").fetchone()[0] == 1
    assert inbox.history_count(CID_CAR_1) == 0 and inbox.last_seq == 3


def test_another_connection_sees_a_batch_only_once_committed(tmp_path: Path) -> None:
    """The UI's connection reads nothing of a batch before its commit (WAL, one writer)."""
    with Cache(tmp_path / "c.sqlite3") as cache:
        twin = cache.writer_twin()
        try:
            writer = Inbox(twin, now=lambda: FIXED_NOW)
            ui = Inbox(cache, now=lambda: FIXED_NOW)
            with twin.transaction():
                writer.apply_many([(1, message_entry(CID_CAR_1, CAR, minutes_ago=1, text="x"))])
                assert cache.entry(1) is None and ui.last_seq == 0
            assert cache.entry(1) is not None and ui.last_seq == 1
        finally:
            twin.close()


HOSTILE = [chr(c) for c in sorted(_TABLE)] + ["\\u001b", "\\", "\\\\r", '"', "\n\t", "‌"]


@pytest.mark.parametrize("bad", HOSTILE, ids=lambda s: f"U+{ord(s[0]):04X}-{len(s)}")
def test_clean_json_cleans_as_clean_tree_does(bad: str) -> None:
    """One JSON encoding and a scan decide; the result is `clean_tree`'s, keys included."""
    tree = {"kind": "message", f"k{bad}": [f"a{bad}b", {"t": bad, "n": 1, "z": None}]}
    cleaned, text = clean_json(tree)
    assert cleaned == clean_tree(tree)
    assert json.loads(text) == cleaned


def test_the_writer_offers_the_gil_at_most_every_interval(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Between entries the writer releases the GIL once its interval has passed, not after
    every entry (each offer is a system call)."""
    offers: list[float] = []
    monkeypatch.setattr(writer_module.time, "sleep", offers.append)
    between = hand_off(every_s=3600.0)
    for _ in range(1000):
        between()
    assert offers == []
    always = hand_off(every_s=0.0)
    for _ in range(3):
        always()
    assert offers == [0, 0, 0]


def test_sqlite_deferred_rows_keep_the_unique_rule(two_caches: tuple[Cache, Cache]) -> None:
    """An entry stored twice in one transaction keeps the first, as INSERT OR IGNORE did."""
    cache, _ = two_caches
    with cache.transaction():
        cache.put_entry(1, {"kind": "note", "v": 1}, FIXED_NOW)
        cache.put_entry(1, {"kind": "note", "v": 2}, FIXED_NOW)
    assert cache.entry(1) == {"kind": "note", "v": 1}
    with pytest.raises(sqlite3.IntegrityError), cache.transaction():
        cache.defer_insert("INSERT INTO search_terms (rowid, terms) VALUES (?, ?)", (-1, "t1"))
        cache.defer_insert("INSERT INTO search_terms (rowid, terms) VALUES (?, ?)", (-1, "t1"))
    assert cache.db.execute("SELECT count(*) FROM search_terms").fetchone()[0] == 0


def test_the_apply_cost_bench_stores_its_whole_backlog() -> None:
    """`python -m bench.apply_cost` at a tiny size: every entry of the backlog is stored
    (it checks last_seq itself) and it reports a rate (its value is not checked)."""
    from bench.apply_cost import run

    result = run(300, 100, 20, None)
    assert result["entries_per_s"] > 0 and result["cpu_ms_per_entry"] > 0
