"""`Cache`: the console's SQLite file (WAL) in the user data directory.

It holds the timeline entries received from the relay, what each conversation shows
(store/timeline.py), read marks, drafts, the outbox and the last `seq`. Chat bodies
(entry payloads, previews, outbox bodies, drafts) pass through a `Sealer` before they are
written. Single-threaded by design: the console calls it from its event loop.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from kenar_tui.errors import ConfigError
from kenar_tui.privacy.sealing import PlainSealer, Sealer
from kenar_tui.store import schema

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
    ) -> None:
        self.path = Path(path)
        self.sealer: Sealer = sealer or PlainSealer()
        self.log = logger or logging.getLogger("kenar_tui.store")
        self._depth = 0
        self._closed = False
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise ConfigError(f"{self.path}: the cache cannot be opened ({exc})") from None
        try:
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA synchronous = NORMAL")
            self.db.execute("PRAGMA busy_timeout = 5000")
            schema.migrate(self.db)
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise ConfigError(
                f"{self.path}: not a kenar-tui cache ({exc}); move it away to start afresh"
            ) from None
        self.log.info("cache opened at %s", self.path)

    def __repr__(self) -> str:
        return f"Cache({str(self.path)!r})"

    # --- lifetime --------------------------------------------------------------------------

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.db.close()
        self.log.info("cache closed")

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
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write; nested uses join the outer transaction."""
        if self._depth:
            self._depth += 1
            try:
                yield self.db
            finally:
                self._depth -= 1
            return
        self.db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self.db
        except BaseException:
            self._depth = 0
            self.db.execute("ROLLBACK")
            raise
        self._depth = 0
        self.db.execute("COMMIT")

    # --- sealing ---------------------------------------------------------------------------

    def seal_json(self, value: Any) -> bytes:
        return self.sealer.seal(json.dumps(value, ensure_ascii=False).encode())

    def open_json(self, blob: bytes) -> Any:
        return json.loads(self.sealer.open(blob))

    def seal_text(self, text: str) -> bytes:
        return self.sealer.seal(text.encode())

    def open_text(self, blob: bytes | None) -> str:
        return self.sealer.open(blob).decode() if blob is not None else ""

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

    def put_entry(self, seq: int, entry: dict[str, Any], at: datetime) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO entries"
                " (seq, conversation_id, post_token, kind, at, payload) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    seq,
                    entry.get("conversation_id"),
                    entry.get("post_token"),
                    str(entry.get("kind") or "unknown"),
                    micros(at),
                    self.seal_json(entry),
                ),
            )

    def entry(self, seq: int) -> dict[str, Any] | None:
        row = self.db.execute("SELECT payload FROM entries WHERE seq = ?", (seq,)).fetchone()
        return self.open_json(row[0]) if row else None

    def entries(self, seqs: list[int]) -> dict[int, dict[str, Any]]:
        """Several entries by seq, in one indexed read."""
        if not seqs:
            return {}
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
        """Keep the composer's text for `cid`; None or blank text deletes the draft."""
        with self.transaction() as db:
            if text is None or not text.strip():
                db.execute("DELETE FROM drafts WHERE conversation_id = ?", (cid,))
                return
            db.execute(
                "INSERT INTO drafts (conversation_id, body, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (conversation_id) DO UPDATE SET body = excluded.body, "
                "updated_at = excluded.updated_at",
                (cid, self.seal_text(text), micros(now or datetime.now(UTC))),
            )

    # --- retention -------------------------------------------------------------------------

    def purge(self, older_than: datetime) -> int:
        """Forget everything that happened before `older_than`; returns the entries removed.

        Conversations whose last activity is older go entirely; newer ones lose their old
        items (their history then starts later). Pending outbox rows are kept whatever their
        age; finished ones go. The last `seq` is kept so the relay stream resumes correctly.
        """
        cutoff = micros(older_than)
        with self.transaction() as db:
            db.execute(
                "DELETE FROM search WHERE rowid IN (SELECT id FROM items WHERE at < ?)", (cutoff,)
            )
            db.execute("DELETE FROM items WHERE at < ?", (cutoff,))
            removed = db.execute("DELETE FROM entries WHERE at < ?", (cutoff,)).rowcount
            db.execute(
                "DELETE FROM conversations WHERE last_at IS NOT NULL AND last_at < ? "
                "AND id NOT IN (SELECT conversation_id FROM outbox "
                "WHERE state IN ('sending', 'retrying'))",
                (cutoff,),
            )
            # Newer conversations: their history now starts at the oldest item left.
            db.execute(
                "UPDATE conversations SET first_pos = COALESCE("
                "(SELECT MIN(pos) FROM items WHERE items.conversation_id = conversations.id),"
                " next_pos)"
            )
            db.execute("DELETE FROM notices WHERE at < ?", (cutoff,))
            db.execute("DELETE FROM buttons WHERE at < ?", (cutoff,))
            db.execute(
                "DELETE FROM outbox WHERE updated_at < ? AND state IN ('sent', 'failed') "
                "AND COALESCE(relay_state, 'posted') = 'posted'",
                (cutoff,),
            )
            db.execute("DELETE FROM drafts WHERE updated_at < ?", (cutoff,))
        self.log.info("cache purged %d entries", removed)
        return removed
