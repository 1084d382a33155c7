"""Which conversations' summary rows writes touched: what the Inbox re-reads (store/cache.py)."""

from __future__ import annotations


class ConversationChanges:
    """The conversations whose summary rows changed since the last `take` (None: maybe all).

    An over-approximation is harmless (a row read again); a miss would show a stale row, so
    every write to `conversations` or `posts` goes through `Cache.conversation_changed`.
    """

    def __init__(self) -> None:
        self._changed: set[str] | None = None

    def add(self, cid: str) -> None:
        if self._changed is not None:
            self._changed.add(cid)

    def update(self, cids: set[str]) -> None:
        if self._changed is not None:
            self._changed.update(cids)

    def add_all(self) -> None:
        self._changed = None

    def take(self) -> set[str] | None:
        changed, self._changed = self._changed, set()
        return changed
