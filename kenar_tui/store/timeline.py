"""What each conversation shows, kept incrementally: items, summaries, read marks, search.

`Timeline` is a thin, stateless view over a `Cache` used by both the Inbox (entries from the
relay) and the Outbox (our own replies, before the relay has them). Every write updates the
conversation's summary row in place; nothing is ever recomputed from all items.

Search (the blind index's terms and finding items by text) is in store/timeline_search.py.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from kenar_tui.store.cache import Cache
from kenar_tui.store.schema import search_rowid
from kenar_tui.store.timeline_search import ITEM_COLUMNS as _ITEM_COLUMNS
from kenar_tui.store.timeline_search import BlindSearch, ItemRow
from kenar_tui.text.fold import fold

# How far back (in items) an echo of our reply is looked for.
ECHO_DEPTH = 50

# One page of a conversation's history: a range on the UNIQUE (conversation_id, pos) index.
PAGE_SQL = (
    f"SELECT {_ITEM_COLUMNS} FROM items WHERE conversation_id = ? AND pos >= ? AND pos < ?"
    " ORDER BY pos"
)
_SUMMARY_COLUMNS = (
    "c.id, c.post_token, c.type, c.first_pos, c.next_pos, c.last_at, c.last_seq, "
    "c.last_preview, c.unread, c.read_seq, c.waiting_since, c.replied_at, p.title, p.price"
)


@dataclass(frozen=True, slots=True)
class SummaryRow:
    id: str
    post_token: str | None
    type: str
    first_pos: int
    next_pos: int
    last_at: int | None
    last_seq: int
    last_preview: str
    unread: int
    read_seq: int
    waiting_since: int | None
    replied_at: int | None
    post_title: str | None
    post_price: int | None = None  # from the same join: no read per row

    @property
    def count(self) -> int:
        return self.next_pos - self.first_pos


@dataclass(slots=True)
class _Known:
    """A conversation row as the open transaction knows it: it holds the write lock
    (BEGIN IMMEDIATE), so only its own writes move the row, and they keep this up to date.
    Kept in `Cache.memo`, which each transaction's end empties."""

    next_pos: int
    post_token: str | None
    type: str


def _known_key(cid: str) -> tuple[str, str]:
    return ("conversation", cid)


class Timeline(BlindSearch):
    def __init__(self, cache: Cache) -> None:
        self.cache = cache
        self.db = cache.db
        self._terms = None

    # --- conversations ---------------------------------------------------------------------

    def ensure_conversation(self, cid: str, post_token: str | None, type_: str | None) -> None:
        """Create the summary row if new; fill in a post token or type learnt later."""
        self.cache.conversation_changed(cid)
        known: _Known | None = self.cache.memo.get(_known_key(cid))
        if (
            known is not None
            and (known.post_token is not None or post_token is None)
            and (type_ != "BOT" or known.type == "BOT")
        ):
            return  # the row is there and would not change
        with self.cache.transaction() as db:
            db.execute(
                "INSERT INTO conversations (id, post_token, type) VALUES (?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET "
                "post_token = COALESCE(conversations.post_token, excluded.post_token)",
                (cid, post_token, type_ or "POST"),
            )
            if type_ == "BOT":
                db.execute("UPDATE conversations SET type = 'BOT' WHERE id = ?", (cid,))
            if known is not None:
                known.post_token = known.post_token or post_token
                known.type = "BOT" if type_ == "BOT" else known.type

    def prefetch(self, cids: set[str]) -> None:
        """Read the rows of `cids` once for the open transaction (a batch of entries), so
        each entry's `ensure_conversation` and `append` need not read them again."""
        if not self.cache.in_transaction:
            raise RuntimeError("prefetch holds only inside a transaction")
        wanted = sorted(cids)
        for start in range(0, len(wanted), 500):  # SQLite's bound-parameter limit
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for cid, next_pos, post_token, type_ in self.db.execute(
                f"SELECT id, next_pos, post_token, type FROM conversations WHERE id IN ({marks})",
                chunk,
            ):
                self.cache.memo[_known_key(str(cid))] = _Known(int(next_pos), post_token, type_)

    def conversation_ids_of_post(self, post_token: str) -> list[str]:
        rows = self.db.execute(
            "SELECT id FROM conversations WHERE post_token = ?", (post_token,)
        ).fetchall()
        return [str(r[0]) for r in rows]

    def set_post_title(self, token: str, title: str, at: int) -> None:
        self.cache.every_conversation_changed()  # every conversation of the post shows it
        with self.cache.transaction() as db:
            db.execute(
                "INSERT INTO posts (token, title, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (token) DO UPDATE SET title = excluded.title, "
                "updated_at = excluded.updated_at WHERE excluded.updated_at >= posts.updated_at",
                (token, self.cache.seal_text(title), at),
            )

    def post_title(self, token: str) -> str | None:
        row = self.db.execute("SELECT title FROM posts WHERE token = ?", (token,)).fetchone()
        return (self.cache.open_optional(row[0]) or None) if row else None

    def post_price(self, token: str) -> int | None:
        """The asking price the finder gave (sealed at rest), or None when none is known."""
        row = self.db.execute("SELECT price FROM posts WHERE token = ?", (token,)).fetchone()
        return self._price(row[0]) if row else None

    def _price(self, sealed: bytes | None) -> int | None:
        text = self.cache.open_optional(sealed)
        return int(text) if text and text.isdigit() else None

    # --- items -----------------------------------------------------------------------------

    def append(
        self,
        cid: str,
        *,
        kind: str,
        side: str,
        at: int,
        seq: int | None = None,
        ref: str | None = None,
        text: str | None = None,
        preview: str | None = None,
        caption: str | None = None,
        touch: bool = True,
        from_buyer: bool = False,
    ) -> ItemRow:
        """Add an item at the end of `cid`'s history and bring its summary up to date.

        `touch=False` (system items such as post updates) leaves the last activity alone, so
        a post edit does not reorder the list. `from_buyer`: also what `buyer_wrote(cid,
        seq, at)` does, in the same statement.
        """
        self.cache.conversation_changed(cid)
        with self.cache.transaction() as db:
            known: _Known | None = self.cache.memo.get(_known_key(cid))
            if known is None:
                row = db.execute(
                    "SELECT next_pos, post_token, type FROM conversations WHERE id = ?", (cid,)
                ).fetchone()
                if row is None:
                    raise LookupError(f"conversation {cid} is not in the cache")
                known = _Known(int(row[0]), row[1], row[2])
                self.cache.memo[_known_key(cid)] = known
            pos = known.next_pos
            text_hash = self.cache.text_hash(text) if text else None
            folded = fold(text) if text else None
            cursor = db.execute(
                "INSERT INTO items (conversation_id, pos, seq, ref, kind, side, at, text_hash,"
                " caption, folded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    cid,
                    pos,
                    seq,
                    ref,
                    kind,
                    side,
                    at,
                    text_hash,
                    self.cache.seal_optional(caption),
                    self.cache.seal_text(folded) if folded is not None else None,
                ),
            )
            item_id = int(cursor.lastrowid or 0)
            sealed = self.cache.seal_text(preview) if preview is not None else None
            # Every right-hand side reads the row as it was: the buyer's part is the same
            # as `buyer_wrote` after this update (it reads no column this one sets).
            db.execute(
                "UPDATE conversations SET next_pos = next_pos + 1,"
                " last_at = CASE WHEN ? THEN MAX(COALESCE(last_at, 0), ?) ELSE last_at END,"
                " last_seq = MAX(last_seq, COALESCE(?, 0)),"
                " last_preview = COALESCE(?, last_preview),"
                " waiting_since = CASE WHEN ? THEN COALESCE(waiting_since, ?)"
                " ELSE waiting_since END,"
                " unread = unread + (CASE WHEN ? AND (COALESCE(?, 0) > read_seq OR ? IS NULL)"
                " THEN 1 ELSE 0 END) WHERE id = ?",
                (touch, at, seq, sealed, from_buyer, at, from_buyer, seq, seq, cid),
            )
            known.next_pos = pos + 1
            if folded is not None:
                self.cache.defer_insert(
                    "INSERT INTO search_terms (rowid, terms) VALUES (?, ?)",
                    (search_rowid(item_id), self.index_terms(folded)),
                )
        return ItemRow(item_id, cid, pos, seq, ref, kind, side, at, text_hash, caption, None)

    def update_item(self, item_id: int, **fields: Any) -> None:
        allowed = {"seq", "ref", "kind", "side", "caption", "echo_seq"}
        if not fields or set(fields) - allowed:
            raise ValueError(f"items can update only {sorted(allowed)}")
        if "caption" in fields:
            fields["caption"] = self.cache.seal_optional(fields["caption"])
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self.cache.transaction() as db:
            db.execute(f"UPDATE items SET {assignments} WHERE id = ?", (*fields.values(), item_id))
            if fields.get("seq") is not None:
                owner = db.execute(
                    "SELECT conversation_id FROM items WHERE id = ?", (item_id,)
                ).fetchone()
                if owner is not None:
                    self.cache.conversation_changed(str(owner[0]))
                db.execute(
                    "UPDATE conversations SET last_seq = MAX(last_seq, ?) WHERE id ="
                    " (SELECT conversation_id FROM items WHERE id = ?)",
                    (fields["seq"], item_id),
                )

    def item_by_ref(self, ref: str) -> ItemRow | None:
        row = self.db.execute(f"SELECT {_ITEM_COLUMNS} FROM items WHERE ref = ?", (ref,)).fetchone()
        return self._item(row) if row else None

    def item_with_seq(self, seq: int) -> ItemRow | None:
        """The (first) item an entry added, on the seq index; echoes are not looked at."""
        row = self.db.execute(
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE seq = ? ORDER BY id LIMIT 1", (seq,)
        ).fetchone()
        return self._item(row) if row else None

    def item_by_seq(self, seq: int) -> ItemRow | None:
        row = self.db.execute(
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE seq = ? OR echo_seq = ?", (seq, seq)
        ).fetchone()
        return self._item(row) if row else None

    def recent_with_text(self, cid: str, text_hash: str, *, since_at: int) -> list[ItemRow]:
        """Items among `cid`'s newest `ECHO_DEPTH` with this text hash, newest first.

        Echo matching: a range on the (conversation_id, pos) index, so its cost does not
        grow with the conversation.
        """
        rows = self.db.execute(
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE conversation_id = ? AND pos >= "
            "(SELECT next_pos FROM conversations WHERE id = ?) - ? AND text_hash = ? "
            "AND at >= ? ORDER BY pos DESC",
            (cid, cid, ECHO_DEPTH, text_hash, since_at),
        ).fetchall()
        return [self._item(r) for r in rows]

    def page(self, cid: str, start: int, stop: int) -> list[ItemRow]:
        """Items `start`..`stop` (0 = the oldest kept), oldest first: one index range read."""
        summary = self.db.execute(
            "SELECT first_pos, next_pos FROM conversations WHERE id = ?", (cid,)
        ).fetchone()
        if summary is None:
            return []
        first, end = int(summary[0]), int(summary[1])
        low, high = first + max(start, 0), min(first + max(stop, 0), end)
        if low >= high:
            return []
        rows = self.db.execute(PAGE_SQL, (cid, low, high)).fetchall()
        return [self._item(r) for r in rows]

    def position(self, item: ItemRow) -> int:
        """The index of `item` in its conversation's history as `page` counts."""
        row = self.db.execute(
            "SELECT first_pos FROM conversations WHERE id = ?", (item.conversation_id,)
        ).fetchone()
        return item.pos - (int(row[0]) if row else 0)

    # --- summary updates -------------------------------------------------------------------

    def buyer_wrote(self, cid: str, seq: int | None, at: int) -> None:
        """A buyer's message: the wait starts (if not already running); unread grows."""
        self.cache.conversation_changed(cid)
        with self.cache.transaction() as db:
            db.execute(
                "UPDATE conversations SET waiting_since = COALESCE(waiting_since, ?),"
                " unread = unread + (CASE WHEN COALESCE(?, 0) > read_seq OR ? IS NULL"
                " THEN 1 ELSE 0 END) WHERE id = ?",
                (at, seq, seq, cid),
            )

    def seller_wrote(self, cid: str, at: int) -> None:
        """The seller side wrote (we, a teammate, or the seller's own app): the wait ends,
        and what the buyer wrote before counts as read."""
        self.cache.conversation_changed(cid)
        with self.cache.transaction() as db:
            db.execute(
                "UPDATE conversations SET waiting_since = NULL, unread = 0, read_seq = last_seq,"
                " replied_at = MAX(COALESCE(replied_at, 0), ?) WHERE id = ?",
                (at, cid),
            )

    def mark_read(self, cid: str) -> None:
        # Nothing to mark: no write (it would wait for the live writer's transaction).
        row = self.db.execute(
            "SELECT unread = 0 AND read_seq = last_seq FROM conversations WHERE id = ?", (cid,)
        ).fetchone()
        if row is not None and row[0]:
            return
        self.cache.conversation_changed(cid)
        with self.cache.transaction(durable=False) as db:  # a read mark: see Cache.transaction
            db.execute(
                "UPDATE conversations SET unread = 0, read_seq = last_seq WHERE id = ?", (cid,)
            )

    def mark_unread(self, cid: str) -> None:
        self.cache.conversation_changed(cid)
        with self.cache.transaction() as db:
            db.execute(
                "UPDATE conversations SET unread = MAX(unread, 1),"
                " read_seq = MIN(read_seq, MAX(last_seq - 1, 0)) WHERE id = ?",
                (cid,),
            )

    # --- reads -----------------------------------------------------------------------------

    def summaries(self) -> list[SummaryRow]:
        rows = self.db.execute(
            f"SELECT {_SUMMARY_COLUMNS} FROM conversations c "
            "LEFT JOIN posts p ON p.token = c.post_token"
        ).fetchall()
        return [self._summary(r) for r in rows]

    def summaries_of(self, cids: list[str]) -> list[SummaryRow]:
        """The summaries of `cids` (those that exist), in the table's order."""
        found: list[SummaryRow] = []
        for start in range(0, len(cids), 500):  # SQLite's bound-parameter limit
            chunk = cids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"SELECT {_SUMMARY_COLUMNS} FROM conversations c "
                f"LEFT JOIN posts p ON p.token = c.post_token WHERE c.id IN ({marks})",
                chunk,
            ).fetchall()
            found.extend(self._summary(r) for r in rows)
        return found

    def summary(self, cid: str) -> SummaryRow | None:
        row = self.db.execute(
            f"SELECT {_SUMMARY_COLUMNS} FROM conversations c "
            "LEFT JOIN posts p ON p.token = c.post_token WHERE c.id = ?",
            (cid,),
        ).fetchone()
        return self._summary(row) if row else None

    def _summary(self, row: sqlite3.Row | tuple[Any, ...]) -> SummaryRow:
        preview = self.cache.open_text(row[7]) if row[7] is not None else ""
        title = self.cache.open_optional(row[12]) or None
        return SummaryRow(
            id=str(row[0]),
            post_token=row[1],
            type=str(row[2]),
            first_pos=int(row[3]),
            next_pos=int(row[4]),
            last_at=row[5],
            last_seq=int(row[6]),
            last_preview=preview,
            unread=int(row[8]),
            read_seq=int(row[9]),
            waiting_since=row[10],
            replied_at=row[11],
            post_title=title,
            post_price=self._price(row[13]),
        )
