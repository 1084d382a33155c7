"""The cache's tables. Times are integer microseconds since the epoch (UTC).

entries        the timeline as the relay sent it; payload is the sealed entry JSON
items          what a conversation shows, in order: `pos` counts from 0 per conversation,
               so a page of history is an indexed range read (conversation_id, pos);
               `caption` and `folded` (the searchable text) are sealed
conversations  one summary row per conversation, updated as entries arrive; preview sealed
posts          post titles (POST_UPDATE entries, legacy metadata, the finder API) and
               prices (the finder); title and price sealed
buttons        captions of the server-link buttons we sent, keyed by a keyed hash of their
               data; caption sealed
notices        timeline entries that belong to no conversation (revocations, gaps, ...)
outbox         replies being sent, sent or failed; body and reason sealed
drafts         unsent composer text per conversation; body sealed
search_terms   FTS5 blind index: keyed hashes of each item's trigrams (privacy/blind_index.py);
               rowid = -items.id (`search_rowid`), so the newest come first in FTS5's
               forward order: a newest-first page of matches reads only what it returns
               (FTS5 reads a term's whole doclist to walk it backwards: 80 ms and more
               at 1,000,000 items)
meta           last_seq, the schema version, and the sealing check (store/at_rest.py)

In the clear stay only what ordering and lookups need: seqs, times, conversation ids, post
tokens, kinds and states, and keyed hashes (docs/privacy.md).
"""

from __future__ import annotations

import sqlite3

VERSION = 3

DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY,
    conversation_id TEXT,
    post_token TEXT,
    kind TEXT NOT NULL,
    at INTEGER NOT NULL,
    payload BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_at ON entries (at);
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    pos INTEGER NOT NULL,
    seq INTEGER,
    ref TEXT,
    kind TEXT NOT NULL,
    side TEXT NOT NULL,
    at INTEGER NOT NULL,
    text_hash TEXT,
    caption BLOB,
    echo_seq INTEGER,
    folded BLOB,
    UNIQUE (conversation_id, pos)
);
CREATE INDEX IF NOT EXISTS items_ref ON items (ref) WHERE ref IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_seq ON items (seq) WHERE seq IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_at ON items (at);
-- Who each conversation is assigned to is read from these at start (Inbox.assignees): without
-- it, a scan of every item (1.1 s at 1,000,000). Existing files get it on their next open.
CREATE INDEX IF NOT EXISTS items_assignment ON items (seq)
    WHERE kind = 'assignment' AND seq IS NOT NULL;
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    post_token TEXT,
    type TEXT NOT NULL DEFAULT 'POST',
    first_pos INTEGER NOT NULL DEFAULT 0,
    next_pos INTEGER NOT NULL DEFAULT 0,
    last_at INTEGER,
    last_seq INTEGER NOT NULL DEFAULT 0,
    last_preview BLOB,
    unread INTEGER NOT NULL DEFAULT 0,
    read_seq INTEGER NOT NULL DEFAULT 0,
    waiting_since INTEGER,
    replied_at INTEGER
);
CREATE INDEX IF NOT EXISTS conversations_post ON conversations (post_token);
CREATE INDEX IF NOT EXISTS conversations_waiting ON conversations (waiting_since)
    WHERE waiting_since IS NOT NULL;
CREATE TABLE IF NOT EXISTS posts (
    token TEXT PRIMARY KEY, title BLOB, updated_at INTEGER, price BLOB
);
CREATE TABLE IF NOT EXISTS buttons (
    key TEXT NOT NULL,
    conversation_id TEXT,
    caption BLOB NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS buttons_key ON buttons (key, conversation_id);
CREATE TABLE IF NOT EXISTS notices (
    id INTEGER PRIMARY KEY,
    seq INTEGER,
    kind TEXT NOT NULL,
    at INTEGER NOT NULL,
    payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    ref TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    post_token TEXT,
    conversation_type TEXT NOT NULL,
    body BLOB NOT NULL,
    state TEXT NOT NULL,
    reason BLOB,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    relay_state TEXT,
    relay_seq INTEGER
);
CREATE INDEX IF NOT EXISTS outbox_state ON outbox (state);
CREATE TABLE IF NOT EXISTS drafts (
    conversation_id TEXT PRIMARY KEY,
    body BLOB NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS search_terms USING fts5 (terms);
"""


def migrate(db: sqlite3.Connection) -> int:
    """Create the tables on a new file; refuse a file written by a newer version.

    Returns the version the file had (0 for a new file): a version-1 file still has its plain
    `search` table and plain captions, which `store/at_rest.py` seals and re-indexes.
    """
    had_items = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'items'"
    ).fetchone()
    if had_items is not None and not _has_column(db, "items", "folded"):
        db.execute("ALTER TABLE items ADD COLUMN folded BLOB")
    db.executescript(DDL)
    if not _has_column(db, "posts", "price"):  # files from before the finder API was used
        db.execute("ALTER TABLE posts ADD COLUMN price BLOB")
    row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    found = 0 if row is None else int(row[0])
    if found > VERSION:
        from kenar_core.errors import ConfigError

        raise ConfigError(
            f"the cache was written by a newer kenar-tui (schema {row[0]}); upgrade kenar-tui"
        )
    db.commit()
    if had_items is not None and found == 2:
        # Schema 2 indexed items under their own id; 3 under its negation (see above). A new
        # table filled in one pass, in ascending new rowids, takes half the time of updating
        # the rowids in place (each update is a delete and an insert in every doclist). The
        # version is written after this by at_rest.prepare; rerunning it is harmless.
        db.execute("BEGIN IMMEDIATE")
        db.execute("DROP TABLE IF EXISTS search_terms_next")
        db.execute("CREATE VIRTUAL TABLE search_terms_next USING fts5 (terms)")
        db.execute(
            "INSERT INTO search_terms_next (rowid, terms) SELECT CASE WHEN rowid > 0"
            " THEN -rowid ELSE rowid END, terms FROM search_terms ORDER BY rowid DESC"
        )
        db.execute("DROP TABLE search_terms")
        db.execute("ALTER TABLE search_terms_next RENAME TO search_terms")
        db.execute("COMMIT")
    return found if had_items is not None else 0


def search_rowid(item_id: int) -> int:
    """The blind index's rowid for an item: its id negated (newest first in FTS5's order)."""
    return -item_id


def set_version(db: sqlite3.Connection) -> None:
    db.execute(
        "INSERT INTO meta (key, value) VALUES ('schema', ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (str(VERSION),),
    )


def _has_column(db: sqlite3.Connection, table: str, column: str) -> bool:
    return any(row[1] == column for row in db.execute(f"PRAGMA table_info({table})"))
