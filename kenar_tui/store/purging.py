"""Deleting from the cache: retention in small batches, and `kenar-tui purge` (everything now).

`purge_batch` and `purge_bodies_batch` implement the store contract of
kenar_tui/privacy/retention.py: each is one short transaction touching at most `limit` rows
per table, so the console's own writes (entries arriving from the relay) run between batches.

Entries past retention go with their items, search terms and notices; a conversation whose
last activity is past retention goes too, unless a reply to it is still being sent. Newer
conversations lose their old items (their history then starts later). Bodies past the body
retention (shorter, when set) are dropped while the conversation list stays: the entry's
sealed payload, the item's sealed text and caption and its search terms, old notices, the
preview of a conversation whose last message is that old, finished replies.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from kenar_tui.store.schema import search_rowid

if TYPE_CHECKING:
    from kenar_tui.store.cache import Cache

_PENDING_CONVERSATIONS = (
    "SELECT conversation_id FROM outbox WHERE state IN ('sending', 'retrying') "
    "OR (state = 'sent' AND relay_state = 'pending')"
)
_FINISHED_OUTBOX = "state IN ('sent', 'failed') AND COALESCE(relay_state, 'posted') = 'posted'"
# Tables `purge_all` empties; meta keeps last_seq so the relay does not send it all again.
_DATA_TABLES = (
    "entries",
    "items",
    "search_terms",
    "conversations",
    "posts",
    "buttons",
    "notices",
    "outbox",
    "drafts",
)


def purge_batch(cache: Cache, cutoff: int, limit: int) -> int:
    """Delete up to `limit` rows per table stored before `cutoff` (µs); the largest count."""
    with cache.transaction() as db:
        items = db.execute(
            "SELECT id, conversation_id FROM items WHERE at < ? ORDER BY at LIMIT ?",
            (cutoff, limit),
        ).fetchall()
        ids = [int(i) for i, _ in items]
        _delete_ids(db, "search_terms", "rowid", [search_rowid(i) for i in ids])
        _delete_ids(db, "items", "id", ids)
        entries = db.execute(
            "DELETE FROM entries WHERE seq IN "
            "(SELECT seq FROM entries WHERE at < ? ORDER BY seq LIMIT ?)",
            (cutoff, limit),
        ).rowcount
        notices = db.execute(
            "DELETE FROM notices WHERE id IN (SELECT id FROM notices WHERE at < ? LIMIT ?)",
            (cutoff, limit),
        ).rowcount
        for cid in {str(c) for _, c in items}:
            # This conversation's history now starts at its oldest item left.
            db.execute(
                "UPDATE conversations SET first_pos = COALESCE("
                "(SELECT MIN(pos) FROM items WHERE conversation_id = ?), next_pos) WHERE id = ?",
                (cid, cid),
            )
        done = max(len(ids), entries, notices)
        if done < limit:
            done = max(done, _purge_small_tables(db, cutoff, limit))
    return done


def _purge_small_tables(db: sqlite3.Connection, cutoff: int, limit: int) -> int:
    conversations = db.execute(
        "DELETE FROM conversations WHERE id IN (SELECT id FROM conversations "
        f"WHERE last_at IS NOT NULL AND last_at < ? AND id NOT IN ({_PENDING_CONVERSATIONS}) "
        "LIMIT ?)",
        (cutoff, limit),
    ).rowcount
    db.execute(
        "DELETE FROM posts WHERE token NOT IN (SELECT post_token FROM conversations "
        "WHERE post_token IS NOT NULL) AND COALESCE(updated_at, 0) < ?",
        (cutoff,),
    )
    buttons = db.execute(
        "DELETE FROM buttons WHERE rowid IN (SELECT rowid FROM buttons WHERE at < ? LIMIT ?)",
        (cutoff, limit),
    ).rowcount
    outbox = db.execute(
        f"DELETE FROM outbox WHERE ref IN (SELECT ref FROM outbox WHERE updated_at < ? AND "
        f"{_FINISHED_OUTBOX} LIMIT ?)",
        (cutoff, limit),
    ).rowcount
    db.execute("DELETE FROM drafts WHERE updated_at < ?", (cutoff,))
    return max(conversations, buttons, outbox)


def purge_bodies_batch(cache: Cache, cutoff: int, limit: int) -> int:
    """Drop up to `limit` bodies stored before `cutoff` (µs); never counts one already gone."""
    with cache.transaction() as db:
        seqs = [
            int(r[0])
            for r in db.execute(
                "SELECT seq FROM entries WHERE at < ? ORDER BY seq LIMIT ?", (cutoff, limit)
            )
        ]
        _delete_ids(db, "entries", "seq", seqs)
        changed = len(seqs)
        items = [
            int(r[0])
            for r in db.execute(
                "SELECT id FROM items WHERE at < ? AND (folded IS NOT NULL OR caption IS NOT NULL "
                "OR text_hash IS NOT NULL) ORDER BY at LIMIT ?",
                (cutoff, limit),
            )
        ]
        _delete_ids(db, "search_terms", "rowid", [search_rowid(i) for i in items])
        for chunk in _chunks(items):
            marks = ",".join("?" * len(chunk))
            db.execute(
                "UPDATE items SET folded = NULL, caption = NULL, text_hash = NULL "
                f"WHERE id IN ({marks})",
                chunk,
            )
        changed = max(changed, len(items))
        changed = max(
            changed,
            db.execute(
                "DELETE FROM notices WHERE id IN (SELECT id FROM notices WHERE at < ? LIMIT ?)",
                (cutoff, limit),
            ).rowcount,
            db.execute(
                "UPDATE conversations SET last_preview = NULL WHERE id IN (SELECT id FROM "
                "conversations WHERE last_preview IS NOT NULL AND last_at < ? LIMIT ?)",
                (cutoff, limit),
            ).rowcount,
            db.execute(
                f"DELETE FROM outbox WHERE ref IN (SELECT ref FROM outbox WHERE updated_at < ? "
                f"AND {_FINISHED_OUTBOX} LIMIT ?)",
                (cutoff, limit),
            ).rowcount,
        )
    return changed


def _delete_ids(db: sqlite3.Connection, table: str, column: str, ids: list[int]) -> None:
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        db.execute(f"DELETE FROM {table} WHERE {column} IN ({marks})", chunk)


def _chunks(values: list[int], size: int = 500) -> list[list[int]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def purge_all(path: Path) -> int:
    """Delete every conversation, message, draft and reply in the cache file; entries removed.

    Works on the file directly, without its key (nothing is read), and whether or not a
    console has it open. An emptied cache opens with whatever key the keyring then holds
    (store/at_rest.py). The file is vacuumed: nothing deleted stays in free pages or the
    write-ahead log. The last `seq` is kept, so the relay does not send the history again.
    """
    db = sqlite3.connect(str(path), isolation_level=None)
    try:
        db.execute("PRAGMA busy_timeout = 5000")
        tables = {
            str(r[0]) for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        removed = 0
        db.execute("BEGIN IMMEDIATE")
        try:
            if "entries" in tables:
                removed = int(db.execute("SELECT count(*) FROM entries").fetchone()[0])
            for table in (*_DATA_TABLES, "search"):
                if table in tables:
                    db.execute(f"DELETE FROM {table}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("VACUUM")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    return removed
