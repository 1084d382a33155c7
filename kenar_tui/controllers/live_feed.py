"""The live side of the app: relay events into the Inbox, outbox states onto the screen.

It never calls a screen: what changed goes out as messages (controllers/messages.py), the
relay's and the outbox's state to the app, which keeps them in reactives the status bar
watches, and the conversations touched to the screens that draw them.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from kenar_tui.controllers.messages import ConversationChanged, OutboxChanged, RelayStateChanged
from kenar_tui.link import LinkEntry, LinkEvent, LinkGap, LinkLive, LinkPresence, LinkState
from kenar_tui.text import display

if TYPE_CHECKING:
    from kenar_tui.app import KenarApp
    from kenar_tui.inbox.models import InboxChange
    from kenar_tui.outbox import OutboxItem
    from kenar_tui.services import LinkService, OutboxService

ACK_EVERY = 200
TOAST_GAP_S = 2.0
# Live entries are stored at most once per this window, all that came in it in one
# transaction (a burst of 1,000 is a few commits, not 1,000); an entry after a quiet window
# is stored at once. The list redraw coalesces the same way (screens/main.py).
APPLY_S = 1 / 60

RELAY_WORDS = {
    "connecting": "relay: connecting…",
    "online": "relay: catching up…",
    "offline": "relay: offline, retrying",
    "refused": "relay: refused the token",
}


class LiveFeed:
    """Consumes `link.events()` in a worker and tells the app and its screens what changed."""

    def __init__(self, app: KenarApp) -> None:
        self.app = app
        self.outbox_states: dict[str, str] = {}
        self.live = False
        self.was_online = False  # "lost" only for a relay that was reached once
        self._unacked = 0
        self._last_toast = -TOAST_GAP_S
        self._skipped = 0
        # Entries received but not stored yet, in seq order; stored by `flush`.
        self._pending: list[tuple[int, dict[str, Any]]] = []
        self._flush_timer: asyncio.TimerHandle | None = None
        self._flushed_at = -APPLY_S  # time.monotonic() of the last store
        self._stopped = False  # storing failed: the link stops, nothing more is taken

    def start(self) -> None:
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
        try:
            async with link:
                async for event in link.events():
                    self.handle(event)
                    await self._acknowledge(link, event)
                self.flush()
        except Exception as exc:
            self._stop(exc)

    def _stop(self, exc: Exception) -> None:
        app = self.app
        self._stopped = True
        self._pending.clear()  # never acknowledged: the next connection resumes from them
        app.logger.warning("relay link stopped: %s", type(exc).__name__, exc_info=exc)
        app.post_message(RelayStateChanged(f"relay: stopped ({exc})", False))
        app.notify(
            f"The relay connection stopped: {exc}", severity="error", timeout=10, markup=False
        )

    async def _acknowledge(self, link: LinkService, event: LinkEvent) -> None:
        """Tell the relay what this console has stored: when live, and every ACK_EVERY entries."""
        if isinstance(event, LinkEntry):
            self._unacked += 1
        if self._unacked and (isinstance(event, LinkLive) or self._unacked >= ACK_EVERY):
            if not self.flush():
                return  # not stored: not acknowledged either
            self._unacked = 0
            try:
                await link.ack(self.app.inbox.last_seq)
            except Exception as exc:  # offline: the next connection's hello says the same
                self.app.logger.info("ack skipped: %s", type(exc).__name__)

    @property
    def pending(self) -> int:
        """Entries received and not yet stored."""
        return len(self._pending)

    def handle(self, event: LinkEvent) -> None:
        """Take one link event; entries are stored within APPLY_S, the UI follows a frame later.

        Entries are collected and stored together by `flush`; any other event first stores
        what came before it, so everything happens in the link's order.
        """
        if isinstance(event, LinkEntry):
            if self._stopped:
                return
            self._pending.append((event.seq, event.entry))
            if self._flush_timer is None:
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
        if isinstance(event, LinkPresence):
            self.app.team.on_presence(event.frame())
        elif isinstance(event, LinkState):
            self.live = False
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

    def _flush_due(self) -> None:
        self._flush_timer = None
        self.flush()

    def flush(self) -> bool:
        """Store the collected entries in one transaction, then tell the UI and notify.

        All or nothing: on failure none is stored (nor acknowledged) and the link stops, as
        it did when one entry failed; the next connection resumes from the last stored seq.
        Returns False once storing has failed.
        """
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        if self._stopped:
            return False
        if not self._pending:
            return True
        self._flushed_at = time.monotonic()
        pending, self._pending = self._pending, []
        try:
            changes = self.app.inbox.apply_many(pending)
            for (_, entry), change in zip(pending, changes, strict=True):
                if self.app.posts is not None and not change.ignored:
                    self.app.posts.saw(change)  # a post with no title yet is fetched
                self._entry_applied(change)
                if entry.get("kind") == "access_revocation":
                    self.app.tokens.revocation_entry(entry)
        except Exception as exc:
            self._stop(exc)
            self.app.workers.cancel_group(self.app, "link")
            return False
        # One message for the whole batch: the screen redraws what it touched once.
        touched = [c.conversation_id for c in changes if not c.ignored]
        self.app.screen_news.publish(ConversationChanged(touched))
        return True

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

    def outbox_changed(self, item: OutboxItem) -> None:
        """Outbox.on_change: the reply's state shows in its history and the status bar."""
        self.outbox_states[item.ref] = item.state
        if item.state == "sent":
            self.outbox_states.pop(item.ref, None)
        self.app.screen_news.publish(ConversationChanged([item.conversation_id]))
        self._summarise()
        if item.state == "failed":
            reason = item.reason or "the reply was not sent"
            if "kenar-tui login" in reason:  # in the console, the login is one key away
                reason += f" (or press {self.app.keys_for('auth.login')} to log in here)"
            self.app.notify(
                reason,
                title="Reply failed",
                severity="error",
                markup=False,
            )
        elif item.state == "unknown":
            self.app.notify(
                item.reason or "unknown — may have been delivered",
                title="Reply unknown",
                severity="warning",
                markup=False,
            )

    def count_outbox(self, outbox: OutboxService) -> None:
        """Start the status bar's outbox counts from what the cache holds."""
        for item in outbox.items("sending", "retrying", "failed", "unknown"):
            self.outbox_states[item.ref] = item.state
        self._summarise()

    def _summarise(self) -> None:
        counts: dict[str, int] = {}
        for state in self.outbox_states.values():
            counts[state] = counts.get(state, 0) + 1
        parts = [f"{n} {state}" for state, n in sorted(counts.items())]
        self.app.post_message(OutboxChanged(f"outbox: {', '.join(parts)}" if parts else ""))
