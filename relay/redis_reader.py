"""The Redis store's live reader: the one path by which committed entries reach listeners.

It is its own part because delivery is a different job from writing: one task per replica
`XREAD`s the shared stream from the last entry it delivered, so entries appended by *other*
replicas reach this replica's consoles too, each committed entry once and in `seq` order, and
a hole in the stream is told apart (seqs burnt by a failed write, or entries trimmed before
they were read) so that a loss reaches consoles as a `gap`, never as silence. `RedisStore`
owns the connection, the listeners and the opening of rows; this module only reads and hands on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

import redis.asyncio as redis
from redis.exceptions import RedisError

from relay.store import GapListener, Listener, StoredEntry

READ_BLOCK_MS = 2000
READ_COUNT = 500


def seq_of(stream_id: Any) -> int:
    """The `seq` of a stream ID `<seq>-0` (bytes, as the client hands them back)."""
    text = stream_id.decode() if isinstance(stream_id, bytes) else str(stream_id)
    return int(text.split("-", 1)[0])


def reason_of(exc: BaseException) -> str:
    """A short reason for logs and errors; Redis error texts carry no password or payload."""
    text = str(exc).strip().lower()[:160]
    return f"{type(exc).__name__.lower()}: {text}" if text else type(exc).__name__.lower()


class LiveReader:
    """One task reading the stream after `delivered` and feeding the store's listeners."""

    def __init__(
        self,
        client: redis.Redis,
        stream_key: str,
        *,
        delivered: int,
        listeners: list[Listener],
        gap_listeners: list[GapListener],
        open_rows: Callable[[Sequence[Any]], list[StoredEntry]],
        closing: Callable[[], bool],
        on_away: Callable[[], None],
        logger: logging.Logger,
    ) -> None:
        self._client = client
        self._stream_key = stream_key
        # The store's own lists: a listener added later is fed too.
        self._listeners = listeners
        self._gap_listeners = gap_listeners
        self._open_rows = open_rows
        self._closing = closing
        self._on_away = on_away
        self._log = logger
        self._task: asyncio.Task[None] | None = None
        self.delivered = delivered

    def start(self) -> None:
        self._task = asyncio.create_task(self._read_loop(), name="relay-store-reader")

    async def stop(self) -> None:
        reader, self._task = self._task, None
        if reader is None:
            return
        reader.cancel()
        done, _ = await asyncio.wait({reader}, timeout=0.2)
        if not done:
            # redis-py can absorb a cancel that lands while its read times out and retry the
            # XREAD; dropping the connection ends that read, and the loop sees `closing`.
            await self._client.connection_pool.disconnect()
            reader.cancel()
            await asyncio.wait({reader}, timeout=READ_BLOCK_MS / 1000 + 1)
        if reader.done() and not reader.cancelled() and reader.exception() is not None:
            self._log.error(
                "store reader failed error=%s", reason_of(reader.exception() or Exception())
            )

    async def _read_loop(self) -> None:
        client = self._client
        delay = 0.1
        while not self._closing():
            try:
                answer = await client.xread(
                    {self._stream_key: f"{self.delivered}-0"},
                    count=READ_COUNT,
                    block=READ_BLOCK_MS,
                )
            except RedisError as exc:
                if self._closing():
                    return
                # Redis away: consoles here wait; they get everything once it is back. Writes
                # would fail too: health says so until a write or a check succeeds.
                self._log.warning("store reader waiting backend=redis error=%s", reason_of(exc))
                self._on_away()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            delay = 0.1
            # RESP2 answers [[stream, rows]]; RESP3 (protocol=3 in the URL) {stream: rows}.
            found: Any = answer or []
            for rows in found.values() if isinstance(found, dict) else (r for _, r in found):
                fresh = [row for row in rows if seq_of(row[0]) > self.delivered]
                if fresh:
                    await self._report_trimmed(seq_of(fresh[0][0]))
                    self._deliver(fresh)

    async def _report_trimmed(self, first: int) -> None:
        """Entries between the last delivered and `first` that are gone: a `gap`, never silence.

        A hole has two causes. An append whose XADD failed after its INCR (Redis out of
        memory) burnt a seq but stored nothing, and its webhook was answered 503: nothing is
        lost. Or the stream was trimmed (MAXLEN, retention) before this replica read them:
        live consoles here would miss them. Trimming only ever removes the stream's oldest
        entries, so the hole is a loss exactly when the stream no longer holds the seq right
        after the last delivered one, i.e. its oldest entry is past it.
        """
        since = self.delivered
        if first <= since + 1:
            return
        try:
            rows = await self._client.xrange(self._stream_key, count=1)
        except RedisError as exc:
            # Cannot tell the causes apart now: report the hole, which is the safe answer.
            self._log.warning("store reader cannot read the oldest error=%s", reason_of(exc))
            rows = [(f"{first}-0", None)]
        oldest = seq_of(rows[0][0]) if rows else first
        if oldest <= since + 1:
            self._log.info("store reader seqs unused from=%d to=%d", since + 1, first - 1)
            return
        self._log.warning(
            "store reader lost trimmed entries from=%d to=%d: live consoles get a gap",
            since + 1,
            first - 1,
        )
        for listener in self._gap_listeners:
            try:
                listener(since, first)
            except Exception:
                self._log.exception("store gap listener failed")

    def _deliver(self, fresh: Sequence[Any]) -> None:
        entries = self._open_rows(fresh)  # per entry: one unreadable payload hides no other
        self.delivered = entries[-1].seq
        for listener in self._listeners:
            try:
                listener(entries)
            except Exception:
                self._log.exception("store listener failed")
