"""`Inbox`: the console's model of the shared timeline, backed by the Cache (read side)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from kenar_tui.history import HistoryItem, as_dict, entry_item, notice_item
from kenar_tui.inbox.applying import EntryApplier
from kenar_tui.inbox.models import ConversationSummary, PostSummary, SearchHit, waiting_order
from kenar_tui.store import (
    ButtonCaptions,
    Cache,
    ItemRow,
    Notices,
    OutboxRows,
    SummaryRow,
    Timeline,
    from_micros,
)
from kenar_tui.text.fold import fold

PARSED_CACHE_SIZE = 4096


class Inbox(EntryApplier):
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
            post_price=row.post_price if row.post_token else None,
        )

    def conversations(self) -> list[ConversationSummary]:
        """Every conversation, unanswered first (longest wait first), then most recent."""
        return sorted(self._current_summaries().values(), key=waiting_order(self.now()))

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
                    price=conversations[0].post_price,
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
