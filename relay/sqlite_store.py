"""The SQLite backend of the timeline store: WAL, one writer, group commit.

Every write goes through one database connection on one writer thread
(relay/sqlite_writer.py). The writer takes whatever appends are waiting (up to `max_batch`)
and commits them in one transaction, so concurrent webhooks share one fsync; each append's
future resolves only after that commit returned. Readers use their own connections (WAL lets
them run beside the writer) and stream in batches, so a 100k-entry backlog is never loaded
whole.

Durability: `synchronous=FULL` in WAL mode fsyncs the log at every commit, so an entry whose
append returned survives a kill -9 *and* a power cut. `NORMAL` would survive kill -9 only (the
WAL is fsynced at checkpoints), so a 2xx could be lost on power loss; group commit makes FULL
cheap enough that we keep the stronger promise.

At rest, a row keeps in the clear only its `seq`, its arrival time and the sealer's keyed hash
of its dedupe key; the entry itself (every personal field: text, names, phones, links, user
ids, conversation and post) is the sealed `payload` (docs/privacy.md).

The tables, the connections' settings and the statements run on the writer's connection are in
relay/sqlite_schema.py.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import AsyncGenerator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from kenar_api.messages import to_micros
from kenar_core.errors import SealingError
from kenar_core.files import private_dir
from kenar_core.lifecycle import AsyncResource, stop_task
from kenar_core.sealing import PlainSealer, Sealer
from relay.errors import StoreBusy, StoreClosed, StoreError
from relay.sqlite_schema import (
    PURGE_CHUNK,
    connect_reader,
    open_writer,
    probe,
    purge_seq_step,
    purge_step,
    read_head,
)
from relay.sqlite_writer import Append, Job, WriterThread
from relay.store import (
    MAX_PENDING_APPENDS,
    Appended,
    GapListener,
    Listener,
    StoredEntry,
    encode_payload,
    probe_until_healthy,
    unreadable_entry,
)


def _now() -> datetime:
    return datetime.now(UTC)


class SqliteStore(AsyncResource):
    """`Store` on one SQLite file; an async context manager that closes idempotently."""

    def __init__(
        self,
        path: Path,
        *,
        logger: logging.Logger,
        sealer: Sealer | None = None,
        clock: Callable[[], datetime] = _now,
        max_batch: int = 256,
        max_db_mb: int = 0,
        probe_bytes: int = 512 * 1024,
        max_pending: int = MAX_PENDING_APPENDS,
    ) -> None:
        self._path = path
        self._log = logger
        self._sealer: Sealer = sealer or PlainSealer()
        self._clock = clock
        self._max_batch = max_batch
        self._max_db_mb = max_db_mb
        self._probe_bytes = probe_bytes
        self._max_pending = max_pending
        # Appends accepted and not yet answered (queued or being committed): the bound.
        self._pending = 0
        self._listeners: list[Listener] = []
        self._writer: WriterThread | None = None
        self._meta: sqlite3.Connection | None = None
        self._meta_lock = threading.Lock()
        self._recovery: asyncio.Task[None] | None = None
        self._recovery_wake = asyncio.Event()
        self._unreadable = 0
        self._head = 0
        self._healthy = True
        self._closing = False
        # How many transactions carried how many appends: group commit at work, for tests/bench.
        self.commits = 0
        self.appends = 0

    # --- lifecycle --------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        private_dir(self._path.parent, own=False)
        conn: sqlite3.Connection | None = None
        try:
            conn = await asyncio.to_thread(open_writer, self._path, max_db_mb=self._max_db_mb)
            self._head = await asyncio.to_thread(read_head, conn)
            self._meta = await asyncio.to_thread(connect_reader, self._path)
        except sqlite3.Error as exc:
            if conn is not None:
                conn.close()
            raise StoreError(f"cannot open the timeline store at {self._path}: {exc}") from None
        self._writer = WriterThread(
            conn,
            self._sealer,
            asyncio.get_running_loop(),
            max_batch=self._max_batch,
            committed=self._committed,
            failed=self._batch_failed,
            job_done=self._job_done,
        )
        self._writer.start()
        self._recovery = asyncio.create_task(
            probe_until_healthy(
                self.check, lambda: self._healthy, wake=self._recovery_wake, logger=self._log
            ),
            name="relay-store-recovery",
        )
        self._log.info("store open path=%s head=%d", self._path, self._head)
        return self

    async def aclose(self) -> None:
        if self._closing:
            if self._writer is not None:
                await self._writer.stop()
            return
        self._closing = True
        recovery, self._recovery = self._recovery, None
        await stop_task(recovery)
        if self._writer is not None:
            # Commits what was queued before, closes the connection; the thread ends.
            await self._writer.stop()
        meta, self._meta = self._meta, None
        if meta is not None:
            meta.close()
        self._log.info("store closed head=%d", self._head)

    # --- writes -----------------------------------------------------------------------------

    @property
    def healthy(self) -> bool:
        return self._healthy

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def add_gap_listener(self, listener: GapListener) -> None:
        """Never called here: one writer publishes every commit, so live delivery has no
        holes (a purge shows at the next `hello` as its `gap`)."""

    async def append(self, entry: dict[str, Any], *, dedupe: str | None = None) -> Appended:
        writer = self._writer
        if self._closing or writer is None:
            raise StoreClosed("the timeline store is closed")
        if self._pending >= self._max_pending:
            raise StoreBusy(f"the timeline store has {self._max_pending} writes waiting")
        moment = self._clock()
        stamped = {**entry, "received_at": moment.isoformat().replace("+00:00", "Z")}
        payload, data = encode_payload(stamped)  # raises here on an unpaired surrogate
        key = self._sealer.keyed_hash(dedupe) if dedupe is not None else None
        future: asyncio.Future[Appended] = asyncio.get_running_loop().create_future()
        writer.put(Append(to_micros(moment), key, payload, data, future))
        self._pending += 1
        return await future

    async def _job(self, run: Callable[[sqlite3.Connection], Any]) -> Any:
        writer = self._writer
        if self._closing or writer is None:
            raise StoreClosed("the timeline store is closed")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        writer.put(Job(run, future))
        return await future

    # --- the writer thread's outcomes, on the event loop, in commit order -------------------

    def _committed(self, batch: list[Append], results: list[tuple[int, bool]]) -> None:
        self._pending -= len(batch)
        if not self._healthy:
            self._log.info("store recovered")
        self._healthy = True
        self.commits += 1
        self.appends += len(batch)
        fresh: list[StoredEntry] = []
        for item, (seq, duplicate) in zip(batch, results, strict=True):
            if not duplicate:
                fresh.append(StoredEntry(seq, item.payload, item.received_at_us))
                self._head = max(self._head, seq)
        if fresh:
            for listener in self._listeners:
                try:
                    listener(fresh)
                except Exception:
                    self._log.exception("store listener failed")
        for item, (seq, duplicate) in zip(batch, results, strict=True):
            if not item.future.done():
                item.future.set_result(Appended(seq, duplicate))

    def _batch_failed(self, batch: list[Append], exc: Exception) -> None:
        self._pending -= len(batch)
        self._failed(exc)
        for item in batch:
            if not item.future.done():
                item.future.set_exception(StoreError(f"the timeline store cannot write ({exc})"))

    def _job_done(self, job: Job, result: Any, exc: Exception | None) -> None:
        if job.future.done():
            return
        if exc is not None:
            self._failed(exc)
            job.future.set_exception(StoreError(f"the timeline store cannot write ({exc})"))
        else:
            job.future.set_result(result)

    def _failed(self, exc: Exception) -> None:
        if self._healthy:
            self._log.error("store write failed error=%s", str(exc).lower())
        self._healthy = False

    async def check(self) -> bool:
        try:
            await self._job(lambda conn: probe(conn, self._probe_bytes))
        except StoreError:
            self._healthy = False
            return False
        if not self._healthy:
            self._log.info("store recovered")
        self._healthy = True
        return True

    @property
    def unreadable(self) -> int:
        return self._unreadable

    async def purge_older_than(self, cutoff: datetime) -> int:
        limit = to_micros(cutoff)
        total = 0
        while True:
            # Small steps through the writer queue: appends waiting meanwhile go in between.
            removed: int = await self._job(lambda conn: purge_step(conn, limit))
            total += removed
            if removed < PURGE_CHUNK:
                self._recovery_wake.set()  # room was made: probe now, not at the next tick
                return total

    async def purge_through(self, seq: int) -> int:
        """Delete entries with `seq <= seq` (acknowledged by every console), in small steps."""
        total = 0
        while True:
            removed: int = await self._job(lambda conn: purge_seq_step(conn, seq))
            total += removed
            if removed < PURGE_CHUNK:
                return total

    async def check_sealing(self) -> None:
        """Open the oldest and the newest entry: SealingError now, not garbage at a console.

        A key file that was lost (and made anew), the wrong environment key, or encryption
        switched off over an encrypted store all show here, with a sentence naming the key.
        """
        rows = await asyncio.to_thread(self._edge_rows)
        for blob in rows:
            self._open(blob)

    def _edge_rows(self) -> list[bytes]:
        with self._meta_lock:
            if self._meta is None:
                raise StoreClosed("the timeline store is closed")
            rows = self._meta.execute(
                "SELECT payload FROM entries WHERE seq IN "
                "((SELECT min(seq) FROM entries), (SELECT max(seq) FROM entries))"
            ).fetchall()
        return [bytes(row[0]) for row in rows]

    def _open(self, blob: bytes) -> str:
        if blob[:1] == b"{":
            # Stored before encryption was switched on (a sealed blob starts with its format
            # byte, 0x01): readable as it is, until it ages out.
            return bytes(blob).decode()
        opened = self._sealer.open(blob)
        if not opened.startswith(b"{"):
            raise SealingError(
                "the stored entries are encrypted but the relay runs with encryption off; "
                "start it without --no-encryption (KENAR_RELAY_ENCRYPTION=on)"
            )
        return opened.decode()

    # --- reads ------------------------------------------------------------------------------

    async def head(self) -> int:
        return self._head

    async def oldest(self) -> int:
        value: int = await asyncio.to_thread(self._meta_query, "SELECT min(seq) FROM entries")
        return value

    def _meta_query(self, sql: str) -> int:
        with self._meta_lock:
            if self._meta is None:
                raise StoreClosed("the timeline store is closed")
            row = self._meta.execute(sql).fetchone()
        return int(row[0] or 0)

    async def read(
        self, since: int, *, batch: int = 500
    ) -> AsyncGenerator[list[StoredEntry], None]:
        if self._closing:
            raise StoreClosed("the timeline store is closed")
        try:
            conn = await asyncio.to_thread(connect_reader, self._path)
        except sqlite3.Error as exc:
            raise StoreError(f"the timeline store cannot be read ({exc})") from None
        pending: Future[list[StoredEntry]] | None = None
        try:
            # One batch read ahead: the next one is read and opened (SQLite, AES-GCM) on a
            # reader thread while the caller writes this one out. Memory: two batches.
            pending = _READERS.submit(self._read_batch, conn, since, batch)
            while pending is not None:
                try:
                    rows = await asyncio.wrap_future(pending)
                except sqlite3.Error as exc:
                    pending = None
                    raise StoreError(f"the timeline store cannot be read ({exc})") from None
                pending = None
                if not rows:
                    return
                if len(rows) == batch:
                    pending = _READERS.submit(self._read_batch, conn, rows[-1].seq, batch)
                yield rows
        finally:
            # A reader cancelled mid-batch leaves its thread still inside SQLite: closing the
            # connection under it would be a use-after-close, so close once that read is done.
            # (A running read cannot be cancelled.)
            if pending is not None and not pending.done():
                pending.add_done_callback(lambda _: conn.close())
            else:
                conn.close()

    def _read_batch(self, conn: sqlite3.Connection, since: int, batch: int) -> list[StoredEntry]:
        rows = conn.execute(
            "SELECT seq, payload, received_at FROM entries WHERE seq > ? ORDER BY seq LIMIT ?",
            (since, batch),
        ).fetchall()
        return [self._open_row(seq, blob, at) for seq, blob, at in rows]

    def _open_row(self, seq: int, blob: bytes, at: int) -> StoredEntry:
        try:
            return StoredEntry(seq, self._open(blob), at)
        except (SealingError, UnicodeDecodeError) as exc:
            # One payload that cannot be opened reaches consoles as a visible `unknown` at its
            # seq; the rest of the batch is delivered. The sentence names key ids only.
            self._unreadable += 1
            self._log.error("store entry unreadable seq=%d error=%s", seq, exc)
            return unreadable_entry(seq, at)


# Backlog reads for every console share a few threads; the writer has its own.
_READERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="relay-store-reader")
