"""The SQLite store's writer thread: it takes queued writes itself and commits them in groups.

The thread owns the writer connection. Whatever appends have arrived when the previous
commit ends are the next group (up to `max_batch`), committed in one transaction: one WAL
fsync for all of them. The outcomes go back to the event loop with ONE
`call_soon_threadsafe` per group, where the store resolves each append's future, so an
append is answered only after its commit returned (durable before the 2xx).

Before, the event loop handed each group to an executor and waited for its completion
callback: the writer then idled ~6 ms per group behind the requests the loop was answering
(docs/performance.md, "Intake, issue 20"). Here the loop only puts into a thread-safe queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kenar_core.sealing import Sealer


@dataclass(slots=True)
class Append:
    received_at_us: int
    dedupe: str | None
    payload: str
    data: bytes
    future: asyncio.Future[Any]


@dataclass(slots=True)
class Job:
    """A non-append write (purge step, probe), run alone on the writer thread."""

    run: Callable[[sqlite3.Connection], Any]
    future: asyncio.Future[Any] = field(repr=False)


# What the thread hands back to the loop for one group of appends: their (seq, duplicate)
# in order, or the exception that failed a group of one.
Committed = Callable[[list[Append], list[tuple[int, bool]]], None]
Failed = Callable[[list[Append], Exception], None]
JobDone = Callable[[Job, Any, Exception | None], None]

_STOP = object()


class WriterThread:
    """One thread, one connection, one queue; started once, stopped once by `stop()`."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        sealer: Sealer,
        loop: asyncio.AbstractEventLoop,
        *,
        max_batch: int,
        committed: Committed,
        failed: Failed,
        job_done: JobDone,
    ) -> None:
        self._conn = conn
        self._sealer = sealer
        self._loop = loop
        self._max_batch = max_batch
        self._committed = committed
        self._failed = failed
        self._job_done = job_done
        # Unbounded here; the store bounds it (appends counted until resolved, StoreBusy past).
        self._queue: queue.SimpleQueue[Append | Job | object] = queue.SimpleQueue()
        self._stopped: asyncio.Future[None] = loop.create_future()
        self._thread = threading.Thread(target=self._run, name="relay-store-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def put(self, item: Append | Job) -> None:
        self._queue.put(item)

    async def stop(self) -> None:
        """Commit everything queued before this call, close the connection, end the thread."""
        self._queue.put(_STOP)
        await asyncio.shield(self._stopped)

    # --- on the writer thread ---------------------------------------------------------------

    def _run(self) -> None:
        try:
            stop = False
            while not stop:
                items = [self._queue.get()]
                while len(items) < self._max_batch:
                    try:
                        items.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                run: list[Append] = []
                for item in items:
                    if type(item) is Append:
                        run.append(item)
                        continue
                    self._commit(run)
                    run = []
                    if type(item) is Job:
                        self._run_job(item)
                    else:
                        stop = True
                self._commit(run)
        finally:
            try:
                self._conn.close()
            finally:
                self._to_loop(_set_stopped, self._stopped)

    def _to_loop(self, callback: Callable[..., None], *args: Any) -> None:
        # A closed loop raises: nobody waits for these futures any more (no answer was sent).
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(callback, *args)

    def _commit(self, batch: list[Append]) -> None:
        if not batch:
            return
        try:
            results = self._insert(batch)
        except Exception as exc:  # the writer must outlive any failure of one batch
            if len(batch) > 1:
                # One bad append must not fail the others: each again in its own transaction.
                for item in batch:
                    self._commit([item])
                return
            self._to_loop(self._failed, batch, exc)
            return
        self._to_loop(self._committed, batch, results)

    def _insert(self, batch: list[Append]) -> list[tuple[int, bool]]:
        """One transaction for the group: one look-up of its dedupe keys, one INSERT, COMMIT.

        A statement per entry released and retook the GIL around every step, and each time
        the writer waited for the event loop to let go of it; per group the writer now does
        four statements (docs/performance.md, "Intake, issue 20").
        """
        conn = self._conn
        sealed = [self._sealer.seal(item.data) for item in batch]  # before BEGIN: no lock held
        keys = list({item.dedupe for item in batch if item.dedupe is not None})
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Look first rather than INSERT OR IGNORE, which would burn a seq: seqs stay
            # dense, so a hole always means a purge (docs/protocol.md, `gap`).
            stored: dict[str, int] = {}
            if keys:
                marks = ",".join("?" * len(keys))
                found = conn.execute(
                    f"SELECT dedupe, seq FROM entries WHERE dedupe IN ({marks})", keys
                ).fetchall()
                stored = {key: int(seq) for key, seq in found}
            # Per append: (its row in this INSERT, True, False) if new; (the stored seq, False,
            # True) for a key already stored; (that row, True, True) for one earlier in the group.
            plan: list[tuple[int, bool, bool]] = []
            rows: list[Any] = []
            row_of: dict[str, int] = {}
            for item, blob in zip(batch, sealed, strict=True):
                key = item.dedupe
                if key is not None:
                    if key in stored:
                        plan.append((stored[key], False, True))
                        continue
                    if key in row_of:
                        plan.append((row_of[key], True, True))
                        continue
                    row_of[key] = len(rows) // 3
                plan.append((len(rows) // 3, True, False))
                rows += (item.received_at_us, key, blob)
            first = 0
            if rows:
                count = len(rows) // 3
                cur = conn.execute(
                    "INSERT INTO entries(received_at, dedupe, payload) VALUES "
                    + ",".join(("(?,?,?)",) * count),
                    rows,
                )
                # One statement, one writer: its rows took consecutive seqs (AUTOINCREMENT).
                assert cur.lastrowid is not None
                first = cur.lastrowid - count + 1
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return [(first + at if is_row else at, duplicate) for at, is_row, duplicate in plan]

    def _run_job(self, job: Job) -> None:
        try:
            result = job.run(self._conn)
        except Exception as exc:
            self._to_loop(self._job_done, job, None, exc)
            return
        self._to_loop(self._job_done, job, result, None)


def _set_stopped(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
