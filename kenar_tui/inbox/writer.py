"""`InboxWriter`: live entries stored on their own thread and SQLite connection.

Each commit of the console's cache is durable when it returns (synchronous=FULL: the relay
purges what the console acknowledged), so it waits for an fsync; on the UI loop that wait
and the applying around it held every frame and key behind it. The writer owns a twin
connection to the same file (`Cache.writer_twin`) and its own `Inbox` on it, and runs
`apply_many` batches one after another, in the order handed over; the UI loop gets each
batch's changes back through an asyncio future and then tells the screens. In WAL the
loop's reads never wait for the writer and see only committed data.

Bounded: at most `limit` batches are handed over and not yet answered; `room` says how many
more fit, and `submit` past that raises CacheWriterStopped (LiveFeed never does: it stops
reading the link instead, and the relay keeps the rest). A batch that fails stores nothing,
and every batch after it is refused until `reset` (the link stops; the next connection
resumes from the last stored seq).
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kenar_core.errors import CacheWriterStopped

if TYPE_CHECKING:
    from kenar_tui.inbox.inbox import Inbox
    from kenar_tui.inbox.models import InboxChange

HANDOFF_LIMIT = 2  # one batch being written, one waiting: the link reads the next meanwhile

Pairs = list[tuple[int, dict[str, Any]]]


@dataclass
class _Job:
    pairs: Pairs
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[list[InboxChange]]


@dataclass
class _ReadMark:
    cid: str
    loop: asyncio.AbstractEventLoop
    then: Callable[[], None]


_RESET = object()
_CLOSE = object()
# Read marks handed over and not yet done; past this many, `mark_read` marks on the caller's
# thread as before (it waits for the writer's transaction instead of queueing without bound).
MARKS_MAX = 64


class InboxWriter:
    """One thread, one connection: `await writer.submit(pairs)` applies them off the loop."""

    def __init__(self, inbox: Inbox, *, limit: int = HANDOFF_LIMIT) -> None:
        from kenar_tui.inbox.inbox import Inbox

        self._ui = inbox
        self.cache = inbox.cache.writer_twin()
        try:
            self.inbox = Inbox(self.cache, operator=inbox.operator, now=inbox.now)
            # The GIL: each SQLite call on the UI loop releases it, and would wait up to the
            # switch interval (5 ms) to get it back from this thread; between entries the
            # writer lets a waiting thread have it, at most every HAND_OFF_S.
            self.inbox.between_entries = hand_off()
            # What the writer's batches touch, handed to the loop's Inbox with each answer.
            self._touched = self.cache.watch_conversations()
            self._touched.take()
        except BaseException:
            self.cache.close()
            raise
        self.limit = limit
        self._waiting = 0  # handed over, not yet answered (loop side only)
        self._marks = 0  # read marks handed over, not yet done (loop side only)
        self._jobs: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._failed = False  # writer thread only
        self._closed = False
        self.thread = threading.Thread(target=self._run, name="kenar-cache-writer", daemon=True)
        self.thread.start()
        inbox.cache.on_close(self.close)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def room(self) -> int:
        """How many more batches `submit` takes now."""
        return 0 if self._closed else self.limit - self._waiting

    def submit(
        self, pairs: Iterable[tuple[int, dict[str, Any]]]
    ) -> asyncio.Future[list[InboxChange]]:
        """Hand a batch over; the future gives its changes once it is committed (durable)."""
        if self._closed:
            raise CacheWriterStopped("the console's cache is closed")
        if self._waiting >= self.limit:
            raise CacheWriterStopped(
                f"{self.limit} batches are waiting to be stored already; wait for one"
            )
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[InboxChange]] = loop.create_future()
        self._waiting += 1
        self._jobs.put(_Job(list(pairs), loop, future))
        return future

    def mark_read(self, cid: str, then: Callable[[], None]) -> None:
        """Mark `cid` read on this thread, after the batches handed over before it; `then`
        runs on the loop once it is done (the list shows it). Live delivery marks the open
        conversation read at every redraw: the loop does not wait for the writer's lock."""
        if self._closed or self._marks >= MARKS_MAX:
            self._ui.timeline.mark_read(cid)
            then()
            return
        self._marks += 1
        self._jobs.put(_ReadMark(cid, asyncio.get_running_loop(), then))

    def reset(self) -> None:
        """Take batches again after one failed (a new connection resumes from last_seq)."""
        if not self._closed:
            self._jobs.put(_RESET)

    def close(self) -> None:
        """Store what was handed over, stop the thread, close the twin connection."""
        if self._closed:
            return
        self._closed = True
        self._jobs.put(_CLOSE)
        self.thread.join()
        self.cache.close()

    # --- the writer thread -----------------------------------------------------------------

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is _CLOSE:
                return
            if job is _RESET:
                self._failed = False
                continue
            if isinstance(job, _ReadMark):
                self._mark(job)
                continue
            assert isinstance(job, _Job)
            changes: list[InboxChange] = []
            error: Exception | None = None
            try:
                if self._failed:
                    raise CacheWriterStopped("an earlier batch was not stored")
                changes = self.inbox.apply_many(job.pairs)
            except Exception as exc:
                self._failed = True
                error = exc
            touched = self._touched.take()
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits for it
                job.loop.call_soon_threadsafe(self._answer, job.future, changes, touched, error)

    def _mark(self, job: _ReadMark) -> None:
        error: Exception | None = None
        try:
            self.inbox.mark_read(job.cid)
        except Exception as exc:  # a read mark is not worth stopping the link for
            error = exc
        touched = self._touched.take()
        with contextlib.suppress(RuntimeError):
            job.loop.call_soon_threadsafe(self._marked, job, touched, error)

    # --- back on the loop ------------------------------------------------------------------

    def _marked(self, job: _ReadMark, touched: set[str] | None, error: Exception | None) -> None:
        self._marks -= 1
        self._forward(touched)
        if error is not None:
            self._ui.cache.log.warning("read mark not stored: %s", type(error).__name__)
        job.then()

    def _forward(self, touched: set[str] | None) -> None:
        """The loop's Inbox keeps summaries in memory: what the writer changed is re-read."""
        if touched is None:
            self._ui.cache.every_conversation_changed()
        else:
            self._ui.cache.conversations_changed(touched)

    def _answer(
        self,
        future: asyncio.Future[list[InboxChange]],
        changes: list[InboxChange],
        touched: set[str] | None,
        error: Exception | None,
    ) -> None:
        self._waiting -= 1
        self._forward(touched)
        if any(c.kind == "assignment" and not c.ignored for c in changes):
            self._ui.assignees_changed()
        if future.done():  # its waiter was cancelled (the app closing)
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(changes)


# How long the writer keeps the GIL before it offers it between entries. An offer is a
# sleep(0): ~7 us of CPU, but ~58 us before the writer runs again (the kernel's timer slack)
# even when no thread wanted the GIL; after every entry that was 15% of a backlog's time.
# Every 1 ms costs ~5%, and a key's SQLite read waits at most that for the GIL, not the
# 5 ms switch interval.
HAND_OFF_S = 0.001


def hand_off(every_s: float = HAND_OFF_S) -> Callable[[], None]:
    """What the writer's Inbox calls between entries: releases the GIL (a thread waiting for
    it runs now) once `every_s` has passed since the last release."""
    last = time.perf_counter()

    def between_entries() -> None:
        nonlocal last
        now = time.perf_counter()
        if now - last >= every_s:
            time.sleep(0)
            last = time.perf_counter()

    return between_entries
