"""What the cache keeps sealed, and checking on open that the sealer is the one it was sealed with.

Every column below holds a blob from the cache's `Sealer` (AES-256-GCM in the app,
docs/privacy.md). `meta` records whether the file is sealed and a check blob sealed with the
cache's key, so opening a cache with another key (a new keyring, a restored file) is a clear
SealingError at once instead of a failure in the middle of the conversation list, and opening
an encrypted cache without a key is refused rather than read as garbage.

A file written unencrypted (schema 1, or a cache opened without a key) is sealed in place the
first time it is opened with a key, its plain search index is replaced by the blind index, and
the file is vacuumed so no plain copy is left in free pages or the write-ahead log.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from kenar_core.blind_index import index_terms
from kenar_core.errors import SealingError
from kenar_core.sealing import PlainSealer
from kenar_tui.store import schema

if TYPE_CHECKING:
    from kenar_tui.store.cache import Cache

# (table, key column, sealed column)
SEALED_COLUMNS = (
    ("entries", "seq", "payload"),
    ("items", "id", "caption"),
    ("items", "id", "folded"),
    ("conversations", "id", "last_preview"),
    ("posts", "token", "title"),
    ("posts", "token", "price"),
    ("buttons", "rowid", "caption"),
    ("notices", "id", "payload"),
    ("outbox", "ref", "body"),
    ("outbox", "ref", "reason"),
    ("drafts", "conversation_id", "body"),
)
MODE_KEY = "sealed"  # "yes" once the file is sealed with a key
CHECK_KEY = "seal_check"
CHECK_TEXT = b"kenar-tui cache"


def encrypting(cache: Cache) -> bool:
    return not isinstance(cache.sealer, PlainSealer)


def prepare(cache: Cache, found_version: int) -> None:
    """Check the sealer against the file; seal and re-index an older or unsealed file."""
    sealed = cache.meta(MODE_KEY) == "yes"
    if sealed and not encrypting(cache):
        raise SealingError(
            f"the cache {cache.path} is encrypted and was opened without its key; open it "
            "from kenar-tui (the key is in the keyring), or run `kenar-tui purge`"
        )
    if sealed and not _empty(cache):
        _check(cache)  # an emptied cache (kenar-tui purge) takes whatever key it is given
    rewrote = False
    with cache.transaction() as db:
        if encrypting(cache) and (not sealed or _empty(cache)):
            rewrote = _reseal_all(cache, db) > 0
            _reindex_terms(cache, db)  # the terms were hashed without the key
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, 'yes'), (?, ?)",
                (MODE_KEY, CHECK_KEY, cache.sealer.seal(CHECK_TEXT).hex()),
            )
        if found_version == 1:
            rewrote = _reindex_v1(cache, db) or rewrote
        schema.set_version(db)
    if rewrote:
        # Plain bytes of the old rows would survive in free pages and the WAL.
        cache.db.execute("VACUUM")
        cache.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cache.log.info("cache sealed and re-indexed in place")


def _empty(cache: Cache) -> bool:
    return all(
        cache.db.execute(f"SELECT 1 FROM {table} WHERE {column} IS NOT NULL LIMIT 1").fetchone()
        is None
        for table, _, column in SEALED_COLUMNS
    )


def _check(cache: Cache) -> None:
    stored = cache.meta(CHECK_KEY) or ""
    try:
        opened = cache.sealer.open(bytes.fromhex(stored))
    except ValueError:
        opened = b""
    except SealingError as exc:
        raise SealingError(
            f"the cache {cache.path} cannot be opened with the keys in the keyring: {exc}. "
            "Restore the keyring entry kenar-tui/cache-encryption-keys from a backup, or run "
            "`kenar-tui purge` to start with an empty cache"
        ) from None
    if opened != CHECK_TEXT:
        raise SealingError(
            f"the cache {cache.path} was sealed with another key than the keyring's; restore "
            "the keyring entry kenar-tui/cache-encryption-keys, or run `kenar-tui purge`"
        )


def _reseal_all(cache: Cache, db: sqlite3.Connection) -> int:
    count = 0
    for table, key, column in SEALED_COLUMNS:
        rows = db.execute(
            f"SELECT {key}, {column} FROM {table} WHERE {column} IS NOT NULL"
        ).fetchall()
        for row_key, value in rows:
            plain = value.encode() if isinstance(value, str) else bytes(value)
            db.execute(
                f"UPDATE {table} SET {column} = ? WHERE {key} = ?",
                (cache.sealer.seal(plain), row_key),
            )
        count += len(rows)
    return count


def _reindex_terms(cache: Cache, db: sqlite3.Connection) -> None:
    # (Echo hashes and button keys made without the key are not rebuilt: their inputs are
    # not stored. Both only help for recent items; an old reply echo then shows twice.)
    db.execute("DELETE FROM search_terms")
    rows = db.execute("SELECT id, folded FROM items WHERE folded IS NOT NULL").fetchall()
    for item_id, sealed in rows:
        db.execute(
            "INSERT INTO search_terms (rowid, terms) VALUES (?, ?)",
            (
                schema.search_rowid(int(item_id)),
                index_terms(cache.open_text(sealed), cache.sealer.keyed_hash),
            ),
        )


def _reindex_v1(cache: Cache, db: sqlite3.Connection) -> bool:
    """Schema 1 kept the folded text in a plain FTS5 table: move it into the blind index."""
    exists = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'search'"
    ).fetchone()
    if exists is None:
        return False
    for rowid, folded in db.execute("SELECT rowid, folded FROM search").fetchall():
        text = str(folded)
        db.execute("UPDATE items SET folded = ? WHERE id = ?", (cache.seal_text(text), int(rowid)))
        db.execute(
            "INSERT INTO search_terms (rowid, terms) VALUES (?, ?)",
            (schema.search_rowid(int(rowid)), index_terms(text, cache.sealer.keyed_hash)),
        )
    db.execute("DROP TABLE search")
    return True
