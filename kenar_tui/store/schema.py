"""The cache's tables. Times are integer microseconds since the epoch (UTC).

entries        the timeline as the relay sent it; payload is the sealed entry JSON
items          what a conversation shows, in order: `pos` counts from 0 per conversation,
               so a page of history is an indexed range read (conversation_id, pos)
conversations  one summary row per conversation, updated as entries arrive
posts          post titles (POST_UPDATE entries and legacy metadata)
buttons        captions of the server-link buttons we sent, keyed by a hash of their data
notices        timeline entries that belong to no conversation (revocations, gaps, ...)
outbox         replies being sent, sent or failed; body sealed
drafts         unsent composer text per conversation; body sealed
search         FTS5 (trigram) over the folded text of items; rowid = items.id
meta           last_seq and the schema version
"""

from __future__ import annotations

import sqlite3

VERSION = 1

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
    caption TEXT,
    echo_seq INTEGER,
    UNIQUE (conversation_id, pos)
);
CREATE INDEX IF NOT EXISTS items_ref ON items (ref) WHERE ref IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_seq ON items (seq) WHERE seq IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_at ON items (at);
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
CREATE TABLE IF NOT EXISTS posts (token TEXT PRIMARY KEY, title TEXT, updated_at INTEGER);
CREATE TABLE IF NOT EXISTS buttons (
    key TEXT NOT NULL,
    conversation_id TEXT,
    caption TEXT NOT NULL,
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
    reason TEXT,
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
CREATE VIRTUAL TABLE IF NOT EXISTS search USING fts5 (folded, tokenize = 'trigram');
"""


def migrate(db: sqlite3.Connection) -> None:
    """Create the tables on a new file; refuse a file written by a newer version."""
    db.executescript(DDL)
    row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    if row is None:
        db.execute("INSERT INTO meta (key, value) VALUES ('schema', ?)", (str(VERSION),))
    elif int(row[0]) > VERSION:
        from kenar_tui.errors import ConfigError

        raise ConfigError(
            f"the cache was written by a newer kenar-tui (schema {row[0]}); upgrade kenar-tui"
        )
    db.commit()
