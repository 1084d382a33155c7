"""`Cache`: the console's SQLite file (WAL) in the user data directory.

It holds the timeline entries received from the relay, what each conversation shows
(store/timeline.py), read marks, drafts, the outbox and the last `seq`. Every personal
column (entry payloads, item text and captions, previews, post titles, button captions,
notices, outbox bodies and reasons, drafts) passes through a `Sealer` before it is written
(store/at_rest.py lists them); search goes through a blind index of keyed hashes. The app
opens it with AES-GCM and the keyring's key (store/opening.py). One `Cache` is used from one
thread: the console's event loop has its own, and the thread that stores live entries
(inbox/writer.py) a twin on the same file (`writer_twin`); in WAL the twin's commits never
block the loop's reads, which see what was committed.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from kenar_core.errors import ConfigError
from kenar_core.files import private_dir, private_sqlite
from kenar_core.sealing import PlainSealer, Sealer
from kenar_tui.store import at_rest, purging, schema
from kenar_tui.store.changes import ConversationChanges

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(moment: datetime) -> int:
    """Microseconds since the epoch for an aware (or UTC-naive) datetime."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return (aware - _EPOCH) // timedelta(microseconds=1)


def from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


class Cache:
    """The local store; `with Cache(path) as cache:` or `async with`, closing is idempotent."""

    def __init__(
        self,
        path: Path | str,
        *,
        sealer: Sealer | None = None,
        logger: logging.Logger | None = None,
        prepared: bool = False,
    ) -> None:
        """Open (and migrate, seal) the file; `prepared`: another connection already did."""
        self.path = Path(path)
        self.sealer: Sealer = sealer or PlainSealer()
        self.log = logger or logging.getLogger("kenar_tui.store")
        self._depth = 0
        self._closed = False
        # Inside a transaction: inserts nothing reads before the commit (entries, index
        # terms), written together with executemany just before it (`defer_insert`) ...
        self._deferred: dict[str, list[tuple[Any, ...]]] = {}
        # ... the summary rows touched, told to the watchers once when it ends ...
        self._changed_in_transaction: set[str] = set()
        # ... and what the Timeline learnt of rows this transaction holds locked (`memo`).
        self.memo: dict[Any, Any] = {}
        # Who wants to know which conversations' summary rows writes touched (the Inbox).
        self._watchers: weakref.WeakSet[ConversationChanges] = weakref.WeakSet()
        # Run first when this cache closes: the writer thread and its twin connection.
        self._on_close: list[Callable[[], None]] = []
        if str(path) != ":memory:":
            private_dir(self.path.parent)
            private_sqlite(self.path)
        try:
            self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise ConfigError(f"{self.path}: the cache cannot be opened ({exc})") from None
        try:
            self.db.execute("PRAGMA journal_mode = WAL")
            # FULL: the WAL is fsynced at every commit, so an entry is durable when its
            # transaction returns, and the relay may be told so (an `ack`, then purge).
            self.db.execute("PRAGMA synchronous = FULL")
            self.db.execute("PRAGMA busy_timeout = 5000")
            if prepared:
                self.log.debug("cache connection opened at %s", self.path)
                return
            found = schema.migrate(self.db)
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise ConfigError(
                f"{self.path}: not a kenar-tui cache ({exc}); move it away to start afresh"
            ) from None
        except BaseException:
            self.db.close()
            raise
        try:
            at_rest.prepare(self, found)
        except BaseException:
            self.db.close()
            raise
        self.log.info("cache opened at %s", self.path)

    def __repr__(self) -> str:
        return f"Cache({str(self.path)!r})"

    # --- lifetime --------------------------------------------------------------------------

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for close in reversed(self._on_close):
            close()
        self._on_close.clear()
        self.db.close()
        self.log.info("cache closed")

    def on_close(self, close: Callable[[], None]) -> None:
        """Call `close` when this cache closes, before its connection does (last added first)."""
        self._on_close.append(close)

    def writer_twin(self) -> Cache:
        """Another connection to this file, for one writer thread: same sealer, no migration.

        Its caller closes it. An in-memory cache has no file to share, so it has no twin.
        """
        if str(self.path) == ":memory:":
            raise ConfigError("an in-memory cache cannot be shared with a writer thread")
        return Cache(self.path, sealer=self.sealer, logger=self.log, prepared=True)

    async def aclose(self) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """One atomic write; nested uses join the outer transaction.

        durable=False: committed without waiting for the disk (WAL, synchronous=NORMAL): it
        survives the console crashing, not the machine losing power. Only for what the user
        would barely miss and the relay never relies on: read marks, drafts.
        """
        if self._depth:
            self._depth += 1
            try:
                yield self.db
            finally:
                self._depth -= 1
            return
        if not durable:
            self.db.execute("PRAGMA synchronous = NORMAL")
        try:
            self.db.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self.db
                self.flush_deferred()
            except BaseException:
                self._depth = 0
                self.db.execute("ROLLBACK")
                raise
            self._depth = 0
            self.db.execute("COMMIT")
        finally:
            self._depth = 0
            self._deferred.clear()
            self.memo.clear()
            self._tell_watchers()
            if not durable:
                self.db.execute("PRAGMA synchronous = FULL")

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    def defer_insert(self, sql: str, row: tuple[Any, ...]) -> None:
        """Run the insert `sql` with `row` before this transaction commits (one executemany
        per statement), or at once outside a transaction. Only for rows nothing reads in the
        meantime except through `flush_deferred` (`entry`, `entries` and search do)."""
        if not self._depth:
            with self.transaction() as db:
                db.execute(sql, row)
            return
        self._deferred.setdefault(sql, []).append(row)

    def flush_deferred(self) -> None:
        """Write the deferred inserts now (before a read that may need them, and the commit)."""
        while self._deferred:
            sql = next(iter(self._deferred))
            self.db.executemany(sql, self._deferred.pop(sql))

    # --- which summaries changed -----------------------------------------------------------

    def watch_conversations(self) -> ConversationChanges:
        """A record of the conversations whose summary changes from now on (all, at first)."""
        changes = ConversationChanges()
        self._watchers.add(changes)
        return changes

    def conversation_changed(self, cid: str) -> None:
        """A write touched `cid`'s summary row (told when its transaction ends: a batch
        touches the same few rows many times)."""
        self._changed_in_transaction.add(cid)
        if not self._depth:
            self._tell_watchers()

    def conversations_changed(self, cids: set[str]) -> None:
        """`conversation_changed` for each of `cids` (another connection's batch)."""
        self._changed_in_transaction.update(cids)
        if not self._depth:
            self._tell_watchers()

    def _tell_watchers(self) -> None:
        if not self._changed_in_transaction:
            return
        changed, self._changed_in_transaction = self._changed_in_transaction, set()
        for changes in self._watchers:
            changes.update(changed)

    def every_conversation_changed(self) -> None:
        """A write may have touched any summary (purges, post titles): read them all again."""
        for changes in self._watchers:
            changes.add_all()

    @contextmanager
    def _may_change_every_conversation(self) -> Iterator[None]:
        # Purges run every few seconds and usually delete nothing: only a real change counts.
        before = self.db.total_changes
        try:
            yield
        finally:
            if self.db.total_changes != before:
                self.every_conversation_changed()

    # --- sealing ---------------------------------------------------------------------------

    def seal_json(self, value: Any) -> bytes:
        return self.sealer.seal(json.dumps(value, ensure_ascii=False).encode())

    def open_json(self, blob: bytes) -> Any:
        return json.loads(self.sealer.open(blob))

    def seal_text(self, text: str) -> bytes:
        return self.sealer.seal(text.encode())

    def open_text(self, blob: bytes | None) -> str:
        return self.sealer.open(blob).decode() if blob is not None else ""

    def seal_optional(self, text: str | None) -> bytes | None:
        return None if text is None else self.seal_text(text)

    def open_optional(self, blob: bytes | None) -> str | None:
        return None if blob is None else self.open_text(blob)

    def text_hash(self, text: str) -> str:
        """A keyed hash of a message text, to recognise an echo without storing the text."""
        return self.sealer.keyed_hash(" ".join(text.split()))

    # --- meta and last seq -----------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    @property
    def last_seq(self) -> int:
        value = self.meta("last_seq")
        return int(value) if value else 0

    def set_last_seq(self, seq: int) -> None:
        self.set_meta("last_seq", str(seq))

    # --- entries ---------------------------------------------------------------------------

    def put_entry(
        self, seq: int, entry: dict[str, Any], at: datetime, *, encoded: str | None = None
    ) -> None:
        """Store entry `seq` (a seq stored already is kept as it was). `encoded`: the entry's
        `json.dumps(entry, ensure_ascii=False)`, when the caller made it already."""
        if encoded is None:
            encoded = json.dumps(entry, ensure_ascii=False)
        self.defer_insert(
            "INSERT OR IGNORE INTO entries"
            " (seq, conversation_id, post_token, kind, at, payload) VALUES (?, ?, ?, ?, ?, ?)",
            (
                seq,
                entry.get("conversation_id"),
                entry.get("post_token"),
                str(entry.get("kind") or "unknown"),
                micros(at),
                self.sealer.seal(encoded.encode()),
            ),
        )

    def entry(self, seq: int) -> dict[str, Any] | None:
        self.flush_deferred()
        row = self.db.execute("SELECT payload FROM entries WHERE seq = ?", (seq,)).fetchone()
        return self.open_json(row[0]) if row else None

    def entries(self, seqs: list[int]) -> dict[int, dict[str, Any]]:
        """Several entries by seq, in one indexed read."""
        if not seqs:
            return {}
        self.flush_deferred()
        marks = ",".join("?" * len(seqs))
        rows = self.db.execute(
            f"SELECT seq, payload FROM entries WHERE seq IN ({marks})", seqs
        ).fetchall()
        return {int(seq): self.open_json(payload) for seq, payload in rows}

    # --- drafts ----------------------------------------------------------------------------

    def draft(self, cid: str) -> str | None:
        row = self.db.execute(
            "SELECT body FROM drafts WHERE conversation_id = ?", (cid,)
        ).fetchone()
        return self.open_text(row[0]) if row else None

    def set_draft(self, cid: str, text: str | None, *, now: datetime | None = None) -> None:
        """Keep the composer's text for `cid`; None or blank text deletes the draft.

        Called on every move between conversations: nothing is written when nothing changes
        (a read never waits for the live writer's transaction; a write would).
        """
        blank = text is None or not text.strip()
        if self.draft(cid) == (None if blank else text):
            return
        with self.transaction(durable=False) as db:
            if text is None or not text.strip():
                db.execute("DELETE FROM drafts WHERE conversation_id = ?", (cid,))
                return
            db.execute(
                "INSERT INTO drafts (conversation_id, body, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (conversation_id) DO UPDATE SET body = excluded.body, "
                "updated_at = excluded.updated_at",
                (cid, self.seal_text(text), micros(now or datetime.now(UTC))),
            )

    # --- retention (the store contract of kenar_tui/privacy/retention.py) ---------------

    def purge_batch(self, older_than: datetime, limit: int) -> int:
        """Delete up to `limit` entries (and items, notices...) stored before `older_than`."""
        with self._may_change_every_conversation():
            return purging.purge_batch(self, micros(older_than), limit)

    def purge_bodies_batch(self, older_than: datetime, limit: int) -> int:
        """Drop up to `limit` message bodies older than `older_than`; summaries stay."""
        with self._may_change_every_conversation():  # previews go too
            return purging.purge_bodies_batch(self, micros(older_than), limit)

    def purge(self, older_than: datetime, *, batch: int = 500) -> int:
        """Forget everything that happened before `older_than` now; returns the entries removed.

        Conversations whose last activity is older go entirely; newer ones lose their old
        items (their history then starts later). Pending outbox rows are kept whatever their
        age; finished ones go. The last `seq` is kept so the relay stream resumes correctly.
        """
        cutoff = micros(older_than)
        removed = int(
            self.db.execute("SELECT count(*) FROM entries WHERE at < ?", (cutoff,)).fetchone()[0]
        )
        with self._may_change_every_conversation():
            while purging.purge_batch(self, cutoff, batch) >= batch:
                pass
        self.log.info("cache purged %d entries", removed)
        return removed
