"""Searching sealed messages through a blind trigram index in real SQLite FTS5."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from kenar_core.blind_index import index_terms, query_terms, trigrams
from kenar_core.cipher import AesGcmSealer
from kenar_core.keyfile import KeyRing

from .samples import PERSIAN_MESSAGES, needles


def build(path: Path, sealer: AesGcmSealer) -> sqlite3.Connection:
    db = sqlite3.connect(path)
    db.execute("create virtual table search using fts5 (terms)")
    for rowid, text in enumerate(PERSIAN_MESSAGES, start=1):
        db.execute(
            "insert into search (rowid, terms) values (?, ?)",
            (rowid, index_terms(text, sealer.keyed_hash)),
        )
    db.commit()
    return db


def find(db: sqlite3.Connection, sealer: AesGcmSealer, query: str) -> list[int]:
    expression = query_terms(query, sealer.keyed_hash)
    assert expression is not None
    rows = db.execute("select rowid from search where search match ? order by rowid", (expression,))
    return [r[0] for r in rows]


def test_substring_search_finds_the_right_messages(tmp_path: Path) -> None:
    """A Persian word finds the messages that contain it, and only those."""
    sealer = AesGcmSealer(KeyRing.generate())
    db = build(tmp_path / "search.sqlite3", sealer)
    try:
        assert find(db, sealer, "آپارتمان") == [1]
        assert find(db, sealer, "خیابان ولیعصر") == [3]
        assert find(db, sealer, "تماس") == [4]
        assert find(db, sealer, "دوچرخه") == []
    finally:
        db.close()


def test_index_file_holds_no_message_text(tmp_path: Path) -> None:
    """The search index on disk contains none of the messages or their words in plain bytes."""
    sealer = AesGcmSealer(KeyRing.generate())
    db = build(tmp_path / "search.sqlite3", sealer)
    db.close()
    on_disk = (tmp_path / "search.sqlite3").read_bytes()
    for needle in needles():
        assert needle not in on_disk


def test_terms_depend_on_the_key_and_short_queries_have_none() -> None:
    """Another key gives other terms; a query under three characters has no trigram to match."""
    one, two = AesGcmSealer(KeyRing.generate()), AesGcmSealer(KeyRing.generate())
    assert index_terms("سلام", one.keyed_hash) != index_terms("سلام", two.keyed_hash)
    assert query_terms("سل", one.keyed_hash) is None
    assert trigrams("سلام  سلام") == ["سلا", "لام", "ام ", "م س", " سل"]
