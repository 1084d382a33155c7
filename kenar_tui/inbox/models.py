"""What the Inbox hands the UI: summaries of conversations and posts, search hits, changes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from kenar_tui.history import HistoryItem


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
    post_price: int | None = None  # tomans, from the finder; None until known

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
    price: int | None = None  # tomans, from the finder; None until known


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


def waiting_order(now: datetime) -> Callable[[ConversationSummary], tuple[int, float, float]]:
    """Sort key: conversations with a waiting buyer first (longest wait first), then recent."""

    def key(c: ConversationSummary) -> tuple[int, float, float]:
        if c.waiting_since is not None:
            return (0, c.waiting_since.timestamp(), 0.0)
        return (1, 0.0, -(c.last_at.timestamp() if c.last_at else 0.0))

    return key
