"""The live side of the app: relay events into the Inbox, and what they change onto the screen.

It never calls a screen: what changed goes out as messages (controllers/messages.py), the
relay's and the outbox's state to the app, which keeps them in reactives the status bar
watches, and the conversations touched to the screens that draw them.

Entries are stored by the Inbox's writer thread (inbox/writer.py), never on the UI loop:
the feed collects them into batches, hands each over, and takes the link's events back in
their order once what came before them is stored (`_drain`). The outbox's states reach the
screen through controllers/outbox_watch.py.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kenar_tui.controllers.messages import ConversationChanged, RelayStateChanged
from kenar_tui.link import LinkEntry, LinkEvent, LinkGap, LinkLive, LinkPresence, LinkState
from kenar_tui.text import display

if TYPE_CHECKING:
    from kenar_tui.app import KenarApp
    from kenar_tui.inbox.models import InboxChange
    from kenar_tui.services import LinkService, OutboxService

ACK_EVERY = 200
TOAST_GAP_S = 2.0
# Live entries are handed to the writer at most once per this window, all that came in it
# in one batch (a burst of 1,000 is a few commits, not 1,000); an entry after a quiet window
# goes at once. The list redraw coalesces the same way (screens/main.py).
APPLY_S = 1 / 60
# A batch holds at most this many entries (a catch-up is many batches, written while the
# link reads the next ones).
BATCH_MAX = 500
# Link events waiting behind batches not yet stored. When this many wait, or a batch waits
# for the writer's room, the feed stops reading the link: its bounded queue fills, it stops
# reading the socket, and the relay keeps the rest (nothing is dropped).
STEPS_MAX = 16

RELAY_WORDS = {
    "connecting": "relay: connecting…",
    "online": "relay: catching up…",
    "offline": "relay: offline, retrying",
    "refused": "relay: refused the token",
}


@dataclass
class _Batch:
    """Entries handed (or to be handed) to the writer, in seq order."""

    pairs: list[tuple[int, dict[str, Any]]]
    future: asyncio.Future[list[InboxChange]] | None = None


class LiveFeed:
    """Consumes `link.events()` in a worker and tells the app and its screens what changed."""

    def __init__(self, app: KenarApp) -> None:
        self.app = app
        self.live = False
        self.was_online = False  # "lost" only for a relay that was reached once
        # Welcomed with a head above what the cache holds, and not live yet: the screen
        # rebuilds its list less often while this backlog is stored (screens/main.py).
        self.catching_up = False
        self._last_toast = -TOAST_GAP_S
        self._skipped = 0
        # Entries received and not handed to the writer yet, in seq order.
        self._pending: list[tuple[int, dict[str, Any]]] = []
        # Batches and other link events, in the link's order, until their turn is taken.
        self._steps: deque[_Batch | LinkEvent] = deque()
        self._step_added = asyncio.Event()
        self._moved = asyncio.Event()  # a step was taken (room to read the link again)
        self._draining = False
        self._flush_timer: asyncio.TimerHandle | None = None
        self._flushed_at = -APPLY_S  # time.monotonic() of the last hand-over
        self._stopped = False  # storing failed: the link stops, nothing more is taken
        self._link: LinkService | None = None
        self._unacked = 0  # entries stored and not yet acknowledged to the relay

    def start(self) -> None:
        if self._stopped:
            self.app.inbox.writer().reset()
        self._stopped = False
        if self.app.link is not None:
            self.app.run_worker(
                self._consume(self.app.link), name="relay-link", group="link", exclusive=True
            )
        if self.app.outbox is not None:
            self.app.run_worker(
                self._resume_outbox(self.app.outbox), name="outbox-resume", group="outbox"
            )

    async def _resume_outbox(self, outbox: OutboxService) -> None:
        try:
            await outbox.resume()
        except Exception as exc:
            self.app.logger.warning("outbox resume failed: %s", type(exc).__name__, exc_info=exc)
            self.app.notify(
                f"Pending replies could not be resumed: {exc}", severity="error", markup=False
            )

    async def _consume(self, link: LinkService) -> None:
        self._link = link
        try:
            async with link:
                async for event in link.events():
                    self.handle(event)
                    while self._backed_up():  # back-pressure: the relay keeps the rest
                        self._moved.clear()
                        await self._moved.wait()
                await self.settled()
        except Exception as exc:
            self._stop(exc)

    def _backed_up(self) -> bool:
        unsent = any(isinstance(s, _Batch) and s.future is None for s in self._steps)
        return not self._stopped and (unsent or len(self._steps) >= STEPS_MAX)

    def _stop(self, exc: Exception) -> None:
        app = self.app
        self._stopped = True
        self.catching_up = False
        self._pending.clear()  # never acknowledged: the next connection resumes from them
        for step in self._steps:
            if isinstance(step, _Batch) and step.future is not None:
                step.future.add_done_callback(_consumed)  # refused by the writer: expected
        self._steps.clear()
        self._moved.set()
        app.logger.warning("relay link stopped: %s", type(exc).__name__, exc_info=exc)
        app.post_message(RelayStateChanged(f"relay: stopped ({exc})", False))
        app.notify(
            f"The relay connection stopped: {exc}", severity="error", timeout=10, markup=False
        )

    @property
    def pending(self) -> int:
        """Entries received and not yet stored and shown."""
        waiting = sum(len(s.pairs) for s in self._steps if isinstance(s, _Batch))
        return len(self._pending) + waiting

    async def settled(self) -> bool:
        """Hand over what was collected and wait until every step so far is taken.

        False once storing has failed (nothing after the failure was stored).
        """
        self.flush()
        while self._steps and not self._stopped:
            self._moved.clear()
            await self._moved.wait()
        return not self._stopped

    def handle(self, event: LinkEvent) -> None:
        """Take one link event; entries go to the writer within APPLY_S, the UI follows.

        Entries are collected and handed over together by `flush`; any other event first
        hands over what came before it and takes effect once that is stored, so everything
        happens in the link's order.
        """
        if isinstance(event, LinkEntry):
            if self._stopped:
                return
            self._pending.append((event.seq, event.entry))
            if len(self._pending) >= BATCH_MAX:
                self.flush()
            elif self._flush_timer is None:
                # Right away after a quiet window (what the operator waits for), else at
                # the window's end with whatever else arrived (what a burst needs).
                # asyncio's timer, not Textual's: a one-shot Textual timer whose task starts
                # later than its delay skips its only tick, and the entries would wait.
                wait = APPLY_S - (time.monotonic() - self._flushed_at)
                self._flush_timer = asyncio.get_running_loop().call_later(
                    max(wait, 0.0), self.app.call_next, self._flush_due
                )
            return
        if not self.flush():
            return
        self._add(event)

    def _flush_due(self) -> None:
        self._flush_timer = None
        self.flush()

    def flush(self) -> bool:
        """Hand the collected entries to the writer as one batch (one transaction).

        All or nothing: on failure none is stored (nor acknowledged) and the link stops, as
        it did when one entry failed; the next connection resumes from the last stored seq.
        Returns False once storing has failed.
        """
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        if self._stopped:
            return False
        if self._pending:
            self._flushed_at = time.monotonic()
            pending, self._pending = self._pending, []
            self._add(_Batch(pending))
        return True

    def _add(self, step: _Batch | LinkEvent) -> None:
        self._steps.append(step)
        self._hand_over()
        self._step_added.set()
        if not self._draining:
            self._draining = True
            self.app.run_worker(self._drain(), name="live-store", group="live-store")

    def _hand_over(self) -> None:
        """Give the writer the batches it has room for, oldest first."""
        try:
            writer = self.app.inbox.writer()
            for step in self._steps:
                if writer.room <= 0:
                    return
                if isinstance(step, _Batch) and step.future is None:
                    step.future = writer.submit(step.pairs)
        except Exception as exc:
            self._fail(exc)

    async def _drain(self) -> None:
        """Take the steps in order: a batch once the writer stored it, an event after it."""
        try:
            while True:
                while not self._steps:
                    self._step_added.clear()
                    await self._step_added.wait()
                step = self._steps[0]
                if isinstance(step, _Batch):
                    await self._take_batch(step)
                else:
                    self._steps.popleft()
                    self._moved.set()
                    await self._take_event(step)
        finally:
            self._draining = False

    async def _take_batch(self, batch: _Batch) -> None:
        if batch.future is None:
            self._hand_over()
            if batch.future is None:
                return  # stopped
        try:
            changes = await batch.future
        except Exception as exc:
            self._fail(exc)
            return
        if not self._steps or self._steps[0] is not batch:
            return  # stopped while it was written
        self._steps.popleft()
        self._moved.set()
        self._hand_over()
        try:
            self._applied(batch.pairs, changes)
        except Exception as exc:
            self._fail(exc)
            return
        self._unacked += len(batch.pairs)
        if self._unacked >= ACK_EVERY:
            await self._acknowledge()

    def _fail(self, exc: Exception) -> None:
        if self._stopped:
            return
        self._stop(exc)
        self.app.workers.cancel_group(self.app, "link")

    def _applied(self, pairs: list[tuple[int, dict[str, Any]]], changes: list[InboxChange]) -> None:
        """A batch is stored: posts, notifications, revocations, and one redraw message."""
        # A post with no title yet is fetched: asked once per post a batch names (each ask
        # reads its title on the loop), and for every post update (a price may change).
        asked: set[str | None] = set()
        for (_, entry), change in zip(pairs, changes, strict=True):
            posts = self.app.posts
            if (
                posts is not None
                and not change.ignored
                and (change.kind == "post_update" or change.post_token not in asked)
            ):
                asked.add(change.post_token)
                posts.saw(change)
            self._entry_applied(change)
            if entry.get("kind") == "access_revocation":
                self.app.tokens.revocation_entry(entry)
        # One message for the whole batch: the screen redraws what it touched once.
        touched = [c.conversation_id for c in changes if not c.ignored]
        self.app.screen_news.publish(ConversationChanged(touched))

    async def _acknowledge(self) -> None:
        """Tell the relay what this console has stored (durable: the writer's commit returned)."""
        self._unacked = 0
        if self._link is None:
            return
        try:
            await self._link.ack(self.app.inbox.last_seq)
        except Exception as exc:  # offline: the next connection's hello says the same
            self.app.logger.info("ack skipped: %s", type(exc).__name__)

    async def _take_event(self, event: LinkEvent) -> None:
        """A link event other than an entry, after every entry before it was stored."""
        if isinstance(event, LinkPresence):
            self.app.team.on_presence(event.frame())
        elif isinstance(event, LinkState):
            self.live = False
            # Taken after every entry before it is stored, so last_seq is this link's start.
            self.catching_up = event.state == "online" and event.head > self.app.inbox.last_seq
            if event.state != "online":
                self.app.team.on_offline()
            words = RELAY_WORDS.get(event.state, f"relay: {event.state}")
            if event.state != "online" and event.detail:
                words = f"relay: {event.detail}"
            if event.state == "offline" and self.was_online:
                words = f"relay: lost, {event.detail}"
            # The status bar carries the connection; it reconnects by itself, so no toast
            # covers the text the user is reading. Only a refused token needs the user.
            self.app.post_message(RelayStateChanged(words, False))
            if event.state == "refused":
                self.app.notify(
                    f"{event.detail}: Ctrl+P → Connection fixes it.",
                    title="Relay refused",
                    severity="error",
                    timeout=20,
                    markup=False,
                )
        elif isinstance(event, LinkLive):
            self.live = self.was_online = True
            self.catching_up = False
            if self._unacked:
                await self._acknowledge()
            self.app.post_message(RelayStateChanged("relay: live", True))
            self.app.screen_news.publish(ConversationChanged())  # the backlog: one refresh
            self.app.team.on_live()
        elif isinstance(event, LinkGap):
            self.app.inbox.note_gap(event.since, event.oldest)
            self.app.notify(
                "Some older entries were purged on the relay before this console caught up.",
                severity="warning",
                timeout=8,
            )

    def _entry_applied(self, change: InboxChange) -> None:
        if change.ignored:
            return
        if not self.live:
            return  # the backlog: one refresh, no fanfare
        cid = change.conversation_id
        if change.new_from_buyer and cid is not None:
            assignee = self.app.inbox.assignee(cid)
            if assignee and assignee != self.app.team.me:
                # Kept for a later reminder ("still unanswered"), which previews the message.
                change = self.app.inbox.with_item(change)
            if self.app.team.notify_now(change):  # assigned to a teammate: theirs first
                self._notify(change)
        elif change.notice is not None:
            self.app.notify(
                f"{change.notice.text} (Alt+N lists notices)",
                title="Kenar",
                severity="warning",
                timeout=10,
                markup=False,
            )

    def _notify(self, change: InboxChange) -> None:
        # A busy minute must not bury the screen under toasts: one per TOAST_GAP_S, and the
        # next one says how many arrived in between.
        now = time.monotonic()
        if now - self._last_toast < TOAST_GAP_S:
            self._skipped += 1
            return
        self._last_toast = now
        more, self._skipped = self._skipped, 0
        change = self.app.inbox.with_item(change)  # read only for the toast shown
        cid = change.conversation_id
        summary = self.app.inbox.conversation(cid) if cid is not None else None
        bidi = self.app.settings.bidi
        where = (summary.post_title or summary.post_token or "") if summary else ""
        preview = change.item.text if change.item is not None else "new message"
        title = display(where, bidi=bidi) or "New message"
        if more:
            title = f"{title} (+{more} more)"
        self.app.notify_new_message(title, display(preview, bidi=bidi))


def _consumed(future: asyncio.Future[Any]) -> None:
    """A batch future nobody awaits any more: its refusal is expected, not an error to print."""
    if not future.cancelled():
        future.exception()
