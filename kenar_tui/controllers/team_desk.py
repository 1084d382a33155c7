"""Team mode in the app: presence in and out, notes, assignments, filters, who hears what.

Like LiveFeed, a controller the app owns (not a widget): it turns the team rules of
kenar_tui/team.py into relay frames, confirmations, notifications and messages
(controllers/messages.py) that the screens handle; it never calls a screen.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.timer import Timer

from kenar_core.errors import KenarTuiError
from kenar_tui.controllers.messages import NoteNotSaved, PresenceChanged
from kenar_tui.dialogs.confirm import ConfirmScreen
from kenar_tui.team import (
    FILTER_WORDS,
    PresenceSender,
    TeamPresence,
    collision,
    filter_posts,
    next_filter,
)
from kenar_tui.text import display

if TYPE_CHECKING:
    from kenar_tui.app import KenarApp
    from kenar_tui.inbox.models import InboxChange, PostSummary
    from kenar_tui.services import LinkService

TICK_S = 1.0
NOTE_PREFIX = "/note "


class TeamDesk:
    """The app's team state: teammates' presence, our own, the list filter, quiet alerts."""

    def __init__(self, app: KenarApp) -> None:
        self.app = app
        self.presence = TeamPresence()
        self.sender = PresenceSender()
        self.filter = "everyone"
        self._quiet: dict[str, Timer] = {}  # cid -> the timer that notifies everyone later

    @property
    def me(self) -> str | None:
        """This console's operator: the setting, else the name the relay says we post as."""
        link = self.app.link
        return (
            self.app.settings.operator
            or (getattr(link, "welcome_operator", None) if link is not None else None)
            or self.app.inbox.operator
        )

    def start(self) -> None:
        if self.app.link is not None:
            self.app.set_interval(TICK_S, self.tick, name="team-tick")

    def tick(self) -> None:
        """Expire teammates not refreshed in time; refresh our own presence when due."""
        changed = self.presence.expire()
        if changed:
            self.app.screen_news.publish(PresenceChanged())
        due = self.sender.due()
        if due is not None:
            self._send_presence(*due)

    # --- presence ----------------------------------------------------------------------------

    def announce(self, cid: str | None, state: str) -> None:
        """We are viewing / replying in / idle on `cid`; teammates hear of changes only."""
        for pair in self.sender.want(cid, state):
            self._send_presence(*pair)

    def _send_presence(self, cid: str, state: str) -> None:
        link = self.app.link
        if link is not None and link.online:
            self.app.run_worker(link.presence(cid, state), group="presence")

    def on_presence(self, frame: dict[str, Any]) -> None:
        if self.presence.apply(frame) is not None:
            self.app.screen_news.publish(PresenceChanged())

    def on_live(self) -> None:
        again = self.sender.resend()
        if again is not None:
            self._send_presence(*again)

    def on_offline(self) -> None:
        if self.presence.clear():
            self.app.screen_news.publish(PresenceChanged())

    def _shown(self, name: str) -> str:
        return display(name, bidi=self.app.settings.bidi)

    def header_line(self, cid: str | None) -> str:
        return self.presence.line(cid, me=self.me, shown=self._shown) if cid else ""

    def list_marks(self) -> tuple[dict[str, str], dict[str, str]]:
        """(presence marker per conversation, assignee label per conversation) for the list."""
        me = self.me
        labels = {
            cid: "mine" if who == me else f"→ {self._shown(who)}"
            for cid, who in self.app.inbox.assignees().items()
            if who
        }
        return self.presence.markers(me=me, shown=self._shown), labels

    # --- sending, with the collision check ------------------------------------------------

    def guard(self, cid: str, proceed: Callable[[], None]) -> None:
        """Run `proceed` now, or after a yes when a teammate is replying or just replied."""
        question = collision(self.app.inbox, self.presence, cid, me=self.me, now=self.app.clock())
        if question is None:
            proceed()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                proceed()
            else:
                self.app.notify("Not sent; your text stays in the reply box.")

        self.app.push_screen(ConfirmScreen(question), answered)

    def post_note(self, cid: str, text: str) -> bool:
        """A private note for the team (never sent to Divar); False when it cannot go now."""
        text = text.strip()
        if not text:
            return False
        link = self.app.link
        if link is None or not link.online:
            self.app.notify(
                "Notes travel through the relay, which is not connected; "
                "the note stays in the box.",
                severity="warning",
            )
            return False
        summary = self.app.inbox.conversation(cid)
        entry = {
            "kind": "note",
            "conversation_id": cid,
            "post_token": summary.post_token if summary is not None else None,
            "data": {"text": text},
        }
        self.app.run_worker(self._post(link, entry, "note", restore=(cid, text)), group="team")
        return True

    def assign(self, cid: str, assignee: str | None) -> None:
        link = self.app.link
        if link is None or not link.online:
            self.app.notify(
                "Assigning needs the relay, which is not connected.", severity="warning"
            )
            return
        summary = self.app.inbox.conversation(cid)
        entry = {
            "kind": "assignment",
            "conversation_id": cid,
            "post_token": summary.post_token if summary is not None else None,
            "data": {"assignee": assignee},
        }
        self.app.run_worker(self._post(link, entry, "assignment"), group="team")

    async def _post(
        self,
        link: LinkService,
        entry: dict[str, Any],
        what: str,
        restore: tuple[str, str] | None = None,
    ) -> None:
        try:
            await link.post(entry, ref=f"{what}-{uuid.uuid4().hex}")
        except KenarTuiError as exc:
            self.app.notify(f"The {what} was not saved: {exc}", severity="error", markup=False)
            if restore is not None:
                self.app.screen_news.publish(NoteNotSaved(*restore))

    # --- the list filter ---------------------------------------------------------------------

    def cycle_filter(self) -> str:
        self.filter = next_filter(self.filter)
        return self.filter

    @property
    def filter_words(self) -> str:
        return "" if self.filter == "everyone" else f"showing: {FILTER_WORDS[self.filter]}"

    def filtered(self, posts: list[PostSummary]) -> list[PostSummary]:
        return filter_posts(
            posts,
            self.app.inbox.assignees(),
            me=self.me,
            mode=self.filter,
            now=self.app.clock(),
        )

    # --- who is told about a new buyer message ---------------------------------------------

    def notify_now(self, change: InboxChange) -> bool:
        """True when this console announces the message now; else a quiet list update only.

        A conversation assigned to a teammate is theirs to answer first: the others hear of
        it only if it is still unanswered after `assigned_quiet_seconds`.
        """
        cid = change.conversation_id
        if cid is None:
            return True
        assignee = self.app.inbox.assignee(cid)
        if not assignee or assignee == self.me:
            return True
        if cid not in self._quiet:
            delay = float(self.app.settings.assigned_quiet_seconds)
            self._quiet[cid] = self.app.set_timer(delay, lambda: self._still_waiting(cid, change))
        return False

    def _still_waiting(self, cid: str, change: InboxChange) -> None:
        self._quiet.pop(cid, None)
        summary = self.app.inbox.conversation(cid)
        if summary is None or summary.answered:
            return
        bidi = self.app.settings.bidi
        where = display(summary.post_title or summary.post_token or "", bidi=bidi)
        assignee = self.app.inbox.assignee(cid) or "nobody"
        preview = change.item.text if change.item is not None else summary.last_preview
        self.app.notify_new_message(
            f"{where or 'A buyer'} · still unanswered by {assignee}", display(preview, bidi=bidi)
        )
