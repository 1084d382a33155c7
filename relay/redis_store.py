"""The Redis Streams backend of the timeline store: any number of relay replicas, one timeline.

Every replica appends with one Lua script, atomic in Redis: it checks the dedupe key, INCRs
the shared counter and XADDs the entry under the stream ID `<seq>-0`, so stream IDs *are* the
integer `seq` values consoles already use, and a console can resume on any replica. The 2xx
waits for the script's reply, which Redis sends only after the write reached its AOF (fsynced
first with `appendfsync always`; see docs/deploy.md, "Redis backend").

Appends waiting together are sent as one pipeline (relay/redis_writer.py), so they share a
round trip and Redis fsyncs them together. Listeners are fed from one place only: a reader
task per replica (relay/redis_reader.py) that `XREAD`s the stream from the last entry it
delivered, so entries appended by *other* replicas reach this replica's consoles too, and
each committed entry is delivered once, in `seq` order.

Keys, all under one hash tag so the scripts also run on a Redis Cluster:
    {prefix}:timeline    the stream; fields `p` (the sealed payload), `t` (received, µs)
    {prefix}:seq         the counter: the highest `seq` ever assigned (the head)
    {prefix}:dedupe:<h>  "<seq>:<nonce>" for a keyed hash h of a dedupe key, with an expiry
    {prefix}:probe       the health probe's small write
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import AsyncGenerator, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Self
from urllib.parse import urlsplit

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError

from kenar_api.messages import to_micros
from kenar_core.lifecycle import AsyncResource
from kenar_core.sealing import PlainSealer, Sealer
from relay.errors import StoreClosed, StoreError
from relay.redis_reader import READ_BLOCK_MS, LiveReader, reason_of, seq_of
from relay.redis_scripts import PURGE_STEP, REPAIR
from relay.redis_writer import AppendWriter
from relay.store import (
    MAX_PENDING_APPENDS,
    Appended,
    GapListener,
    Listener,
    StoredEntry,
    probe_until_healthy,
    unreadable_entry,
)

__all__ = ["RedisStore", "reason_of", "where_of"]

PURGE_CHUNK = 1000
MAX_CONNECTIONS = 32
NONCE_HOLD_MS = 60_000  # a retried append without a dedupe key stays one (retries take seconds)


def _now() -> datetime:
    return datetime.now(UTC)


def where_of(url: str) -> str:
    """HOST:PORT/DB of a Redis URL, for logs: never the password."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return parts.path
    return f"{parts.hostname}:{parts.port or 6379}{parts.path or '/0'}"


class RedisStore(AsyncResource):
    """`Store` on a Redis stream shared by every replica; closes idempotently."""

    def __init__(
        self,
        url: str,
        *,
        logger: logging.Logger,
        sealer: Sealer | None = None,
        clock: Callable[[], datetime] = _now,
        prefix: str = "kenar-relay",
        max_entries: int = 0,
        dedupe_hours: float = 48.0,
        socket_timeout: float = 5.0,
        max_pending: int = MAX_PENDING_APPENDS,
    ) -> None:
        self._url = url
        self._log = logger
        self._sealer: Sealer = sealer or PlainSealer()
        self._clock = clock
        self._max_entries = max_entries
        self._dedupe_ms = int(dedupe_hours * 3600 * 1000)
        self._socket_timeout = socket_timeout
        self._max_pending = max_pending
        self._recovery: asyncio.Task[None] | None = None
        self._recovery_wake = asyncio.Event()
        self._unreadable = 0
        tag = "{" + prefix + "}"
        self._counter_key = f"{tag}:seq"
        self._stream_key = f"{tag}:timeline"
        self._dedupe_prefix = f"{tag}:dedupe:"
        self._probe_key = f"{tag}:probe"
        self._listeners: list[Listener] = []
        self._gap_listeners: list[GapListener] = []
        self._client: redis.Redis | None = None
        self._reader_client: redis.Redis | None = None
        self._writer: AppendWriter | None = None
        self._purge_script: Any = None
        self._reader: LiveReader | None = None
        self._known_head = 0
        self._healthy = True
        self._closing = False
        self._closed = asyncio.Event()

    def __repr__(self) -> str:
        return f"RedisStore(prefix={self._stream_key.split(':')[0]!r})"

    # --- lifecycle --------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        retry = Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=3)
        common: dict[str, Any] = {
            "socket_connect_timeout": 2.0,
            "retry": retry,  # on connection errors and timeouts; the append is idempotent
            "health_check_interval": 30,
        }
        try:
            pool = redis.BlockingConnectionPool.from_url(
                self._url,
                max_connections=MAX_CONNECTIONS,
                timeout=self._socket_timeout,
                socket_timeout=self._socket_timeout,
                **common,
            )
            self._client = redis.Redis(connection_pool=pool)
            # The reader blocks in XREAD: its socket waits longer than the block itself.
            self._reader_client = redis.Redis.from_url(
                self._url, socket_timeout=READ_BLOCK_MS / 1000 + self._socket_timeout, **common
            )
        except ValueError as exc:
            await self._close_clients()
            raise StoreError(f"the Redis URL is not valid: {exc}") from None
        self._purge_script = self._client.register_script(PURGE_STEP)
        try:
            head = int(
                await self._client.register_script(REPAIR)(
                    keys=[self._counter_key, self._stream_key]
                )
            )
        except RedisError as exc:
            await self._close_clients()
            raise StoreError(
                f"cannot open the timeline store on Redis ({reason_of(exc)})"
            ) from None
        self._known_head = head
        self._writer = AppendWriter(self._client, max_pending=self._max_pending)
        self._writer.start()
        self._recovery = asyncio.create_task(
            probe_until_healthy(
                self.check, lambda: self._healthy, wake=self._recovery_wake, logger=self._log
            ),
            name="relay-store-recovery",
        )
        assert self._reader_client is not None
        self._reader = LiveReader(
            self._reader_client,
            self._stream_key,
            delivered=head,
            listeners=self._listeners,
            gap_listeners=self._gap_listeners,
            open_rows=self._entries,
            closing=lambda: self._closing,
            on_away=self._reader_away,
            logger=self._log,
        )
        self._reader.start()
        self._log.info(
            "store open backend=redis at=%s prefix=%s head=%d",
            where_of(self._url),
            self._stream_key.split(":")[0].strip("{}"),
            head,
        )
        return self

    async def aclose(self) -> None:
        if self._closing:
            await self._closed.wait()
            return
        self._closing = True
        try:
            recovery, self._recovery = self._recovery, None
            if recovery is not None:
                recovery.cancel()
                await asyncio.wait({recovery})
            # Appends already queued are sent first: their callers are owed an answer.
            writer, self._writer = self._writer, None
            if writer is not None:
                await writer.close()
            if self._reader is not None:
                await self._reader.stop()
            await self._close_clients()
        finally:
            self._closed.set()
        self._log.info("store closed backend=redis delivered=%d", self._delivered())

    def _delivered(self) -> int:
        return self._reader.delivered if self._reader is not None else self._known_head

    def _reader_away(self) -> None:
        self._healthy = False

    async def _close_clients(self) -> None:
        for attr in ("_reader_client", "_client"):
            client: redis.Redis | None = getattr(self, attr)
            setattr(self, attr, None)
            if client is not None:
                await client.aclose(close_connection_pool=True)

    def _live_client(self) -> redis.Redis:
        if self._closing or self._client is None:
            raise StoreClosed("the timeline store is closed")
        return self._client

    # --- writes -----------------------------------------------------------------------------

    @property
    def healthy(self) -> bool:
        return self._healthy

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def add_gap_listener(self, listener: GapListener) -> None:
        self._gap_listeners.append(listener)

    async def append(self, entry: dict[str, Any], *, dedupe: str | None = None) -> Appended:
        writer = self._writer
        if self._closing or writer is None:
            raise StoreClosed("the timeline store is closed")
        moment = self._clock()
        stamped = {**entry, "received_at": moment.isoformat().replace("+00:00", "Z")}
        payload = json.dumps(stamped, ensure_ascii=False, separators=(",", ":"))
        data = self._sealer.seal(payload.encode())  # an unpaired surrogate raises here
        # A nonce makes a retried script (the reply lost to a dropped connection) idempotent,
        # and tells our own earlier attempt apart from a genuine duplicate.
        nonce = secrets.token_hex(8)
        if dedupe is not None:
            key = self._dedupe_prefix + self._sealer.keyed_hash(dedupe)
            ttl = self._dedupe_ms
        else:
            key = self._dedupe_prefix + "once:" + nonce
            ttl = NONCE_HOLD_MS
        # StoreBusy (too many appends waiting) goes to the caller as it is: the store is fine.
        pending = writer.submit(
            [self._counter_key, self._stream_key, key],
            [data, to_micros(moment), self._max_entries, nonce, ttl],
        )
        try:
            seq, held_nonce = await pending
        except Exception as exc:  # RedisError, or anything else: never a 2xx, never a 500
            self._failed(exc)
            raise StoreError(f"the timeline store cannot write ({reason_of(exc)})") from None
        self._recovered()
        self._known_head = max(self._known_head, int(seq))
        duplicate = (held_nonce.decode() if isinstance(held_nonce, bytes) else held_nonce) != nonce
        return Appended(int(seq), duplicate)

    def _failed(self, exc: BaseException) -> None:
        if self._healthy:
            self._log.error("store write failed backend=redis error=%s", reason_of(exc))
        self._healthy = False

    def _recovered(self) -> None:
        if not self._healthy:
            self._log.info("store recovered backend=redis")
        self._healthy = True

    async def check(self) -> bool:
        try:
            client = self._live_client()
            await client.set(self._probe_key, to_micros(self._clock()), px=60_000)
        except StoreClosed:
            self._healthy = False
            return False
        except RedisError as exc:
            self._failed(exc)
            return False
        self._recovered()
        return True

    async def purge_older_than(self, cutoff: datetime) -> int:
        limit = to_micros(cutoff)
        total = 0
        while True:
            client = self._live_client()
            try:
                removed = int(
                    await self._purge_script(
                        keys=[self._stream_key], args=[limit, PURGE_CHUNK], client=client
                    )
                )
            except RedisError as exc:
                self._failed(exc)
                raise StoreError(f"the timeline store cannot purge ({reason_of(exc)})") from None
            total += removed
            if removed < PURGE_CHUNK:
                return total

    # --- reads ------------------------------------------------------------------------------

    async def head(self) -> int:
        """The shared counter; when Redis cannot answer, the highest `seq` this replica saw.

        Falling back (and marking the store unhealthy) keeps /healthz and /metrics answering
        503 and numbers instead of failing; a console's resume reads the stream itself, which
        then fails cleanly.
        """
        client = self._live_client()
        try:
            value = await client.get(self._counter_key)
        except RedisError as exc:
            self._failed(exc)
            return max(self._known_head, self._delivered())
        self._known_head = max(self._known_head, int(value or 0))
        return int(value or 0)

    async def oldest(self) -> int:
        client = self._live_client()
        try:
            rows = await client.xrange(self._stream_key, count=1)
        except RedisError as exc:
            raise StoreError(f"the timeline store cannot be read ({reason_of(exc)})") from None
        return seq_of(rows[0][0]) if rows else 0

    async def read(
        self, since: int, *, batch: int = 500
    ) -> AsyncGenerator[list[StoredEntry], None]:
        last = since
        while True:
            client = self._live_client()
            try:
                rows = await client.xrange(self._stream_key, min=f"{last + 1}-0", count=batch)
            except RedisError as exc:
                raise StoreError(f"the timeline store cannot be read ({reason_of(exc)})") from None
            if not rows:
                return
            entries = self._entries(rows)
            yield entries
            last = entries[-1].seq
            if len(rows) < batch:
                return

    @property
    def unreadable(self) -> int:
        return self._unreadable

    def _entries(self, rows: Sequence[Any]) -> list[StoredEntry]:
        return [self._entry(stream_id, fields) for stream_id, fields in rows]

    def _entry(self, stream_id: Any, fields: Any) -> StoredEntry:
        """One row opened; one that cannot be is a visible `unknown` at its seq, never a hole."""
        seq = seq_of(stream_id)
        try:
            received = int(fields.get(b"t") or 0)
        except ValueError:
            received = 0
        try:
            payload = self._sealer.open(fields[b"p"]).decode()
            if not payload.startswith("{"):
                raise ValueError("the opened payload is not a JSON object")
        except Exception as exc:  # a bad key, damaged bytes, a missing field: this entry only
            self._unreadable += 1
            self._log.error(
                "store entry unreadable backend=redis seq=%d error=%s", seq, reason_of(exc)
            )
            return unreadable_entry(seq, received)
        return StoredEntry(seq, payload, received)
