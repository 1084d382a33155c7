"""Fan-out of committed entries to the connected consoles, never slowing intake.

The store calls `publish` from its writer, in `seq` order, right after each commit. Each
console has a bounded queue: publishing only appends to it (no awaiting), and a console
whose queue would overflow is cut off instead (its session closes it with 1013, and the
console resumes from its last `seq`). Memory per console is bounded by `queue_limit`.
Each entry's frame is encoded once here (`EntryFrame`) and the same object is queued for
every console, so ten consoles cost one encoding, not ten.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from kenar_core.lifecycle import AsyncResource
from relay.metrics import Metrics
from relay.store import StoredEntry
from relay.wire import EntryFrame

CloseConsole = Callable[[int, str], Awaitable[None]]
CLOSE_POLICY = 1008


DirectWrite = Callable[[list[EntryFrame]], bool]


@dataclass(frozen=True, slots=True)
class LiveGap:
    """Entries after `since` and before `oldest` were gone before the store could publish
    them (a trimmed Redis stream); queued in order, each session sends a `gap` if it lacks them."""

    since: int
    oldest: int


Queued = EntryFrame | LiveGap


class Subscription:
    """One console's live queue; `wake` is set whenever there is something for it.

    `direct`, when its session sets it, writes frames to the console's socket right away
    and says whether it did: an idle console with room in its buffer gets an entry from
    `publish` itself, without a task switch (with 100 consoles the wake-ups were a large
    share of the fan-out). Anything it declines is queued as usual, and nothing goes direct
    while the queue holds entries, so order is kept.
    """

    def __init__(self, limit: int, wake: asyncio.Event) -> None:
        self._queue: deque[Queued] = deque()
        self._limit = limit
        self._wake = wake
        self.cut_off = False
        self.peak = 0
        self.direct: DirectWrite | None = None

    def offer(self, entries: list[EntryFrame]) -> bool:
        if self.cut_off:
            return False
        if not self._queue and self.direct is not None and self.direct(entries):
            return True
        if len(self._queue) + len(entries) > self._limit:
            self.cut_off = True
            self._queue.clear()  # the console resumes from the store; free the memory now
            self._wake.set()
            return False
        self._queue.extend(entries)
        self.peak = max(self.peak, len(self._queue))
        self._wake.set()
        return True

    def offer_gap(self, gap: LiveGap) -> None:
        """Queue `gap` (never direct): entries offered after it queue behind it, in order."""
        if self.cut_off:
            return  # the console resumes from the store, whose hello reports the gap
        if len(self._queue) + 1 > self._limit:
            self.cut_off = True
            self._queue.clear()
        else:
            self._queue.append(gap)
        self._wake.set()

    def take(self) -> list[Queued]:
        items = list(self._queue)
        self._queue.clear()
        return items


class Hub(AsyncResource):
    """The live subscriptions and the open console sessions (closed with 1001 on shutdown)."""

    def __init__(self, *, logger: logging.Logger, metrics: Metrics, queue_limit: int) -> None:
        self._log = logger
        self._metrics = metrics
        self._limit = queue_limit
        self._subscriptions: set[Subscription] = set()
        self._sessions: dict[object, tuple[CloseConsole, str]] = {}
        self._closed = False
        self.peak_queue = 0

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def console_count(self) -> int:
        return len(self._sessions)

    def publish(self, entries: list[StoredEntry]) -> None:
        if not self._subscriptions:
            return
        frames = [EntryFrame(stored) for stored in entries]
        for subscription in list(self._subscriptions):
            if not subscription.offer(frames):
                self._subscriptions.discard(subscription)
                self._metrics.count_cut_off()
                self._log.warning("console too slow, cut off queue_limit=%d", self._limit)
            self.peak_queue = max(self.peak_queue, subscription.peak)

    def publish_gap(self, since: int, oldest: int) -> None:
        """The store lost entries after `since` before `oldest` to live delivery: say so."""
        self._metrics.count_live_gap(oldest - since - 1)
        gap = LiveGap(since, oldest)
        for subscription in list(self._subscriptions):
            subscription.offer_gap(gap)
            if subscription.cut_off:
                self._subscriptions.discard(subscription)
                self._metrics.count_cut_off()

    def subscribe(self, wake: asyncio.Event) -> Subscription:
        subscription = Subscription(self._limit, wake)
        self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    def join(self, session: object, close: CloseConsole, *, token: str = "") -> None:
        self._sessions[session] = (close, token)

    def leave(self, session: object) -> None:
        self._sessions.pop(session, None)

    def count_for(self, token: str) -> int:
        """How many open sessions connected with the token named `token`."""
        return sum(1 for _, name in self._sessions.values() if name == token)

    def sessions(self) -> list[object]:
        return list(self._sessions)

    async def close_sessions(self, sessions: list[object], reason: str) -> int:
        """Close `sessions` (a revoked token's) with 1008 and `reason`; returns how many."""
        closers = [self._sessions[s][0] for s in sessions if s in self._sessions]
        if closers:
            self._log.info("closing consoles count=%d code=%d", len(closers), CLOSE_POLICY)
            await asyncio.gather(
                *(close(CLOSE_POLICY, reason) for close in closers), return_exceptions=True
            )
        return len(closers)

    async def close_all(self, code: int = 1001, reason: str = "the relay is shutting down") -> None:
        """Close every console session; each closes its websocket with `code`."""
        self._closed = True
        closers = [close for close, _ in self._sessions.values()]
        if closers:
            self._log.info("closing consoles count=%d code=%d", len(closers), code)
            await asyncio.gather(
                *(close(code, reason) for close in closers), return_exceptions=True
            )

    async def aclose(self) -> None:
        if not self._closed or self._sessions:
            await self.close_all()
        self._subscriptions.clear()
