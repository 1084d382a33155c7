"""`PostCatalogue`: a post's title and price as soon as a conversation on it appears.

Titles used to arrive only with a POST_UPDATE event, which an ordinary login never
subscribes to, so sellers saw bare tokens. The catalogue asks Divar's finder
(`GET /v1/open-platform/finder/post/{token}`, kenar-docs docs/post/get_post.md; the API key
alone) for every post a conversation names and no title is known for, and again when a
POST_UPDATE says the post changed. Answers go into the cache's `posts` table, sealed like
the rest of it (title and price); the console reads titles from there.

Fetches run in one background task, never on a key press: `want()` only queues. The queue is
bounded (MAX_QUEUED); when full, a token is not queued and is asked for again the next time a
conversation on it shows up. A failed fetch is not asked again for FAILED_PAUSE seconds, so a
post Divar does not know (404) or an unreachable Divar costs one request per post per pause.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Protocol

from kenar_api.finder import PostResponse
from kenar_core.errors import KenarError, ProtocolError
from kenar_core.lifecycle import stop_task
from kenar_tui.store import Cache, Timeline, micros

MAX_QUEUED = 256
FAILED_PAUSE = 300.0
MAX_FAILED_REMEMBERED = 1024

_log = logging.getLogger("kenar_tui.posts")


class Finder(Protocol):
    async def get_post(self, post_token: str) -> PostResponse: ...


class PostCatalogue:
    def __init__(
        self,
        cache: Cache,
        kenar: Finder,
        *,
        on_known: Callable[[str], None] | None = None,
        logger: logging.Logger | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.cache = cache
        self.timeline = Timeline(cache)
        self.kenar = kenar
        self.on_known = on_known
        self.log = logger or _log
        self._monotonic = monotonic
        self._now = now
        self._queue: asyncio.Queue[str] = asyncio.Queue(MAX_QUEUED)
        self._queued: set[str] = set()
        self._failed: dict[str, float] = {}
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None

    # --- what the console calls ------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="post-catalogue")

    async def aclose(self) -> None:
        if self._task is not None:
            await stop_task(self._task)
            self._task = None

    def want(self, post_token: str | None, *, refresh: bool = False) -> bool:
        """Queue a fetch when the post has no title yet (or `refresh`); True when queued."""
        if not post_token or post_token in self._queued:
            return False
        if not refresh:
            if self.timeline.post_title(post_token):
                return False
            failed_at = self._failed.get(post_token)
            if failed_at is not None and self._monotonic() - failed_at < FAILED_PAUSE:
                return False
        try:
            self._queue.put_nowait(post_token)
        except asyncio.QueueFull:
            return False  # asked again when the next conversation on it shows up
        self._queued.add(post_token)
        self._idle.clear()
        return True

    def want_all(self, post_tokens: Iterable[str | None]) -> int:
        return sum(self.want(token) for token in set(post_tokens))

    def saw(self, change: Any) -> None:
        """An applied timeline entry (InboxChange): a new post, or a post that changed."""
        token = getattr(change, "post_token", None)
        if getattr(change, "kind", None) == "post_update":
            self.want(token, refresh=True)  # the price or title may have changed
        else:
            self.want(token)

    def price(self, post_token: str) -> int | None:
        row = self.cache.db.execute(
            "SELECT price FROM posts WHERE token = ?", (post_token,)
        ).fetchone()
        text = self.cache.open_optional(row[0]) if row else None
        return int(text) if text and text.isdigit() else None

    async def settled(self) -> None:
        """Wait until every queued fetch is done (for tests and the demo's start)."""
        await self._idle.wait()

    # --- the background task ---------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            token = await self._queue.get()
            try:
                await self._fetch(token)
            finally:
                self._queued.discard(token)
                if self._queue.empty():
                    self._idle.set()

    async def _fetch(self, token: str) -> None:
        try:
            post = await self.kenar.get_post(token)
        except (KenarError, ProtocolError) as exc:
            self._remember_failure(token)
            self.log.info("post %s: no title from the finder (%s)", token, type(exc).__name__)
            return
        title = post.title
        if not title:
            self._remember_failure(token)
            return
        self._failed.pop(token, None)
        self.store(token, title, post.price)
        if self.on_known is not None:
            try:
                self.on_known(token)
            except Exception:
                self.log.exception("post catalogue callback failed")

    def store(self, token: str, title: str, price: int | None) -> None:
        """Keep a post's title and price (sealed)."""
        self.timeline.set_post_title(token, title, micros(self._now()))
        with self.cache.transaction() as db:
            db.execute(
                "UPDATE posts SET price = ? WHERE token = ?",
                (self.cache.seal_optional(str(price) if price else None), token),
            )

    def _remember_failure(self, token: str) -> None:
        self._failed[token] = self._monotonic()
        while len(self._failed) > MAX_FAILED_REMEMBERED:
            self._failed.pop(next(iter(self._failed)))
