"""The SQLite store: group commit, dense seqs, dedupe, streaming reads, retention, a full disk."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kenar_core.lifecycle import stop_task
from relay.errors import StoreClosed, StoreError
from relay.sqlite_store import SqliteStore
from relay.store import StoredEntry, probe_until_healthy

LOG = logging.getLogger("kenar_relay.test.store")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class XorSealer:
    """Stands in for encryption: stored bytes differ from the plaintext; hashes are keyed."""

    def seal(self, plaintext: bytes) -> bytes:
        return bytes(b ^ 0x5A for b in plaintext)

    def open(self, blob: bytes) -> bytes:
        return bytes(b ^ 0x5A for b in blob)

    def keyed_hash(self, value: str) -> str:
        return "k" + str(abs(hash(("salt", value))))


def _entry(text: str) -> dict[str, object]:
    return {"kind": "message", "data": {"text": text}}


async def test_concurrent_appends_share_commits_and_get_dense_ordered_seqs(tmp_path: Path) -> None:
    """64 concurrent appends commit in fewer transactions; listeners see seqs 1..64 in order."""
    seen: list[int] = []
    async with SqliteStore(tmp_path / "t.db", logger=LOG) as store:
        store.add_listener(lambda batch: seen.extend(e.seq for e in batch))
        results = await asyncio.gather(*(store.append(_entry(f"پیام {i}")) for i in range(64)))
        assert sorted(r.seq for r in results) == list(range(1, 65))
        assert store.commits < 64 and store.appends == 64
        assert await store.head() == 64 and await store.oldest() == 1
    assert seen == list(range(1, 65))


async def test_duplicates_in_one_batch_and_across_restarts_are_stored_once(tmp_path: Path) -> None:
    """The same dedupe key yields the first seq, in the same commit or after a reopen."""
    path = tmp_path / "t.db"
    async with SqliteStore(path, logger=LOG) as store:
        first, second = await asyncio.gather(
            store.append(_entry("یک"), dedupe="message:m1"),
            store.append(_entry("یک"), dedupe="message:m1"),
        )
        assert (first.seq, first.duplicate, second.seq, second.duplicate) == (1, False, 1, True)
    async with SqliteStore(path, logger=LOG) as store:
        again = await store.append(_entry("یک"), dedupe="message:m1")
        fresh = await store.append(_entry("دو"), dedupe="message:m2")
        assert (again.seq, again.duplicate, fresh.seq) == (1, True, 2)


async def test_payloads_pass_through_the_sealer(tmp_path: Path) -> None:
    """What reaches the file is the sealer's output and the keyed hash, never the plain text."""
    path = tmp_path / "t.db"
    async with SqliteStore(path, logger=LOG, sealer=XorSealer()) as store:
        await store.append(_entry("شماره ۰۹۱۲۳۴۵۶۷۸۹"), dedupe="message:secret-id")
        batches = [batch async for batch in store.read(0)]
    assert batches[0][0].entry["data"]["text"] == "شماره ۰۹۱۲۳۴۵۶۷۸۹"
    files = sorted(tmp_path.glob("t.db*"))  # noqa: ASYNC240 - a test reading the raw file
    raw = b"".join(p.read_bytes() for p in files)
    assert "۰۹۱۲۳۴۵۶۷۸۹".encode() not in raw and b"secret-id" not in raw


async def test_a_large_backlog_is_streamed_in_batches_not_loaded(tmp_path: Path) -> None:
    """Reading 100,000 entries yields batches of at most 500; memory stays far below the total."""
    path = tmp_path / "t.db"
    async with SqliteStore(path, logger=LOG) as store:
        await store.append(_entry("نخست"))
    payload = json.dumps({"kind": "message", "data": {"text": "س" * 200}}, ensure_ascii=False)
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO entries(received_at, dedupe, payload) VALUES (0, NULL, ?)",
            ((payload.encode(),) for _ in range(100_000)),
        )
    total_bytes = 100_000 * len(payload.encode())
    async with SqliteStore(path, logger=LOG) as store:
        tracemalloc.start()
        try:
            count, largest, last = 0, 0, 0
            async for batch in store.read(0, batch=500):
                largest = max(largest, len(batch))
                count += len(batch)
                assert batch[0].seq > last
                last = batch[-1].seq
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert count == 100_001 and largest == 500
    assert peak < total_bytes / 10


async def test_retention_purges_old_entries_without_touching_the_head(tmp_path: Path) -> None:
    """Entries older than the cutoff go; the newest seq stays, so consoles keep their cursors."""
    clock = Clock()
    async with SqliteStore(tmp_path / "t.db", logger=LOG, clock=clock) as store:
        for i in range(5):
            await store.append(_entry(f"کهنه {i}"))
        clock.now += timedelta(hours=73)
        await store.append(_entry("تازه"))
        removed = await store.purge_older_than(clock.now - timedelta(hours=72))
        assert removed == 5
        assert await store.oldest() == 6 and await store.head() == 6
        kept: list[StoredEntry] = [e async for batch in store.read(0) for e in batch]
    assert [e.seq for e in kept] == [6]


async def test_a_full_database_fails_writes_until_space_is_freed(tmp_path: Path) -> None:
    """At the size cap appends raise StoreError, `healthy` drops; after a purge a probe recovers."""
    clock = Clock()
    async with SqliteStore(tmp_path / "t.db", logger=LOG, clock=clock, max_db_mb=1) as store:
        bulky = "ج" * 20_000
        with pytest.raises(StoreError):
            for i in range(200):
                await store.append(_entry(f"{i} {bulky}"))
        assert not store.healthy
        assert not await store.check()
        clock.now += timedelta(hours=80)
        await store.purge_older_than(clock.now - timedelta(hours=72))
        assert await store.check()
        assert store.healthy
        appended = await store.append(_entry("دوباره جا هست"))
        assert appended.seq > 1


async def test_appends_after_close_are_refused(tmp_path: Path) -> None:
    """A closed store refuses writes with StoreClosed, and closing twice is harmless."""
    store = SqliteStore(tmp_path / "t.db", logger=LOG)
    async with store:
        await store.append(_entry("پیش از بستن"))
    await store.aclose()
    with pytest.raises(StoreClosed):
        await store.append(_entry("پس از بستن"))


async def test_a_purge_then_close_returns_with_the_recovery_probe_woken(tmp_path: Path) -> None:
    """`kenar-relay purge` hung: the purge wakes the recovery probe right before aclose().

    On Python 3.11 `wait_for` swallowed a cancellation that met a set wake-up, so the probe
    looped on and aclose() waited for it forever. The guard turns a hang into a failure.
    """
    store = SqliteStore(tmp_path / "t.db", logger=LOG)
    await store.__aenter__()
    await store.append({"kind": "message", "seq_hint": 1})
    await store.purge_older_than(datetime.now(UTC) + timedelta(days=1))  # sets the wake-up
    async with asyncio.timeout(10):
        await store.aclose()


async def test_the_recovery_probe_stops_when_cancelled_as_it_is_woken() -> None:
    """The race itself, without timing: the wake-up is set and the task cancelled in one step."""
    wake = asyncio.Event()
    probe = asyncio.create_task(
        probe_until_healthy(_never_called, lambda: True, wake=wake, logger=LOG, interval=3600)
    )
    await asyncio.sleep(0)  # one loop turn: the probe is now waiting for its wake-up
    wake.set()
    async with asyncio.timeout(10):
        await stop_task(probe)
    assert probe.cancelled()


async def _never_called() -> bool:
    raise AssertionError("a healthy store is never probed")
