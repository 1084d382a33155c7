"""What each conversation shows, kept incrementally: items, summaries, read marks, search.

`Timeline` is a thin, stateless view over a `Cache` used by both the Inbox (entries from the
relay) and the Outbox (our own replies, before the relay has them). Every write updates the
conversation's summary row in place; nothing is ever recomputed from all items.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from kenar_tui.store.cache import Cache
from kenar_tui.text.fold import fold

_ITEM_COLUMNS = "id, conversation_id, pos, seq, ref, kind, side, at, text_hash, caption, echo_seq"
# How far back (in items) an echo of our reply is looked for.
ECHO_DEPTH = 50

# One page of a conversation's history: a range on the UNIQUE (conversation_id, pos) index.
PAGE_SQL = (
    f"SELECT {_ITEM_COLUMNS} FROM items WHERE conversation_id = ? AND pos >= ? AND pos < ?"
    " ORDER BY pos"
)
_SUMMARY_COLUMNS = (
    "c.id, c.post_token, c.type, c.first_pos, c.next_pos, c.last_at, c.last_seq, "
    "c.last_preview, c.unread, c.read_seq, c.waiting_since, c.replied_at, p.title"
)


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

    @property
    def count(self) -> int:
        return self.next_pos - self.first_pos


class Timeline:
    def __init__(self, cache: Cache) -> None:
        self.cache = cache
        self.db = cache.db

    # --- conversations ---------------------------------------------------------------------

    def ensure_conversation(self, cid: str, post_token: str | None, type_: str | None) -> None:
        """Create the summary row if new; fill in a post token or type learnt later."""
        with self.cache.transaction() as db:
            db.execute(
                "INSERT INTO conversations (id, post_token, type) VALUES (?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET "
                "post_token = COALESCE(conversations.post_token, excluded.post_token)",
                (cid, post_token, type_ or "POST"),
            )
            if type_ == "BOT":
                db.execute("UPDATE conversations SET type = 'BOT' WHERE id = ?", (cid,))

    def conversation_ids_of_post(self, post_token: str) -> list[str]:
        rows = self.db.execute(
            "SELECT id FROM conversations WHERE post_token = ?", (post_token,)
        ).fetchall()
        return [str(r[0]) for r in rows]

    def set_post_title(self, token: str, title: str, at: int) -> None:
        with self.cache.transaction() as db:
            db.execute(
                "INSERT INTO posts (token, title, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (token) DO UPDATE SET title = excluded.title, "
                "updated_at = excluded.updated_at WHERE excluded.updated_at >= posts.updated_at",
                (token, title, at),
            )

    def post_title(self, token: str) -> str | None:
        row = self.db.execute("SELECT title FROM posts WHERE token = ?", (token,)).fetchone()
        return str(row[0]) if row and row[0] else None

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
    ) -> ItemRow:
        """Add an item at the end of `cid`'s history and bring its summary up to date.

        `touch=False` (system items such as post updates) leaves the last activity alone, so
        a post edit does not reorder the list.
        """
        with self.cache.transaction() as db:
            row = db.execute("SELECT next_pos FROM conversations WHERE id = ?", (cid,)).fetchone()
            if row is None:
                raise LookupError(f"conversation {cid} is not in the cache")
            pos = int(row[0])
            text_hash = self.cache.text_hash(text) if text else None
            cursor = db.execute(
                "INSERT INTO items (conversation_id, pos, seq, ref, kind, side, at, text_hash,"
                " caption) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (cid, pos, seq, ref, kind, side, at, text_hash, caption),
            )
            item_id = int(cursor.lastrowid or 0)
            sealed = self.cache.seal_text(preview) if preview is not None else None
            db.execute(
                "UPDATE conversations SET next_pos = next_pos + 1,"
                " last_at = CASE WHEN ? THEN MAX(COALESCE(last_at, 0), ?) ELSE last_at END,"
                " last_seq = MAX(last_seq, COALESCE(?, 0)),"
                " last_preview = COALESCE(?, last_preview) WHERE id = ?",
                (touch, at, seq, sealed, cid),
            )
            if text:
                db.execute(
                    "INSERT INTO search (rowid, folded) VALUES (?, ?)", (item_id, fold(text))
                )
        return ItemRow(item_id, cid, pos, seq, ref, kind, side, at, text_hash, caption, None)

    def update_item(self, item_id: int, **fields: Any) -> None:
        allowed = {"seq", "ref", "kind", "side", "caption", "echo_seq"}
        if not fields or set(fields) - allowed:
            raise ValueError(f"items can update only {sorted(allowed)}")
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self.cache.transaction() as db:
            db.execute(f"UPDATE items SET {assignments} WHERE id = ?", (*fields.values(), item_id))
            if fields.get("seq") is not None:
                db.execute(
                    "UPDATE conversations SET last_seq = MAX(last_seq, ?) WHERE id ="
                    " (SELECT conversation_id FROM items WHERE id = ?)",
                    (fields["seq"], item_id),
                )

    def item_by_ref(self, ref: str) -> ItemRow | None:
        row = self.db.execute(f"SELECT {_ITEM_COLUMNS} FROM items WHERE ref = ?", (ref,)).fetchone()
        return _item(row) if row else None

    def item_by_seq(self, seq: int) -> ItemRow | None:
        row = self.db.execute(
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE seq = ? OR echo_seq = ?", (seq, seq)
        ).fetchone()
        return _item(row) if row else None

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
        return [_item(r) for r in rows]

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
        return [_item(r) for r in rows]

    def position(self, item: ItemRow) -> int:
        """The index of `item` in its conversation's history as `page` counts."""
        row = self.db.execute(
            "SELECT first_pos FROM conversations WHERE id = ?", (item.conversation_id,)
        ).fetchone()
        return item.pos - (int(row[0]) if row else 0)

    # --- summary updates -------------------------------------------------------------------

    def buyer_wrote(self, cid: str, seq: int | None, at: int) -> None:
        """A buyer's message: the wait starts (if not already running); unread grows."""
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
        with self.cache.transaction() as db:
            db.execute(
                "UPDATE conversations SET waiting_since = NULL, unread = 0, read_seq = last_seq,"
                " replied_at = MAX(COALESCE(replied_at, 0), ?) WHERE id = ?",
                (at, cid),
            )

    def mark_read(self, cid: str) -> None:
        with self.cache.transaction() as db:
            db.execute(
                "UPDATE conversations SET unread = 0, read_seq = last_seq WHERE id = ?", (cid,)
            )

    def mark_unread(self, cid: str) -> None:
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

    def summary(self, cid: str) -> SummaryRow | None:
        row = self.db.execute(
            f"SELECT {_SUMMARY_COLUMNS} FROM conversations c "
            "LEFT JOIN posts p ON p.token = c.post_token WHERE c.id = ?",
            (cid,),
        ).fetchone()
        return self._summary(row) if row else None

    def search(self, folded: str, limit: int) -> list[ItemRow]:
        """Items whose folded text contains `folded`, newest first."""
        if len(folded) >= 3:
            # Newest matches straight from the index: cost follows `limit`, not the match count.
            phrase = '"' + folded.replace('"', '""') + '"'
            ids = self.db.execute(
                "SELECT rowid FROM search WHERE search MATCH ? ORDER BY rowid DESC LIMIT ?",
                (phrase, limit),
            ).fetchall()
        else:
            # The trigram index needs three characters; shorter queries scan.
            pattern = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            ids = self.db.execute(
                "SELECT rowid FROM search WHERE folded LIKE ? ESCAPE '\\' "
                "ORDER BY rowid DESC LIMIT ?",
                (f"%{pattern}%", limit),
            ).fetchall()
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE id IN ({marks}) ORDER BY id DESC",
            [i[0] for i in ids],
        ).fetchall()
        return [_item(r) for r in rows]

    def _summary(self, row: sqlite3.Row | tuple[Any, ...]) -> SummaryRow:
        preview = self.cache.open_text(row[7]) if row[7] is not None else ""
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
            post_title=row[12],
        )


def _item(row: tuple[Any, ...]) -> ItemRow:
    return ItemRow(*row)
