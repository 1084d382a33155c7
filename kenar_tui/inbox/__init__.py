"""`Inbox`: the console's model of the shared timeline, backed by the Cache.

`apply(seq, entry)` takes entries from the relay in seq order, exactly once; `apply_many`
does the same for a backlog or a live burst in one transaction. Ordering rules:
posts with unanswered buyers come first (longest wait first), then the most recent; the
same inside a post. A conversation is answered when the seller side writes (our reply, a
teammate's, or the seller's own app), not when it is looked at. Divar echoes every message
we send back as a SELLER-side NEW_MESSAGE; an echo (same conversation, same text, within
ten minutes of a reply) is merged into that reply, whichever of the two arrives first.
"""

from kenar_tui.history import HistoryItem
from kenar_tui.inbox.inbox import Inbox, snippet
from kenar_tui.inbox.models import ConversationSummary, InboxChange, PostSummary, SearchHit

__all__ = [
    "ConversationSummary",
    "HistoryItem",
    "Inbox",
    "InboxChange",
    "PostSummary",
    "SearchHit",
    "snippet",
]
