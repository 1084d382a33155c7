"""The SQLite store's writer thread (relay/sqlite_writer.py): it takes the next group itself,
answers an append only after its commit, counts appends until answered against the bound,
and commits what was queued before it closes.

A sealer that holds the first commit open (a threading.Event, released by the test) makes
"a commit is in flight" a state the test controls, not a timing.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from pathlib import Path

from kenar_core.sealing import PlainSealer
from relay.errors import StoreBusy, StoreError
from relay.sqlite_store import SqliteStore
from relay.store import Appended

LOG = logging.getLogger("kenar_relay.test.store_writer")
WAIT = 10.0  # seconds: an upper bound for a thread to do its work, never a measured figure


class HeldSealer(PlainSealer):
    """Plain sealing whose first seal waits for `release`: the first commit stays in flight."""

    def __init__(self) -> None:
        self.sealing = threading.Event()
        self.release = threading.Event()
        self.seals = 0

    def seal(self, plaintext: bytes) -> bytes:
        self.seals += 1
        if self.seals == 1:
            self.sealing.set()
            assert self.release.wait(WAIT)
        return plaintext


def rows(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM entries").fetchone()[0])


def committed_rows_while_blocked(path: Path, want: int) -> int:
    """Rows another connection sees, waiting up to WAIT for `want` (the loop stays blocked)."""
    deadline = time.monotonic() + WAIT
    seen = rows(path)
    while seen < want and time.monotonic() < deadline:
        time.sleep(0.01)
        seen = rows(path)
    return seen


async def wait_for_thread(event: threading.Event) -> None:
    assert await asyncio.to_thread(event.wait, WAIT)


async def test_appends_queued_during_a_commit_are_the_next_group_without_the_loop(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t.sqlite3"
    sealer = HeldSealer()
    async with SqliteStore(path, logger=LOG, sealer=sealer) as store:
        first = asyncio.create_task(store.append({"kind": "unknown", "n": 0}, dedupe="m-0"))
        await wait_for_thread(sealer.sealing)
        rest = [
            asyncio.create_task(store.append({"kind": "unknown", "n": n}, dedupe=f"m-{n}"))
            for n in range(1, 4)
        ]
        await asyncio.sleep(0)  # the three appends are queued (each task ran to its await)
        assert not first.done() and not any(task.done() for task in rest)
        # Block the event loop (no await) while the writer finishes the first commit: it
        # takes the three queued appends and commits them on its own.
        sealer.release.set()
        assert committed_rows_while_blocked(path, 4) == 4
        assert not first.done() and not any(task.done() for task in rest)
        results = [await first, *await asyncio.gather(*rest)]
        assert [r.seq for r in results] == [1, 2, 3, 4]
        assert not any(r.duplicate for r in results)
        assert store.commits == 2 and store.appends == 4


async def test_an_append_is_answered_only_after_its_commit(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite3"
    sealer = HeldSealer()
    async with SqliteStore(path, logger=LOG, sealer=sealer) as store:
        append = asyncio.create_task(store.append({"kind": "unknown"}, dedupe="m-1"))
        await wait_for_thread(sealer.sealing)
        for _ in range(20):
            await asyncio.sleep(0)
        assert not append.done() and rows(path) == 0
        sealer.release.set()
        assert (await append).seq == 1
        assert rows(path) == 1


async def test_the_bound_counts_the_group_being_committed(tmp_path: Path) -> None:
    """max_pending bounds every append not yet answered, queued or in the commit in flight."""
    sealer = HeldSealer()
    async with SqliteStore(tmp_path / "t.sqlite3", logger=LOG, sealer=sealer, max_pending=2) as s:
        first = asyncio.create_task(s.append({"kind": "unknown", "n": 1}))
        await wait_for_thread(sealer.sealing)  # the writer took it off the queue
        second = asyncio.create_task(s.append({"kind": "unknown", "n": 2}))
        await asyncio.sleep(0)
        refused = asyncio.create_task(s.append({"kind": "unknown", "n": 3}))
        done, _ = await asyncio.wait([refused], timeout=WAIT)
        assert refused in done and isinstance(refused.exception(), StoreBusy)
        sealer.release.set()
        assert [(await first).seq, (await second).seq] == [1, 2]
        # Answered appends free their places at once.
        assert (await s.append({"kind": "unknown", "n": 4})).seq == 3


async def test_duplicates_queued_in_one_group_are_stored_once(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite3"
    sealer = HeldSealer()
    async with SqliteStore(path, logger=LOG, sealer=sealer) as store:
        first = asyncio.create_task(store.append({"kind": "unknown"}, dedupe="m-0"))
        await wait_for_thread(sealer.sealing)
        again = [
            asyncio.create_task(store.append({"kind": "unknown"}, dedupe=key))
            for key in ("m-1", "m-1", "m-0")
        ]
        await asyncio.sleep(0)
        sealer.release.set()
        results = [await first, *await asyncio.gather(*again)]
    assert [(r.seq, r.duplicate) for r in results] == [(1, False), (2, False), (2, True), (1, True)]
    assert rows(path) == 2


async def test_close_commits_what_was_queued_and_ends_the_thread(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite3"
    before = writer_threads()
    store = SqliteStore(path, logger=LOG)
    await store.__aenter__()
    assert len(writer_threads() - before) == 1
    appends = [asyncio.create_task(store.append({"kind": "unknown", "n": n})) for n in range(5)]
    await asyncio.sleep(0)
    await store.aclose()
    assert [(await a).seq for a in appends] == [1, 2, 3, 4, 5]
    assert rows(path) == 5
    assert not writer_threads() - before


def writer_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "relay-store-writer"}


class RefusingSealer(HeldSealer):
    """Holds the first commit open, and cannot seal an entry that says "refuse"."""

    def seal(self, plaintext: bytes) -> bytes:
        if b'"refuse"' in plaintext:
            raise ValueError("this entry cannot be sealed")
        return super().seal(plaintext)


async def test_one_failing_append_fails_alone_and_the_group_keeps_dense_seqs(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t.sqlite3"
    sealer = RefusingSealer()
    async with SqliteStore(path, logger=LOG, sealer=sealer) as store:
        first = asyncio.create_task(store.append({"kind": "unknown", "n": 0}, dedupe="m-0"))
        await wait_for_thread(sealer.sealing)
        group = [
            asyncio.create_task(store.append({"kind": kind}, dedupe=f"g-{n}"))
            for n, kind in enumerate(("unknown", "refuse", "unknown"))
        ]
        await asyncio.sleep(0)
        sealer.release.set()
        assert (await first).seq == 1
        results = await asyncio.gather(*group, return_exceptions=True)
        assert isinstance(results[1], StoreError)
        assert [r.seq for r in (results[0], results[2]) if isinstance(r, Appended)] == [2, 3]
        assert (await store.append({"kind": "unknown"}, dedupe="g-0")) == Appended(2, True)
    assert rows(path) == 3
