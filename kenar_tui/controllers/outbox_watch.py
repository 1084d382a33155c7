"""The outbox's states onto the screen: each reply's state in its conversation's history, the
status bar's counts ("outbox: 1 retrying"), and a failed or unknown reply said in a toast.

Like the other controllers it never calls a screen: it publishes `ConversationChanged` on the
app's `screen_news` and posts `OutboxChanged` to the app, which keeps it in a reactive.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kenar_tui.controllers.messages import ConversationChanged, OutboxChanged

if TYPE_CHECKING:
    from kenar_tui.app import KenarApp
    from kenar_tui.outbox import OutboxItem
    from kenar_tui.services import OutboxService


class OutboxWatch:
    """`Outbox.on_change` is `changed`; `count` starts the counts from what the cache holds."""

    def __init__(self, app: KenarApp) -> None:
        self.app = app
        # Replies not sent yet, by ref: their state (a sent one leaves).
        self.states: dict[str, str] = {}

    def changed(self, item: OutboxItem) -> None:
        """Outbox.on_change: the reply's state shows in its history and the status bar."""
        self.states[item.ref] = item.state
        if item.state == "sent":
            self.states.pop(item.ref, None)
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

    def count(self, outbox: OutboxService) -> None:
        """Start the status bar's outbox counts from what the cache holds."""
        for item in outbox.items("sending", "retrying", "failed", "unknown"):
            self.states[item.ref] = item.state
        self._summarise()

    def _summarise(self) -> None:
        counts: dict[str, int] = {}
        for state in self.states.values():
            counts[state] = counts.get(state, 0) + 1
        parts = [f"{n} {state}" for state, n in sorted(counts.items())]
        self.app.post_message(OutboxChanged(f"outbox: {', '.join(parts)}" if parts else ""))
