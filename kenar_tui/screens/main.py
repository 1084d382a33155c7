"""The main screen: posts and conversations, the open conversation, the reply box.

It learns what changed from the controllers' messages (controllers/messages.py), which it
receives on the app's `screen_news` signal and handles in `on_…` handlers; its status bar
watches the app's reactive relay, outbox and keyring state. What the reply box asks for (send,
editor, grids, templates, files) is answered by its base, `ReplyingScreen` (reply_flows.py).
"""

from __future__ import annotations

import asyncio
import gc
import time
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.timer import Timer

from kenar_tui.controllers.messages import (
    ConversationChanged,
    PresenceChanged,
    TokenStateChanged,
)
from kenar_tui.screens.reply_flows import ReplyingScreen
from kenar_tui.widgets.composer import Composer
from kenar_tui.widgets.conversation_header import ConversationHeader
from kenar_tui.widgets.conversation_list import ConversationList
from kenar_tui.widgets.history_view import HistoryView
from kenar_tui.widgets.input_preview import InputPreview
from kenar_tui.widgets.status_bar import StatusBar

# Live entries arrive in bursts; the list is rebuilt at most this often (about two frames),
# at once when the last rebuild is older than that.
REFRESH_S = 1 / 30
# The frame budget: a rebuild costs its own time and about as much again to draw, so the next
# one waits at least this many times the last one's cost (rebuilds stay near a quarter of the
# loop under load, and keys between them are answered; a cheap rebuild still goes at once).
REFRESH_BUDGET = 4
# While a backlog is caught up (the feed's `catching_up`), the list is rebuilt at most this
# often: each rebuild over thousands of conversations is loop time the writer thread waits
# for (one GIL), and the list changes on nearly every batch. The open conversation's history
# still follows at the live cadence, and the list is rebuilt once more when live.
CATCHUP_LIST_S = 1.0
# Passing over a conversation with the cursor does not read it; staying on it this long does.
READ_DWELL_S = 2.0


class MainScreen(ReplyingScreen):
    """Everything a seller needs while answering buyers."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("alt+down,ctrl+n", "step(1)", "Next conversation", id="conversation.next"),
        Binding("alt+up,ctrl+b", "step(-1)", "Previous conversation", id="conversation.previous"),
        Binding(
            "ctrl+g", "next_unanswered", "Next unanswered buyer", id="conversation.next_unanswered"
        ),
        Binding("ctrl+l", "jump_post", "Jump to a post", id="post.jump"),
        Binding("ctrl+f", "search", "Search every message", id="search.open"),
        Binding("ctrl+o", "open_conversation", "Open a conversation by id", id="conversation.open"),
        Binding("ctrl+r", "focus_reply", "Reply (focus the reply box)", id="composer.focus"),
        Binding("alt+h", "focus_history", "Focus the history", id="history.focus", show=False),
        Binding("alt+l", "focus_list", "Focus the conversation list", id="list.focus", show=False),
        Binding("alt+n", "notices", "Notices (revocations, gaps)", id="notices.open"),
        Binding("u", "toggle_unread", "Mark read or unread", id="conversation.toggle_unread"),
        Binding("e", "export", "Export the conversation to a text file", id="conversation.export"),
        Binding("alt+t", "take", "Take the conversation (mine) or release it", id="team.take"),
        Binding("alt+a", "give", "Give the conversation to a teammate", id="team.give"),
        # Alt+F never arrives (Textual reads ESC f as ctrl+right), so the filter is Alt+M ("mine").
        Binding("alt+m", "cycle_filter", "Filter: everyone's, mine, unassigned", id="team.filter"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._refresh_timer: asyncio.TimerHandle | None = None
        self._refresh_due = 0.0  # time.monotonic() the pending timer fires at
        self._refreshed_at = -REFRESH_S  # time.monotonic() of the last rebuild
        self._listed_at = -CATCHUP_LIST_S  # time.monotonic() of the last list rebuild
        self._refresh_cost = 0.0  # seconds the last rebuild took
        self._open_changed = False
        self._read_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        app = self.kapp
        with Horizontal(id="main-body"):
            yield ConversationList(
                bidi=app.settings.bidi,
                now=app.clock,
                format_time=app.format_time,
                palette=app.palette,
                id="conversations",
            )
            with Vertical(id="conversation-pane"):
                yield ConversationHeader(
                    bidi=app.settings.bidi,
                    digits=app.settings.digits,
                    login_hint=f"{app.keys_for('auth.login')}: log in",
                    id="conversation-header",
                )
                yield HistoryView(app.inbox, app.render_options, id="history")
                yield Composer(id="composer")
                yield InputPreview(id="composer-preview")  # Persian as it will read, and its length
        yield StatusBar(id="status")

    @property
    def conversations(self) -> ConversationList:
        return self.query_one(ConversationList)

    @property
    def history(self) -> HistoryView:
        return self.query_one(HistoryView)

    @property
    def status(self) -> StatusBar:
        return self.query_one(StatusBar)

    def on_mount(self) -> None:
        app = self.kapp
        app.screen_news.subscribe(self, self.post_message, immediate=True)
        status = self.status
        self.watch(app, "relay_status", status.show_relay)
        self.watch(app, "outbox_status", status.show_outbox)
        self.watch(app, "keyring_status", status.show_keyring)
        self.refresh_posts()
        status.hints = app.hints()
        first = self.kapp.inbox.next_unanswered() or next(
            iter(self.conversations.conversation_ids), None
        )
        if first is not None:
            self.show_conversation(first, read=False)
        self.conversations.focus()
        # What exists now (Textual's styles and widgets, the list) lives as long as the
        # screen: out of the collector's way, a full collection no longer walks it (one took
        # 70-85 ms in the middle of a conversation switch; now ~30 ms at most). Given back
        # when the screen goes, so a process that opens consoles again (tests) frees them.
        gc.freeze()

    def on_unmount(self) -> None:
        gc.unfreeze()

    # --- model → view ----------------------------------------------------------------------

    def refresh_posts(self) -> None:
        team = self.kapp.team
        self.conversations.update_posts(team.filtered(self.kapp.inbox.posts()))
        self.conversations.set_team(*team.list_marks())
        self.status.team_filter = team.filter_words
        self.conversations.select(self.cid, scroll=False)
        if self.cid is None:  # the first conversation arrived: show it
            first = next(iter(self.conversations.conversation_ids), None)
            if first is not None:
                self.show_conversation(first, read=False)

    def schedule_refresh(self) -> None:
        """Coalesce a burst of live entries into one rebuild of the list."""
        due = self._refreshed_at + max(REFRESH_S, REFRESH_BUDGET * self._refresh_cost)
        if self.kapp.feed.catching_up and not self._open_changed:
            due = max(due, self._listed_at + CATCHUP_LIST_S)
        if self._refresh_timer is not None:
            if due >= self._refresh_due:
                return
            self._refresh_timer.cancel()  # sooner now (live again, or the open one changed)
        self._refresh_due = due
        # asyncio's timer: a one-shot Textual timer that starts late never fires.
        self._refresh_timer = asyncio.get_running_loop().call_later(
            max(due - time.monotonic(), 0.0), self.call_next, self._flush
        )

    def _flush(self) -> None:
        self._refresh_timer = None
        if not self.query(HistoryView):
            return  # the timer outlived the screen's widgets (the app is closing)
        self._refreshed_at = now = time.monotonic()
        if self._open_changed and self.cid is not None:
            self._open_changed = False
            if self._read_timer is None:  # opened, not just passed over: new messages are read
                # By the live writer, after the entries: never waiting for its transaction.
                self.kapp.inbox.mark_read_soon(self.cid, self.schedule_refresh)
            self.history.reload()
            self._update_header()
        if self.kapp.feed.catching_up and now - self._listed_at < CATCHUP_LIST_S:
            self._refresh_cost = time.monotonic() - now
            self.schedule_refresh()  # the list's turn comes at its catch-up cadence
            return
        self._listed_at = now
        self.refresh_posts()
        self._refresh_cost = time.monotonic() - self._refreshed_at

    # --- what the controllers say (controllers/messages.py) -------------------------------

    def on_presence_changed(self, _: PresenceChanged) -> None:
        """A teammate's presence changed: the header and the list markers follow."""
        self._update_header()
        self.conversations.set_team(*self.kapp.team.list_marks())

    def on_conversation_changed(self, message: ConversationChanged) -> None:
        """Entries (or outbox states) touched these: refresh what shows them, once a burst."""
        if self.cid is not None and self.cid in message.cids:
            self._open_changed = True
        self.schedule_refresh()

    def on_token_state_changed(self, _: TokenStateChanged) -> None:
        """Tokens came or went: the header says again whether the open conversation can send."""
        if self.cid is not None:
            self._open_changed = True
        self.schedule_refresh()

    def show_conversation(
        self, cid: str, *, position: int | None = None, read: bool = True
    ) -> None:
        """Show `cid`; read=False (the list's cursor passing over it) marks it read only after
        READ_DWELL_S on it, or when it is opened (Enter, the reply box)."""
        inbox = self.kapp.inbox
        if self.cid is not None and self.cid != cid:
            inbox.set_draft(self.cid, self.composer.text or None)
        if self.cid != cid:
            self.composer.load_text(inbox.draft(cid) or "")
            self.composer.move_cursor(self.composer.document.end)
        self.cid = cid
        if self._read_timer is not None:
            self._read_timer.stop()
            self._read_timer = None
        # The list is rebuilt only when its unread count changes: a switch is one frame.
        list_changed = False
        if read:
            summary = inbox.conversation(cid)
            list_changed = summary is None or summary.unread > 0
            inbox.mark_read(cid)
        else:
            self._read_timer = self.set_timer(READ_DWELL_S, lambda: self._dwelt(cid))
        self.conversations.select(cid)
        self.history.show(cid)
        if position is not None:
            self.history.move_to(position)
            self.history.focus()
        self._update_header()
        if list_changed:
            self.schedule_refresh()
        self.kapp.team.announce(cid, "viewing")

    def _dwelt(self, cid: str) -> None:
        self._read_timer = None
        if self.cid == cid:
            self.kapp.inbox.mark_read(cid)
            self.schedule_refresh()

    def _update_header(self) -> None:
        summary = self.kapp.inbox.conversation(self.cid) if self.cid else None
        can_send = summary is not None and self.kapp.can_send(summary)
        team = self.kapp.team
        self.query_one(ConversationHeader).show(
            summary,
            can_send=can_send,
            presence=team.header_line(self.cid),
            assignee=self.kapp.inbox.assignee(self.cid) if self.cid else None,
        )
        composer = self.composer
        composer.set_class(summary is not None and not can_send, "-disabled")
        composer.border_title = "Reply · Enter sends · ^J new line · F4 editor"

    # --- events from the widgets -----------------------------------------------------------

    @on(ConversationList.Highlighted)
    def _highlighted(self, event: ConversationList.Highlighted) -> None:
        if event.cid != self.cid:
            self.show_conversation(event.cid, read=False)

    @on(ConversationList.Chosen)
    def _chosen(self, event: ConversationList.Chosen) -> None:
        self.show_conversation(event.cid)
        self.composer.focus()

    @on(Composer.Left)
    def _left(self) -> None:
        self.history.focus()

    @on(HistoryView.ItemAction)
    def _item_action(self, event: HistoryView.ItemAction) -> None:
        self.kapp.act_on_item(event.action, event.item)

    # --- actions ---------------------------------------------------------------------------

    def action_step(self, delta: int) -> None:
        cid = self.conversations.step(delta)
        if cid is not None:
            self.show_conversation(cid, read=False)

    def action_next_unanswered(self) -> None:
        cid = self.kapp.inbox.next_unanswered(after=self.cid)
        if cid is None:
            self.notify("Every buyer has an answer.")
            return
        self.show_conversation(cid)
        self.composer.focus()

    def action_jump_post(self) -> None:
        from kenar_tui.dialogs.post_picker import PostPickerScreen

        def chosen(answer: tuple[str | None] | None) -> None:
            if answer is not None:
                cid = self.conversations.jump_to_post(answer[0])
                if cid is not None:
                    self.show_conversation(cid)

        self.app.push_screen(
            PostPickerScreen(self.kapp.inbox.posts(), bidi=self.kapp.settings.bidi), chosen
        )

    def action_search(self) -> None:
        from kenar_tui.dialogs.search import SearchScreen

        def chosen(hit: tuple[str, int] | None) -> None:
            if hit is not None:
                self.show_conversation(hit[0], position=hit[1])

        self.app.push_screen(SearchScreen(self.kapp.inbox, bidi=self.kapp.settings.bidi), chosen)

    def action_open_conversation(self) -> None:
        from kenar_tui.dialogs.open_conversation import OpenConversationScreen

        def chosen(answer: tuple[str, str | None, str] | None) -> None:
            if answer is None:
                return
            cid, post, kind = answer
            if self.kapp.inbox.conversation(cid) is None:
                self.kapp.inbox.open_conversation(cid, post_token=post, type=kind)
            self.refresh_posts()
            self.show_conversation(cid)
            self.composer.focus()

        self.app.push_screen(OpenConversationScreen(), chosen)

    def action_notices(self) -> None:
        from kenar_tui.dialogs.notices import NoticesScreen

        self.app.push_screen(NoticesScreen(self.kapp.inbox.notices(), self.kapp.format_time))

    def action_focus_reply(self) -> None:
        if self.cid is not None:  # replying is reading: the conversation counts as opened
            self.show_conversation(self.cid)
        self.composer.focus()

    def action_focus_history(self) -> None:
        self.history.focus()

    def action_focus_list(self) -> None:
        self.conversations.focus()

    def action_toggle_unread(self) -> None:
        if self.cid is None:
            return
        summary = self.kapp.inbox.conversation(self.cid)
        if summary is not None and summary.unread:
            self.kapp.inbox.mark_read(self.cid)
            self.notify("Marked read.")
        else:
            self.kapp.inbox.mark_unread(self.cid)
            self.notify("Marked unread.")
        self.refresh_posts()

    def action_export(self) -> None:
        if self.cid is None:
            self.notify("Choose a conversation to export.", severity="warning")
            return
        self.kapp.export_conversation(self.cid)

    def action_take(self) -> None:
        """Mine if it is not; released if it is."""
        team, cid = self.kapp.team, self.cid
        if cid is None:
            self.notify("Choose a conversation to take.", severity="warning")
            return
        me = team.me
        if me is None:
            self.notify("Set `operator` in the config to take conversations.", severity="warning")
            return
        mine = self.kapp.inbox.assignee(cid) == me
        team.assign(cid, None if mine else me)

    def action_give(self) -> None:
        from kenar_tui.dialogs.name_prompt import NamePromptScreen

        cid = self.cid
        if cid is None:
            self.notify("Choose a conversation to give.", severity="warning")
            return

        def answered(name: str | None) -> None:
            if name:
                self.kapp.team.assign(cid, name)

        self.app.push_screen(
            NamePromptScreen(
                "Give this conversation to",
                note="The teammate's operator name, as their console shows it.",
            ),
            answered,
        )

    def action_cycle_filter(self) -> None:
        self.kapp.team.cycle_filter()
        self.refresh_posts()  # the status bar says "showing: mine": no toast over the text

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Letter keys belong to the reply box while it has the focus.
        return not (action in ("toggle_unread", "export") and isinstance(self.focused, Composer))
