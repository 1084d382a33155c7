"""The search side of the Timeline: the blind index's terms, and finding items by text.

Search never sees text in the clear: each item keeps its folded text sealed (`folded`) and
its keyed trigram hashes in the FTS5 blind index `search_terms` (privacy/blind_index.py).
A query of three characters or more is matched on the index, and each candidate is opened
and checked; a shorter one opens and scans the most recent `SHORT_QUERY_SCAN` items.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from kenar_core.blind_index import query_terms, term, trigrams
from kenar_core.sealing import Sealer
from kenar_tui.store.cache import Cache

ITEM_COLUMNS = "id, conversation_id, pos, seq, ref, kind, side, at, text_hash, caption, echo_seq"
# How many index terms' keyed hashes are remembered (each a few dozen bytes).
TERM_HASH_CACHE = 32_768
# How many recent items a query shorter than a trigram opens and scans.
SHORT_QUERY_SCAN = 5000


@dataclass(frozen=True, slots=True)
class ItemRow:
    id: int
    conversation_id: str
    pos: int
    seq: int | None
    ref: str | None
    kind: str
    side: str
    at: int
    text_hash: str | None
    caption: str | None
    echo_seq: int | None


class BlindSearch:
    """What `Timeline` adds to its connection for search (it sets these attributes)."""

    cache: Cache
    db: sqlite3.Connection
    _terms: tuple[Sealer, dict[str, str]] | None

    def index_terms(self, folded: str) -> str:
        """`blind_index.index_terms(folded, sealer.keyed_hash)`, each trigram's term
        remembered (at most TERM_HASH_CACHE, per sealer): a message has ~30 trigrams and a
        language far fewer distinct ones than messages, so most are hashed once."""
        sealer = self.cache.sealer
        if self._terms is None or self._terms[0] is not sealer:
            self._terms = (sealer, {})
        known = self._terms[1]
        found = []
        for gram in trigrams(folded):
            hashed = known.get(gram)
            if hashed is None:
                if len(known) >= TERM_HASH_CACHE:
                    known.clear()  # cheaper than an LRU's bookkeeping on every hit
                hashed = known[gram] = term(gram, sealer.keyed_hash)
            found.append(hashed)
        return " ".join(found)

    def search(self, folded: str, limit: int) -> list[ItemRow]:
        """Items whose folded text contains `folded`, newest first."""
        self.cache.flush_deferred()
        matches = self._index_matches(folded) if len(folded) >= 3 else self._recent_matches(folded)
        ids: list[int] = []
        for item_id in matches:
            ids.append(item_id)
            if len(ids) >= limit:
                break
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            f"SELECT {ITEM_COLUMNS} FROM items WHERE id IN ({marks}) ORDER BY id DESC", ids
        ).fetchall()
        return [self._item(r) for r in rows]

    def _index_matches(self, folded: str) -> Iterator[int]:
        terms = query_terms(folded, self.cache.sealer.keyed_hash)
        if terms is None:
            return
        # Newest candidates first: FTS5's forward order, as the index holds negated ids
        # (schema.search_rowid), so the walk stops at the page asked for. Holding every
        # trigram is not proof of the substring, so each candidate's sealed text is opened
        # and checked; the item row is read by its primary key only for candidates.
        cursor = self.db.execute(
            "SELECT -s.rowid, i.folded FROM search_terms s JOIN items i ON i.id = -s.rowid "
            "WHERE search_terms MATCH ? ORDER BY s.rowid",
            (terms,),
        )
        for item_id, sealed in cursor:
            if sealed is not None and folded in self.cache.open_text(sealed):
                yield int(item_id)

    def _recent_matches(self, folded: str) -> Iterator[int]:
        cursor = self.db.execute(
            "SELECT id, folded FROM items WHERE folded IS NOT NULL ORDER BY id DESC LIMIT ?",
            (SHORT_QUERY_SCAN,),
        )
        for item_id, sealed in cursor:
            if folded in self.cache.open_text(sealed):
                yield int(item_id)

    def _item(self, row: tuple[Any, ...]) -> ItemRow:
        values = list(row)
        values[9] = self.cache.open_optional(values[9])  # caption
        return ItemRow(*values)
