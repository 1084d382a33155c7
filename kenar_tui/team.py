"""Team mode on the console's side, without Textual: who is where, and what the team rules say.

- `TeamPresence`: the relay's `presence` frames (docs/protocol.md) as "Sara is replying",
  expiring by themselves when the relay's `expires_in` passes without a refresh.
- `PresenceSender`: what this console should tell the relay about itself, and when to
  re-send it (the relay forgets a presence not refreshed within its TTL).
- `collision`: the sentence asking for confirmation before sending into a conversation where
  a teammate is replying now or replied within the last minute; None when there is none.
- `filter_posts`: the conversation list's filters, mine / unassigned / everyone's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from kenar_tui.text import format_wait

if TYPE_CHECKING:
    from kenar_tui.inbox.models import PostSummary
    from kenar_tui.services import InboxService

STATES = ("viewing", "replying", "idle")
REFRESH_S = 10.0  # the relay's TTL is 30 s: three chances before a presence lapses
COLLISION_WINDOW = timedelta(minutes=1)
FILTERS = ("everyone", "mine", "unassigned")
FILTER_WORDS = {"everyone": "everyone's", "mine": "mine", "unassigned": "unassigned"}


@dataclass(frozen=True, slots=True)
class Teammate:
    """One teammate's presence in one conversation."""

    operator: str
    conversation_id: str
    state: str  # viewing | replying
    expires_at: float  # on the presence clock (monotonic seconds)

    @property
    def words(self) -> str:
        return f"{self.operator} is {self.state}"


class TeamPresence:
    """Every teammate's presence the relay told this console about."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._present: dict[tuple[str, str], Teammate] = {}

    def apply(self, frame: dict[str, Any]) -> str | None:
        """Take a `presence` frame; returns the conversation whose presence changed."""
        operator, cid = frame.get("operator"), frame.get("conversation_id")
        state, expires_in = frame.get("state"), frame.get("expires_in")
        if not isinstance(operator, str) or not isinstance(cid, str) or state not in STATES:
            return None
        key = (operator, cid)
        if state == "idle" or not isinstance(expires_in, int | float) or expires_in <= 0:
            return cid if self._present.pop(key, None) is not None else None
        before = self._present.get(key)
        self._present[key] = Teammate(operator, cid, str(state), self._clock() + expires_in)
        return cid if before is None or before.state != state else None

    def expire(self) -> set[str]:
        """Drop presences past their expiry; returns the conversations that changed."""
        now = self._clock()
        gone = [key for key, mate in self._present.items() if mate.expires_at <= now]
        for key in gone:
            del self._present[key]
        return {cid for _, cid in gone}

    def clear(self) -> set[str]:
        """Forget everyone (the link dropped: the relay sends a fresh snapshot after `live`)."""
        cids = {cid for _, cid in self._present}
        self._present.clear()
        return cids

    def in_conversation(self, cid: str, *, me: str | None = None) -> list[Teammate]:
        """Who else is in `cid`, those replying first, then by name."""
        found = [m for (who, c), m in self._present.items() if c == cid and who != me]
        return sorted(found, key=lambda m: (m.state != "replying", m.operator))

    def line(self, cid: str, *, me: str | None = None, shown: Callable[[str], str] = str) -> str:
        """Who else is here ("Sara is replying · Reza is viewing"), or "".

        `shown` prepares each name for the screen (bidi), so a Persian name cannot turn the
        whole sentence around.
        """
        return " · ".join(
            f"{shown(m.operator)} is {m.state}" for m in self.in_conversation(cid, me=me)
        )

    def markers(
        self, *, me: str | None = None, shown: Callable[[str], str] = str
    ) -> dict[str, str]:
        """A short marker per conversation for the list: "✎ Sara" (replying) or "◉ Reza"."""
        marks: dict[str, str] = {}
        for (who, cid), mate in sorted(self._present.items()):
            if who == me:
                continue
            sign = "✎" if mate.state == "replying" else "◉"
            text = f"{sign} {shown(who)}"
            marks[cid] = f"{marks[cid]}, {text}" if cid in marks else text
        return marks


class PresenceSender:
    """This console's own presence: the frame to send now, if any."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.cid: str | None = None
        self.state = "idle"
        self._sent_at: float | None = None

    def want(self, cid: str | None, state: str) -> list[tuple[str, str]]:
        """Move to (`cid`, `state`); the (conversation, state) pairs to send for it."""
        frames: list[tuple[str, str]] = []
        if cid != self.cid and self.cid is not None and self.state != "idle":
            frames.append((self.cid, "idle"))
        changed = cid != self.cid or state != self.state
        self.cid, self.state = cid, state
        if cid is not None and changed and (state != "idle" or frames == []):
            frames.append((cid, state))
        if frames:
            self._sent_at = self._clock()
        return frames

    def due(self) -> tuple[str, str] | None:
        """The refresh to send now, when viewing or replying for REFRESH_S since the last."""
        if self.cid is None or self.state == "idle":
            return None
        now = self._clock()
        if self._sent_at is not None and now - self._sent_at < REFRESH_S:
            return None
        self._sent_at = now
        return (self.cid, self.state)

    def resend(self) -> tuple[str, str] | None:
        """What to announce again after a reconnect (the relay forgot it with the link)."""
        if self.cid is None or self.state == "idle":
            return None
        self._sent_at = self._clock()
        return (self.cid, self.state)


def collision(
    inbox: InboxService, presence: TeamPresence, cid: str, *, me: str | None, now: datetime
) -> str | None:
    """Why sending into `cid` needs a confirmation now, as a question; None when it does not."""
    replying = [m.operator for m in presence.in_conversation(cid, me=me) if m.state == "replying"]
    if replying:
        who = " and ".join(replying)
        verb = "is" if len(replying) == 1 else "are"
        return f"{who} {verb} replying here right now. Send anyway?"
    count = inbox.history_count(cid)
    for item in reversed(inbox.history(cid, max(count - 20, 0), count)):
        if now - item.at > COLLISION_WINDOW:
            break
        if item.kind == "reply" and item.author and item.author != me:
            ago = format_wait(max((now - item.at).total_seconds(), 0))
            return f"{item.author} replied here {ago} ago. Send yours anyway?"
    return None


def filter_posts(
    posts: list[PostSummary],
    assignees: dict[str, str | None],
    *,
    me: str | None,
    mode: str,
    now: datetime,
) -> list[PostSummary]:
    """The posts with only the conversations the filter keeps (posts left empty are dropped)."""
    if mode == "everyone":
        return posts
    kept = []
    for post in posts:
        if mode == "mine":
            conversations = [c for c in post.conversations if me and assignees.get(c.id) == me]
        else:
            conversations = [c for c in post.conversations if not assignees.get(c.id)]
        if not conversations:
            continue
        waits = [c.waiting_since for c in conversations if c.waiting_since is not None]
        kept.append(
            replace(
                post,
                conversations=conversations,
                unanswered=len(waits),
                unread=sum(c.unread for c in conversations),
                longest_wait_s=(now - min(waits)).total_seconds() if waits else None,
            )
        )
    return kept


def next_filter(mode: str) -> str:
    return FILTERS[(FILTERS.index(mode) + 1) % len(FILTERS)] if mode in FILTERS else FILTERS[0]


def assignment_text(data: dict[str, Any], author: str | None) -> str:
    """How an assignment entry reads in the history."""
    # Worded to start in Latin script, so a Persian name stays a run inside the sentence.
    by = data.get("by") or author or "someone"
    assignee = data.get("assignee")
    if not assignee:
        return f"released by {by}"
    if assignee == by:
        return f"taken by {by}"
    return f"given to {assignee} by {by}"
