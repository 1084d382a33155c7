"""A blind search index: find messages by substring without storing their text in the clear.

A full-text index over message text would put every message back on disk in plain bytes. A
blind index stores, for each message, the keyed hashes of its character trigrams instead; a
query is cut into trigrams the same way and an item matches when it holds all of them. The
hashes come from `Sealer.keyed_hash`, so without the key they say nothing about the text
(what remains visible is how often the same trigram recurs, not which trigram it is).

Use with SQLite FTS5 and its default tokenizer (the terms are plain hex words):

    CREATE VIRTUAL TABLE search USING fts5 (terms);
    INSERT INTO search (rowid, terms) VALUES (?, index_terms(folded_text, sealer.keyed_hash))
    SELECT rowid FROM search WHERE search MATCH query_terms(folded_query, sealer.keyed_hash)

Holding every trigram of a query does not prove the query is a contiguous substring (rarely, for
long queries), so a store that must be exact opens the candidate items and checks them. Queries
shorter than three characters have no trigram (`query_terms` returns None): the store then
opens and scans the most recent items instead.
"""

from __future__ import annotations

from collections.abc import Callable

TERM_HEX = 12  # 48 bits per term: collisions between distinct trigrams are negligible
_DOMAIN = "trigram\x00"


def trigrams(text: str) -> list[str]:
    """The distinct character trigrams of `text`, in first-seen order (whitespace collapsed)."""
    squeezed = " ".join(text.split())
    seen: dict[str, None] = {}
    for start in range(len(squeezed) - 2):
        seen.setdefault(squeezed[start : start + 3], None)
    return list(seen)


def _term(trigram: str, keyed_hash: Callable[[str], str]) -> str:
    # A letter first: FTS5's tokenizer and query syntax take any alphanumeric word, but a term
    # made only of digits would read like a number to a person debugging the index.
    return "t" + keyed_hash(_DOMAIN + trigram)[:TERM_HEX]


def term(trigram: str, keyed_hash: Callable[[str], str]) -> str:
    """The index term of one trigram of `trigrams` (for a caller that remembers them)."""
    return _term(trigram, keyed_hash)


def index_terms(text: str, keyed_hash: Callable[[str], str]) -> str:
    """The space-separated terms to index `text` (already folded for search) under."""
    return " ".join(_term(t, keyed_hash) for t in trigrams(text))


def query_terms(query: str, keyed_hash: Callable[[str], str]) -> str | None:
    """An FTS5 MATCH expression requiring every trigram of `query`; None below three characters."""
    grams = trigrams(query)
    if not grams:
        return None
    return " AND ".join(_term(t, keyed_hash) for t in grams)
