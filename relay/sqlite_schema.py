"""The timeline's SQLite file: its tables, how connections to it are opened, and the statements
the store runs on the writer's connection (a probe write, the purges, the head at start).

Kept apart from `SqliteStore` (relay/sqlite_store.py), which decides when each runs and on which
thread: the store reads as what it promises (one writer, group commit, batched reads), this file
as what SQLite is asked.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from kenar_core.files import private_sqlite

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at INTEGER NOT NULL,
    dedupe TEXT UNIQUE,
    payload BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_received_at ON entries(received_at);
CREATE TABLE IF NOT EXISTS probe (filler BLOB);
"""

PURGE_CHUNK = 2000


def open_writer(path: Path, *, max_db_mb: int) -> sqlite3.Connection:
    """The one writing connection: WAL, synchronous=FULL (why: sqlite_store.py's docstring),
    the schema, and the file capped at `max_db_mb` (0: no cap)."""
    private_sqlite(path)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=5000")
    conn.executescript(SCHEMA)
    if max_db_mb:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count={max_db_mb * 1024 * 1024 // page_size}")
    return conn


def connect_reader(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA query_only=1")
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


def read_head(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'entries'").fetchone()
    return int(row[0]) if row else 0


def probe(conn: sqlite3.Connection, size: int) -> None:
    """A real write as large as the largest entry, so a full disk shows; it leaves nothing."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("INSERT INTO probe(filler) VALUES (zeroblob(?))", (size,))
        conn.execute("DELETE FROM probe")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def purge_seq_step(conn: sqlite3.Connection, through: int) -> int:
    cur = conn.execute(
        "DELETE FROM entries WHERE seq IN "
        "(SELECT seq FROM entries WHERE seq <= ? ORDER BY seq LIMIT ?)",
        (through, PURGE_CHUNK),
    )
    return cur.rowcount


def purge_step(conn: sqlite3.Connection, limit_us: int) -> int:
    cur = conn.execute(
        "DELETE FROM entries WHERE seq IN "
        "(SELECT seq FROM entries WHERE received_at < ? ORDER BY seq LIMIT ?)",
        (limit_us, PURGE_CHUNK),
    )
    return cur.rowcount
