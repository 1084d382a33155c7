"""`Inbox`: the console's model of the shared timeline, backed by the Cache.

`apply(seq, entry)` takes entries from the relay in seq order, exactly once; `apply_many`
does the same for a backlog or a live burst in one transaction. Ordering rules:
posts with unanswered buyers come first (longest wait first), then the most recent; the
same inside a post. A conversation is answered when the seller side writes (our reply, a
teammate's, or the seller's own app), not when it is looked at. Divar echoes every message
we send back as a SELLER-side NEW_MESSAGE; an echo (same conversation, same text, within
ten minutes of a reply) is merged into that reply, whichever of the two arrives first.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from kenar_tui.history import (
    HistoryItem,
    as_dict,
    button_text,
    entry_item,
    message_text,
    notice_item,
    parse_message,
    reply_text,
)
from kenar_tui.kenar.messages import parse_sent_at
from kenar_tui.store import (
    ButtonCaptions,
    Cache,
    ItemRow,
    Notices,
    OutboxRows,
    SummaryRow,
    Timeline,
    from_micros,
    micros,
)
from kenar_tui.text.fold import fold

ECHO_WINDOW = timedelta(minutes=10)
PARSED_CACHE_SIZE = 4096
NOTICE_KINDS = {"access_revocation", "payment"}

__all__ = [
    "ConversationSummary",
    "HistoryItem",
    "Inbox",
    "InboxChange",
    "PostSummary",
    "SearchHit",
]


@dataclass(frozen=True, slots=True)
class ConversationSummary:
    id: str
    post_token: str | None
    post_title: str | None
    type: str  # POST | BOT
    last_preview: str
    last_at: datetime | None
    unread: int
    waiting_since: datetime | None  # the buyer's oldest message after our last reply
    answered: bool
    history_count: int

    def wait_s(self, now: datetime) -> float | None:
        if self.waiting_since is None:
            return None
        return max((now - self.waiting_since).total_seconds(), 0.0)


@dataclass(frozen=True, slots=True)
class PostSummary:
    token: str | None  # None groups conversations that belong to no post (chatbot)
    title: str | None
    unanswered: int
    longest_wait_s: float | None
    last_at: datetime | None
    unread: int
    conversations: list[ConversationSummary] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SearchHit:
    cid: str
    seq: int | None
    snippet: str
    position: int  # index for inbox.history(cid, position, position + 1)


@dataclass(frozen=True, slots=True)
class InboxChange:
    """What one applied entry changed, for the UI to refresh and notify."""

    seq: int
    kind: str
    conversation_id: str | None = None
    post_token: str | None = None
    item: HistoryItem | None = None  # the item added or updated
    notice: HistoryItem | None = None  # an item that belongs to no conversation
    new_from_buyer: bool = False  # worth a notification
    merged: bool = False  # folded into an item already shown (echo, our own reply)
    ignored: bool = False  # seq already applied


def _sort_key(now: datetime) -> Callable[[ConversationSummary], tuple[int, float, float]]:
    def key(c: ConversationSummary) -> tuple[int, float, float]:
        if c.waiting_since is not None:
            return (0, c.waiting_since.timestamp(), 0.0)
        return (1, 0.0, -(c.last_at.timestamp() if c.last_at else 0.0))

    return key


class Inbox:
    def __init__(
        self,
        cache: Cache,
        *,
        operator: str | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.cache = cache
        self.operator = operator
        self.now = now
        self.timeline = Timeline(cache)
        self.buttons = ButtonCaptions(cache)
        self.notices_store = Notices(cache)
        self.outbox_rows = OutboxRows(cache)
        self._with_items = True
        # Team mode: each conversation's assignee, loaded from the cache on first use.
        self._assignees: dict[str, str | None] | None = None
        # Parsed items by row identity: scrolling back and forth does not parse again.
        self._parsed: OrderedDict[tuple[Any, ...], HistoryItem] = OrderedDict()
        # Every conversation's summary, kept current by `_current_summaries`.
        self._summaries: dict[str, ConversationSummary] = {}
        self._changes = cache.watch_conversations()

    @property
    def last_seq(self) -> int:
        return self.cache.last_seq

    # --- applying entries ------------------------------------------------------------------

    def apply(self, seq: int, entry: dict[str, Any]) -> InboxChange:
        """Take one timeline entry; entries at or below `last_seq` are ignored."""
        kind = str(entry.get("kind") or "unknown")
        if seq <= self.cache.last_seq:
            return InboxChange(seq=seq, kind=kind, ignored=True)
        with self.cache.transaction():
            at = self._received_at(entry)
            self.cache.put_entry(seq, entry, at)
            change = self._apply(seq, kind, entry, micros(at))
            self.cache.set_last_seq(seq)
        return change

    def apply_many(self, pairs: Iterable[tuple[int, dict[str, Any]]]) -> list[InboxChange]:
        """Apply entries in seq order in ONE transaction (a backlog, or a burst of live ones).

        Exactly as `apply` one by one would, but one commit: all of them are stored, or none
        (and `last_seq` with them). The changes carry no `item`, which costs a read per entry;
        `with_item` fills one in for the few a notification shows.
        """
        self._with_items = False  # the UI redraws once per batch, not per item
        try:
            with self.cache.transaction():
                last = self.cache.last_seq
                changes = []
                for seq, entry in pairs:
                    kind = str(entry.get("kind") or "unknown")
                    if seq <= last:
                        changes.append(InboxChange(seq=seq, kind=kind, ignored=True))
                        continue
                    at = self._received_at(entry)
                    self.cache.put_entry(seq, entry, at)
                    changes.append(self._apply(seq, kind, entry, micros(at)))
                    last = seq
                if any(not c.ignored for c in changes):
                    self.cache.set_last_seq(last)
                return changes
        finally:
            self._with_items = True

    def with_item(self, change: InboxChange) -> InboxChange:
        """`change` with its item (the message a notification previews), read from the cache."""
        if change.item is not None or change.ignored or change.conversation_id is None:
            return change
        row = self.timeline.item_with_seq(change.seq) or self.timeline.item_by_seq(change.seq)
        if row is None:
            return change
        return replace(change, item=self._item(row, None))

    def note_gap(self, since: int, oldest: int) -> HistoryItem:
        """The relay purged entries after `since` and before `oldest`: say so, once."""
        at = micros(self.now())
        row = self.notices_store.add(
            None, "gap", at, {"kind": "gap", "data": {"since": since, "oldest": oldest}}
        )
        return notice_item(row)

    def _received_at(self, entry: dict[str, Any]) -> datetime:
        value = entry.get("received_at")
        if value:
            try:
                return parse_sent_at(value)
            except ValueError:
                pass
        return self.now()

    def _apply(self, seq: int, kind: str, entry: dict[str, Any], at: int) -> InboxChange:
        data = as_dict(entry.get("data"))
        cid = entry.get("conversation_id") or data.get("conversation_id")
        post = entry.get("post_token") or data.get("post_token")
        if kind == "message":
            return self._message(seq, entry, data, at)
        if kind == "reply" and cid:
            return self._reply(seq, entry, data, str(cid), post, at)
        if kind == "button_pressed" and cid:
            return self._button(seq, entry, data, str(cid), post, at)
        if kind == "post_update":
            return self._post_update(seq, entry, data, at)
        if kind in NOTICE_KINDS or not cid:
            notice = notice_item(self.notices_store.add(seq, kind, at, entry))
            return InboxChange(seq=seq, kind=kind, notice=notice)
        # A note, an assignment, an unknown webhook or a kind this version does not know.
        cid = str(cid)
        if kind == "assignment" and self._assignees is not None:
            assignee = data.get("assignee")
            self._assignees[cid] = assignee if isinstance(assignee, str) and assignee else None
        self.timeline.ensure_conversation(cid, post, None)
        row = self.timeline.append(
            cid,
            kind="note" if kind == "note" else kind,
            side="system",
            at=at,
            seq=seq,
            text=data.get("text") if kind == "note" else None,
            touch=False,
        )
        return self._change(seq, kind, row, entry)

    def _message(
        self, seq: int, entry: dict[str, Any], data: dict[str, Any], at: int
    ) -> InboxChange:
        message = parse_message(data)
        cid = entry.get("conversation_id") or (message.conversation_id if message else None)
        if message is None or not cid:
            notice = notice_item(self.notices_store.add(seq, "unknown", at, entry))
            return InboxChange(seq=seq, kind="message", notice=notice)
        cid = str(cid)
        post = entry.get("post_token") or message.post_token
        self.timeline.ensure_conversation(cid, post, message.conversation.type)
        self._legacy_title(post, entry, at)
        sent = micros(message.sent_at)
        text = message_text(message) if message.text else None
        if not message.sender.is_buyer:
            echo_of = self._echo_target(cid, text, sent, kind="reply")
            if echo_of is not None:
                self.timeline.update_item(echo_of.id, echo_seq=seq)
                self.timeline.seller_wrote(cid, sent)
                return self._change(seq, "message", echo_of, None, merged=True)
        side = "buyer" if message.sender.is_buyer else "seller"
        row = self.timeline.append(
            cid, kind="message", side=side, at=sent, seq=seq, text=text, preview=message.preview()
        )
        if side == "buyer":
            self.timeline.buyer_wrote(cid, seq, sent)
        else:
            self.timeline.seller_wrote(cid, sent)
        return self._change(seq, "message", row, entry, new_from_buyer=side == "buyer")

    def _reply(
        self,
        seq: int,
        entry: dict[str, Any],
        data: dict[str, Any],
        cid: str,
        post: str | None,
        at: int,
    ) -> InboxChange:
        body = as_dict(data.get("body"))
        ref = str(data.get("ref") or f"seq-{seq}")
        text = reply_text(body)
        self.timeline.ensure_conversation(cid, post, data.get("conversation_type"))
        known = self.timeline.item_by_ref(ref)
        if known is not None:
            # Our own reply coming back from the relay, or a repeated post: never twice.
            if known.seq is None:
                self.timeline.update_item(known.id, seq=seq)
            self.timeline.seller_wrote(cid, known.at)
            return self._change(seq, "reply", known, entry, merged=True)
        echo = self._echo_target(cid, text, at, kind="message")
        if echo is not None:
            # Divar's echo arrived first (a teammate's reply): it becomes the reply.
            self.timeline.update_item(echo.id, kind="reply", ref=ref, seq=seq, echo_seq=echo.seq)
            row = self.timeline.item_by_ref(ref) or echo
            merged = True
        else:
            row = self.timeline.append(
                cid,
                kind="reply",
                side="seller",
                at=at,
                seq=seq,
                ref=ref,
                text=text,
                preview=text,
            )
            merged = False
        self.buttons.remember(cid, body, at)
        self.timeline.seller_wrote(cid, at)
        return self._change(seq, "reply", row, entry, merged=merged)

    def _button(
        self,
        seq: int,
        entry: dict[str, Any],
        data: dict[str, Any],
        cid: str,
        post: str | None,
        at: int,
    ) -> InboxChange:
        self.timeline.ensure_conversation(cid, post, None)
        caption = self.buttons.caption(cid, data.get("extra_data"))
        seller = str(data.get("user_side") or "").lower() in ("supply", "seller")
        side = "seller" if seller else "buyer"
        preview = button_text(caption, data.get("extra_data"))
        row = self.timeline.append(
            cid,
            kind="button_pressed",
            side=side,
            at=at,
            seq=seq,
            caption=caption,
            preview=preview,
        )
        if side == "buyer":
            self.timeline.buyer_wrote(cid, seq, at)
        return self._change(seq, "button_pressed", row, entry, new_from_buyer=side == "buyer")

    def _post_update(
        self, seq: int, entry: dict[str, Any], data: dict[str, Any], at: int
    ) -> InboxChange:
        post = as_dict(data.get("post"))
        token = entry.get("post_token") or post.get("token")
        title = (post.get("data") or {}).get("title")
        if not token:
            notice = notice_item(self.notices_store.add(seq, "post_update", at, entry))
            return InboxChange(seq=seq, kind="post_update", notice=notice)
        if isinstance(title, str) and title.strip():
            self.timeline.set_post_title(str(token), title.strip(), at)
        row: ItemRow | None = None
        for cid in self.timeline.conversation_ids_of_post(str(token)):
            # One item per conversation of the post, all pointing at the same entry.
            row = self.timeline.append(
                cid, kind="post_update", side="system", at=at, seq=seq, touch=False
            )
        return InboxChange(
            seq=seq,
            kind="post_update",
            post_token=str(token),
            item=None if row is None else self._item(row, entry),
        )

    def _legacy_title(self, post: str | None, entry: dict[str, Any], at: int) -> None:
        raw = entry.get("raw")
        payload = raw.get("payload") if isinstance(raw, dict) else None
        metadata = payload.get("metadata") if isinstance(payload, dict) else None
        title = metadata.get("title") if isinstance(metadata, dict) else None
        if post and isinstance(title, str) and title.strip() and not self.timeline.post_title(post):
            self.timeline.set_post_title(post, title.strip(), at)

    def _echo_target(self, cid: str, text: str | None, at: int, *, kind: str) -> ItemRow | None:
        """The item an echo belongs with: same text, seller side, within the echo window."""
        if not text:
            return None
        window = ECHO_WINDOW // timedelta(microseconds=1)
        wanted = self.cache.text_hash(text)
        for item in self.timeline.recent_with_text(cid, wanted, since_at=at - window):
            if abs(item.at - at) > window:
                continue
            if kind == "reply" and item.kind == "reply" and item.echo_seq is None:
                return item
            if (
                kind == "message"
                and item.kind == "message"
                and item.side == "seller"
                and not item.ref
            ):
                return item
        return None

    def _change(
        self,
        seq: int,
        kind: str,
        row: ItemRow,
        entry: dict[str, Any] | None,
        *,
        merged: bool = False,
        new_from_buyer: bool = False,
    ) -> InboxChange:
        if not self._with_items:
            return InboxChange(
                seq=seq,
                kind=kind,
                conversation_id=row.conversation_id,
                post_token=(entry or {}).get("post_token"),
                new_from_buyer=new_from_buyer,
                merged=merged,
            )
        summary = self.timeline.summary(row.conversation_id)
        return InboxChange(
            seq=seq,
            kind=kind,
            conversation_id=row.conversation_id,
            post_token=summary.post_token if summary else None,
            item=self._item(row, entry),
            new_from_buyer=new_from_buyer,
            merged=merged,
        )

    def _item(self, row: ItemRow, entry: dict[str, Any] | None) -> HistoryItem:
        if entry is None or (row.seq is not None and entry.get("kind") != row.kind):
            entry = self.cache.entry(row.seq) if row.seq is not None else None
        outbox = self.outbox_rows.get(row.ref) if row.ref else None
        return entry_item(
            row, entry, outbox, position=self.timeline.position(row), operator=self.operator
        )

    # --- reading ---------------------------------------------------------------------------

    def _conversation(self, row: SummaryRow) -> ConversationSummary:
        return ConversationSummary(
            id=row.id,
            post_token=row.post_token,
            post_title=row.post_title,
            type=row.type,
            last_preview=row.last_preview,
            last_at=from_micros(row.last_at) if row.last_at else None,
            unread=row.unread,
            waiting_since=from_micros(row.waiting_since) if row.waiting_since else None,
            answered=row.waiting_since is None,
            history_count=row.count,
        )

    def conversations(self) -> list[ConversationSummary]:
        """Every conversation, unanswered first (longest wait first), then most recent."""
        return sorted(self._current_summaries().values(), key=_sort_key(self.now()))

    def _current_summaries(self) -> dict[str, ConversationSummary]:
        """Every conversation's summary, re-reading only those changed since the last call.

        The cache records which summary rows each write touched; a burst of live entries
        into 50 conversations reads 50 rows, not 2,000. The dict keeps the table's order, so
        sorting it gives exactly what sorting a full read would.
        """
        changed = self._changes.take()
        if changed:
            rows = {r.id: r for r in self.timeline.summaries_of(sorted(changed))}
            if all(cid in self._summaries for cid in rows):
                for cid in changed:
                    row = rows.get(cid)
                    if row is None:
                        self._summaries.pop(cid, None)
                    else:
                        self._summaries[cid] = self._conversation(row)
                return self._summaries
            changed = None  # a new conversation: read all, in the table's order
        if changed is None:
            self._summaries = {r.id: self._conversation(r) for r in self.timeline.summaries()}
        return self._summaries

    def posts(self) -> list[PostSummary]:
        """Posts with their conversations, in the order the list shows them."""
        now = self.now()
        groups: dict[str | None, list[ConversationSummary]] = {}
        for conversation in self.conversations():
            groups.setdefault(conversation.post_token, []).append(conversation)
        posts = []
        for token, conversations in groups.items():
            waits = [w for c in conversations if (w := c.wait_s(now)) is not None]
            stamps = [c.last_at for c in conversations if c.last_at is not None]
            posts.append(
                PostSummary(
                    token=token,
                    title=conversations[0].post_title,
                    unanswered=len(waits),
                    longest_wait_s=max(waits) if waits else None,
                    last_at=max(stamps) if stamps else None,
                    unread=sum(c.unread for c in conversations),
                    conversations=conversations,
                )
            )

        def post_key(p: PostSummary) -> tuple[int, float]:
            if p.longest_wait_s is not None:
                return (0, -p.longest_wait_s)
            return (1, -(p.last_at.timestamp() if p.last_at else 0.0))

        return sorted(posts, key=post_key)

    def conversation(self, cid: str) -> ConversationSummary | None:
        row = self.timeline.summary(cid)
        return self._conversation(row) if row else None

    def history_count(self, cid: str) -> int:
        row = self.timeline.summary(cid)
        return row.count if row else 0

    def history(self, cid: str, start: int, stop: int) -> list[HistoryItem]:
        """Items `start`..`stop` of `cid`'s history, oldest first; cost follows the slice."""
        rows = self.timeline.page(cid, start, stop)
        if not rows:
            return []
        first = rows[0].pos - max(start, 0)
        items: list[HistoryItem | None] = []
        missing: list[int] = []
        for index, row in enumerate(rows):
            cached = self._parsed.get(_row_key(row)) if row.ref is None else None
            if cached is not None:
                self._parsed.move_to_end(_row_key(row))
                items.append(replace(cached, position=row.pos - first))
            else:
                items.append(None)
                missing.append(index)
        if missing:
            todo = [rows[i] for i in missing]
            entries = self.cache.entries(sorted({r.seq for r in todo if r.seq is not None}))
            outbox = self.outbox_rows.many([r.ref for r in todo if r.ref])
            for index in missing:
                row = rows[index]
                item = entry_item(
                    row,
                    entries.get(row.seq) if row.seq is not None else None,
                    outbox.get(row.ref) if row.ref else None,
                    position=row.pos - first,
                    operator=self.operator,
                )
                items[index] = item
                if row.ref is None:  # replies change state; everything else is settled
                    self._parsed[_row_key(row)] = item
            while len(self._parsed) > PARSED_CACHE_SIZE:
                self._parsed.popitem(last=False)
        return [i for i in items if i is not None]

    def assignees(self) -> dict[str, str | None]:
        """Each assigned conversation's assignee (None once released), from the timeline."""
        if self._assignees is None:
            rows = self.timeline.db.execute(
                "SELECT conversation_id, seq FROM items WHERE kind = 'assignment' "
                "AND seq IS NOT NULL ORDER BY seq"
            ).fetchall()
            entries = self.cache.entries([int(seq) for _, seq in rows])
            found: dict[str, str | None] = {}
            for cid, seq in rows:
                assignee = as_dict((entries.get(int(seq)) or {}).get("data")).get("assignee")
                found[str(cid)] = assignee if isinstance(assignee, str) and assignee else None
            self._assignees = found
        return self._assignees

    def assignee(self, cid: str) -> str | None:
        """Who `cid` is assigned to, or None."""
        return self.assignees().get(cid)

    def mark_read(self, cid: str) -> None:
        self.timeline.mark_read(cid)

    def mark_unread(self, cid: str) -> None:
        self.timeline.mark_unread(cid)

    def next_unanswered(self, after: str | None = None) -> str | None:
        """The next conversation waiting for an answer, longest wait first, cycling."""
        waiting = [c.id for c in self.conversations() if not c.answered]
        if not waiting:
            return None
        if after in waiting:
            return waiting[(waiting.index(after) + 1) % len(waiting)]
        return waiting[0]

    def open_conversation(
        self, cid: str, post_token: str | None = None, type: str = "POST"
    ) -> ConversationSummary:
        """A conversation we start ourselves (the v2 API can send the first message)."""
        cid = cid.strip()
        if not cid:
            raise ValueError("a conversation id is needed")
        self.timeline.ensure_conversation(cid, post_token or None, type)
        summary = self.conversation(cid)
        assert summary is not None
        return summary

    def notices(self, limit: int = 100) -> list[HistoryItem]:
        """Entries that belong to no conversation (revocations, gaps, payments), oldest first."""
        return [notice_item(r) for r in self.notices_store.recent(limit)]

    def draft(self, cid: str) -> str | None:
        return self.cache.draft(cid)

    def set_draft(self, cid: str, text: str | None) -> None:
        self.cache.set_draft(cid, text, now=self.now())

    def search(self, query: str, limit: int = 200) -> list[SearchHit]:
        """Messages and replies containing `query`, newest first, Persian-aware."""
        folded = fold(query)
        if not folded:
            return []
        rows = self.timeline.search(folded, limit)
        entries = self.cache.entries(sorted({r.seq for r in rows if r.seq is not None}))
        outbox = self.outbox_rows.many([r.ref for r in rows if r.ref and r.seq is None])
        hits = []
        for row in rows:
            entry = entries.get(row.seq) if row.seq is not None else None
            item = entry_item(row, entry, outbox.get(row.ref or ""), position=0, operator=None)
            hits.append(
                SearchHit(
                    cid=row.conversation_id,
                    seq=row.seq,
                    snippet=snippet(item.text, folded),
                    position=self.timeline.position(row),
                )
            )
        return hits


def _row_key(row: ItemRow) -> tuple[Any, ...]:
    return (row.id, row.seq, row.kind, row.caption, row.echo_seq)


def snippet(text: str, folded_query: str, width: int = 80) -> str:
    """About `width` characters of `text` around where the query matched, on one line."""
    line = " ".join(text.split())
    if len(line) <= width:
        return line
    folded = fold(line)
    found = folded.find(folded_query)
    # Folding drops characters (ZWNJ, marks): scale the position back to the original.
    centre = int(found * len(line) / max(len(folded), 1)) if found >= 0 else 0
    start = max(0, min(centre - width // 3, len(line) - width))
    cut = line[start : start + width]
    return ("…" if start else "") + cut + ("…" if start + width < len(line) else "")
