"""What the controllers tell the console, as Textual messages.

Controllers (LiveFeed, TeamDesk, TokenWatch) never call into a screen: they post these
messages. Two addresses, by who needs to know:

- the app's own state (relay status, outbox status, keyring status) goes to the app with
  `app.post_message`; the app keeps it in reactives the status bar watches;
- what a screen draws (a conversation, presence, tokens) goes out on `app.screen_news`, a
  Textual `Signal` each interested screen subscribes to; the screen posts the message to
  itself and handles it in an `on_…` handler, in order with its other events.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.message import Message


class RelayStateChanged(Message, bubble=False):
    """The relay link's state in words ("relay: live"); `ok` when replies and notes flow."""

    def __init__(self, text: str, ok: bool) -> None:
        super().__init__()
        self.text = text
        self.ok = ok


class OutboxChanged(Message, bubble=False):
    """The outbox's counts in words ("outbox: 1 retrying"), or "" when nothing is pending."""

    def __init__(self, summary: str) -> None:
        super().__init__()
        self.summary = summary


class KeyringStateChanged(Message, bubble=False):
    """The keyring's trouble in a few words ("keyring locked: unlock it"), or "" when it answers."""

    def __init__(self, problem: str) -> None:
        super().__init__()
        self.problem = problem


class ConversationChanged(Message, bubble=False):
    """Entries or outbox states touched these conversations; an empty set: the list only.

    One message per stored batch (a burst of 1,000 entries is one message, not 1,000).
    """

    def __init__(self, cids: Iterable[str | None] = ()) -> None:
        super().__init__()
        self.cids = frozenset(cid for cid in cids if cid is not None)


class PresenceChanged(Message, bubble=False):
    """A teammate's presence changed (arrived, moved, expired, or the relay went away)."""


class TokenStateChanged(Message, bubble=False):
    """Tokens came or went: whether the open conversation can send may have changed."""


class NoteNotSaved(Message, bubble=False):
    """A team note the relay refused: put it back in the reply box if that box is empty."""

    def __init__(self, cid: str, text: str) -> None:
        super().__init__()
        self.cid = cid
        self.text = text
