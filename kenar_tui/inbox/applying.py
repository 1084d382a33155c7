"""How each timeline entry changes the Inbox's cache: the write side of `Inbox`.

Entries arrive in seq order, exactly once. A message adds an item and moves its
conversation's unread count and wait; a reply (ours or a teammate's) answers the buyer;
Divar's SELLER-side echo of a reply is merged into it; a button press finds its caption among
the buttons we sent; a post update names the post; anything else is a note, an assignment,
a notice, or an item kept raw. Each entry is read once, as an `EntryView`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from kenar_api.messages import parse_sent_at
from kenar_core.errors import ConfigError
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
from kenar_tui.inbox.entry_view import EntryView
from kenar_tui.inbox.models import InboxChange
from kenar_tui.store import ButtonCaptions, Cache, ItemRow, Notices, OutboxRows, Timeline, micros
from kenar_tui.text.sanitize import clean_json

if TYPE_CHECKING:
    from kenar_tui.inbox.writer import InboxWriter

ECHO_WINDOW = timedelta(minutes=10)
NOTICE_KINDS = {"access_revocation", "payment"}


class EntryApplier:
    """The write side of `Inbox`; `Inbox.__init__` sets up the state declared here."""

    cache: Cache
    operator: str | None
    now: Callable[[], datetime]
    timeline: Timeline
    buttons: ButtonCaptions
    notices_store: Notices
    outbox_rows: OutboxRows
    _with_items: bool
    _assignees: dict[str, str | None] | None
    _writer: InboxWriter | None = None
    # Called after each entry of a batch; the writer thread's Inbox sets it (inbox/writer.py).
    between_entries: Callable[[], None] | None = None

    def writer(self) -> InboxWriter:
        """The thread that stores live batches off the UI loop (made on first use, one per
        Inbox, closed with its cache)."""
        from kenar_tui.inbox.inbox import Inbox
        from kenar_tui.inbox.writer import InboxWriter

        if self._writer is None or self._writer.closed:
            assert isinstance(self, Inbox)
            self._writer = InboxWriter(self)
        return self._writer

    def mark_read_soon(self, cid: str, then: Callable[[], None]) -> None:
        """Mark `cid` read by the writer thread (after the batches before it); `then` runs
        once it is stored. For the marks live delivery makes; the seller's own stay at once."""
        try:
            writer = self.writer()
        except ConfigError:  # an in-memory cache has no writer thread: marked here
            self.timeline.mark_read(cid)
            then()
            return
        writer.mark_read(cid, then)

    def assignees_changed(self) -> None:
        """Another connection stored an assignment: read the assignees again when asked."""
        self._assignees = None

    # --- applying entries ------------------------------------------------------------------

    def apply(self, seq: int, entry: dict[str, Any]) -> InboxChange:
        """Take one timeline entry; entries at or below `last_seq` are ignored."""
        kind = str(entry.get("kind") or "unknown")
        if seq <= self.cache.last_seq:
            return InboxChange(seq=seq, kind=kind, ignored=True)
        clean, encoded = clean_json(entry)  # untrusted text: no control codes kept
        view = EntryView.of(clean, kind)
        with self.cache.transaction():
            at = self._received_at(view)
            self.cache.put_entry(seq, view.wire, at, encoded=encoded)
            change = self._apply(seq, view, micros(at))
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
            pairs = list(pairs)
            with self.cache.transaction():
                last = self.cache.last_seq
                self.timeline.prefetch(_conversation_ids(pairs))  # read once, not per entry
                changes = []
                for seq, entry in pairs:
                    kind = str(entry.get("kind") or "unknown")
                    if seq <= last:
                        changes.append(InboxChange(seq=seq, kind=kind, ignored=True))
                        continue
                    clean, encoded = clean_json(entry)  # as in `apply`
                    view = EntryView.of(clean, kind)
                    at = self._received_at(view)
                    self.cache.put_entry(seq, view.wire, at, encoded=encoded)
                    changes.append(self._apply(seq, view, micros(at)))
                    last = seq
                    if self.between_entries is not None:
                        self.between_entries()
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

    def _received_at(self, entry: EntryView) -> datetime:
        value = entry.received_at
        if value:
            try:
                return parse_sent_at(value)
            except ValueError:
                pass
        return self.now()

    def _apply(self, seq: int, entry: EntryView, at: int) -> InboxChange:
        kind, data = entry.kind, entry.data
        cid = entry.conversation
        post = entry.post
        if kind == "message":
            return self._message(seq, entry, at)
        if kind == "reply" and cid:
            return self._reply(seq, entry, cid, post, at)
        if kind == "button_pressed" and cid:
            return self._button(seq, entry, cid, post, at)
        if kind == "post_update":
            return self._post_update(seq, entry, at)
        if kind in NOTICE_KINDS or not cid:
            notice = notice_item(self.notices_store.add(seq, kind, at, entry.wire))
            return InboxChange(seq=seq, kind=kind, notice=notice)
        # A note, an assignment, an unknown webhook or a kind this version does not know.
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

    def _message(self, seq: int, entry: EntryView, at: int) -> InboxChange:
        message = parse_message(entry.data)
        cid = entry.conversation_id or (message.conversation_id if message else None)
        if message is None or not cid:
            notice = notice_item(self.notices_store.add(seq, "unknown", at, entry.wire))
            return InboxChange(seq=seq, kind="message", notice=notice)
        cid = str(cid)
        post = entry.post_token or message.post_token
        self.timeline.ensure_conversation(cid, post, message.conversation.type)
        self._legacy_title(post, entry, at)
        sent = micros(message.sent_at)
        text = message_text(message) if message.text else None
        if not message.sender.is_buyer:
            echo_of = self._echo_target(cid, text, sent, kind="reply")
            if echo_of is not None:
                self.timeline.update_item(echo_of.id, echo_seq=seq)
                self.timeline.seller_wrote(cid, sent)
                if echo_of.ref:  # a reply whose answer was lost is now known to be delivered
                    self.outbox_rows.confirm_delivered(echo_of.ref, micros(self.now()))
                return self._change(seq, "message", echo_of, None, merged=True)
        side = "buyer" if message.sender.is_buyer else "seller"
        row = self.timeline.append(
            cid,
            kind="message",
            side=side,
            at=sent,
            seq=seq,
            text=text,
            preview=message.preview(),
            from_buyer=side == "buyer",
        )
        if side != "buyer":
            self.timeline.seller_wrote(cid, sent)
        return self._change(seq, "message", row, entry, new_from_buyer=side == "buyer")

    def _reply(
        self,
        seq: int,
        entry: EntryView,
        cid: str,
        post: str | None,
        at: int,
    ) -> InboxChange:
        data = entry.data
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
        self, seq: int, entry: EntryView, cid: str, post: str | None, at: int
    ) -> InboxChange:
        data = entry.data
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
            from_buyer=side == "buyer",
        )
        return self._change(seq, "button_pressed", row, entry, new_from_buyer=side == "buyer")

    def _post_update(self, seq: int, entry: EntryView, at: int) -> InboxChange:
        post = as_dict(entry.data.get("post"))
        token = entry.post_token or post.get("token")
        title = (post.get("data") or {}).get("title")
        if not token:
            notice = notice_item(self.notices_store.add(seq, "post_update", at, entry.wire))
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

    def _legacy_title(self, post: str | None, entry: EntryView, at: int) -> None:
        raw = entry.raw
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
        entry: EntryView | None,
        *,
        merged: bool = False,
        new_from_buyer: bool = False,
    ) -> InboxChange:
        if not self._with_items:
            return InboxChange(
                seq=seq,
                kind=kind,
                conversation_id=row.conversation_id,
                post_token=None if entry is None else entry.post_token,
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

    def _item(self, row: ItemRow, entry: EntryView | None) -> HistoryItem:
        stored = None if entry is None else entry.wire
        if entry is None or (row.seq is not None and entry.kind != row.kind):
            stored = self.cache.entry(row.seq) if row.seq is not None else None
        outbox = self.outbox_rows.get(row.ref) if row.ref else None
        return entry_item(
            row, stored, outbox, position=self.timeline.position(row), operator=self.operator
        )


def _conversation_ids(pairs: list[tuple[int, dict[str, Any]]]) -> set[str]:
    """The conversations a batch names (at the top or in `data`); a few missed only cost a
    read each."""
    found = set()
    for _, entry in pairs:
        data = entry.get("data")
        for cid in (
            entry.get("conversation_id"),
            isinstance(data, dict) and data.get("conversation_id"),
        ):
            if isinstance(cid, str) and cid:
                found.add(cid)
    return found
