"""Group sending of appends to Redis: whatever waits goes out as one pipeline.

While one batch is in flight, new appends queue up; the writer then sends all of them (up to
`max_batch`) as one pipeline of EVALSHA calls, without MULTI: each script is atomic on its
own, and Redis assigns the `seq` values, so their order inside a batch does not matter. Redis
reads the pipeline at once, runs the scripts back to back and (with `appendfsync always`)
fsyncs them together before replying, so concurrent webhooks share one fsync and one round
trip, like the SQLite store's group commit. Each append's future resolves with the script's
own reply, or with the error that stopped it.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as redis
from redis.exceptions import NoScriptError, ResponseError

from relay.errors import StoreBusy
from relay.redis_scripts import APPEND
from relay.store import MAX_PENDING_APPENDS

_STOP = object()


@dataclass(slots=True)
class PendingAppend:
    keys: list[str]
    args: list[Any]
    future: asyncio.Future[Any] = field(repr=False)


class AppendWriter:
    """One task sending queued appends in batches; `close` sends what is queued, then stops."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        max_batch: int = 256,
        max_pending: int = MAX_PENDING_APPENDS,
    ) -> None:
        self._client = client
        self._max_batch = max_batch
        self._max_pending = max_pending
        self._sha = hashlib.sha1(APPEND.encode()).hexdigest()
        self._queue: asyncio.Queue[PendingAppend | object] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="relay-store-redis-writer")

    def submit(self, keys: list[str], args: list[Any]) -> asyncio.Future[Any]:
        """Queue one append; StoreBusy when `max_pending` already wait (answered 503)."""
        if self._queue.qsize() >= self._max_pending:
            raise StoreBusy(f"the timeline store has {self._max_pending} writes waiting")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(PendingAppend(keys, args, future))
        return future

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            self._queue.put_nowait(_STOP)
            await task

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            if first is _STOP:
                return
            assert isinstance(first, PendingAppend)
            batch, stop = [first], False
            while len(batch) < self._max_batch and not self._queue.empty():
                item = self._queue.get_nowait()
                if not isinstance(item, PendingAppend):
                    stop = True
                    break
                batch.append(item)
            await self._send(batch)
            if stop:
                return

    async def _send(self, batch: list[PendingAppend]) -> None:
        try:
            replies = await self._replies(batch)
        except Exception as exc:  # the writer outlives any failure of one batch
            for item in batch:
                if not item.future.done():
                    item.future.set_exception(exc)
            return
        for item, reply in zip(batch, replies, strict=True):
            if item.future.done():
                continue
            if isinstance(reply, Exception):
                item.future.set_exception(reply)
            else:
                item.future.set_result(reply)

    async def _replies(self, batch: list[PendingAppend]) -> list[Any]:
        replies = await self._evalsha(batch)
        missing = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
        if missing:
            # A restarted Redis forgot the script; the appends it refused never ran.
            await self._client.script_load(APPEND)
            again = await self._evalsha([batch[i] for i in missing])
            for i, reply in zip(missing, again, strict=True):
                replies[i] = reply
        return replies

    async def _evalsha(self, batch: list[PendingAppend]) -> list[Any]:
        if len(batch) == 1:
            item = batch[0]
            try:
                return [
                    await self._client.evalsha(self._sha, len(item.keys), *item.keys, *item.args)
                ]
            except ResponseError as exc:
                return [exc]
        async with self._client.pipeline(transaction=False) as pipe:
            for item in batch:
                pipe.evalsha(self._sha, len(item.keys), *item.keys, *item.args)
            replies: list[Any] = await pipe.execute(raise_on_error=False)
        return replies
