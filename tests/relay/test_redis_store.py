"""RedisStore keeps the store contract: dedupe, order, batches, head/oldest, retention, health."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio

from kenar_core.cipher import AesGcmSealer
from kenar_core.errors import ConfigError
from kenar_core.keyfile import KeyRing
from relay.config import RelayConfig
from relay.errors import StoreClosed, StoreError
from relay.redis_store import RedisStore
from relay.sqlite_store import SqliteStore
from relay.store import StoredEntry
from relay.stores import open_store, redacted
from tests.fixtures.redis import RedisProcess, free_port

pytestmark = pytest.mark.redis

WAIT = 10.0
StoreFactory = Callable[..., Awaitable[RedisStore]]


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class Collected:
    """A listener that records every batch and wakes waiters when `count` entries arrived."""

    def __init__(self) -> None:
        self.entries: list[StoredEntry] = []
        self.changed = asyncio.Event()

    def __call__(self, batch: list[StoredEntry]) -> None:
        self.entries.extend(batch)
        self.changed.set()

    async def wait_for(self, count: int) -> list[StoredEntry]:
        async with asyncio.timeout(WAIT):
            while len(self.entries) < count:
                self.changed.clear()
                await self.changed.wait()
        return self.entries


def message(text: str, n: int = 0) -> dict[str, Any]:
    return {"kind": "message", "conversation_id": f"conv-{n % 3}", "data": {"text": text, "n": n}}


@pytest.fixture
async def store_factory(redis_url: str, redis_prefix: str) -> AsyncIterator[StoreFactory]:
    """Open RedisStores on the test's prefix (each one a replica); closed after the test."""
    async with contextlib.AsyncExitStack() as stack:

        async def make(url: str = redis_url, **kwargs: Any) -> RedisStore:
            kwargs.setdefault("prefix", redis_prefix)
            store = RedisStore(url, logger=logging.getLogger("kenar_relay.test.redis"), **kwargs)
            return await stack.enter_async_context(store)

        yield make


async def all_entries(store: RedisStore, since: int = 0, batch: int = 500) -> list[StoredEntry]:
    found: list[StoredEntry] = []
    async with contextlib.aclosing(store.read(since, batch=batch)) as batches:
        async for part in batches:
            found.extend(part)
    return found


async def test_appends_get_increasing_seqs_and_read_back_in_order(
    store_factory: StoreFactory,
) -> None:
    """Entries come back in seq order with their payload, received time and Persian text intact."""
    clock = Clock()
    store = await store_factory(clock=clock)
    assert (await store.head(), await store.oldest()) == (0, 0)
    seqs = [(await store.append(message(f"سلام {n}", n))).seq for n in range(5)]
    assert seqs == [1, 2, 3, 4, 5]
    stored = await all_entries(store)
    assert [s.seq for s in stored] == seqs
    assert [s.entry["data"]["text"] for s in stored] == [f"سلام {n}" for n in range(5)]
    assert stored[0].entry["received_at"] == "2026-03-01T09:30:00Z"
    assert stored[0].received_at_us == int(clock.now.timestamp() * 1_000_000)
    assert (await store.head(), await store.oldest()) == (5, 1)


async def test_reads_come_in_batches_from_any_cursor(store_factory: StoreFactory) -> None:
    """read(since) streams only what follows the cursor, in batches of the asked size."""
    store = await store_factory()
    for n in range(25):
        await store.append(message("پیام", n))
    sizes: list[int] = []
    async with contextlib.aclosing(store.read(0, batch=10)) as batches:
        async for part in batches:
            sizes.append(len(part))
    assert sizes == [10, 10, 5]
    assert [s.seq for s in await all_entries(store, since=17, batch=4)] == list(range(18, 26))
    assert await all_entries(store, since=25) == []


async def test_a_duplicate_is_stored_once_even_through_two_replicas(
    store_factory: StoreFactory,
) -> None:
    """The same dedupe key, sent concurrently through two replicas, is stored once, same seq."""
    first, second = await store_factory(), await store_factory()
    await first.append(message("قبلی"))
    outcomes = await asyncio.gather(
        *(
            replica.append(message("تکراری"), dedupe="msg:7f3a")
            for replica in (first, second, first, second)
        )
    )
    assert len({o.seq for o in outcomes}) == 1
    assert sorted(o.duplicate for o in outcomes) == [False, True, True, True]
    again = await second.append(message("تکراری"), dedupe="msg:7f3a")
    assert again.duplicate and again.seq == outcomes[0].seq
    assert [s.seq for s in await all_entries(second)] == [1, 2]


async def test_the_dedupe_key_expires_after_the_configured_window(
    store_factory: StoreFactory, redis_url: str, redis_prefix: str
) -> None:
    """The dedupe key lives for the configured hours (longer than Divar's retries), then goes."""
    store = await store_factory(dedupe_hours=48)
    await store.append(message("یک"), dedupe="msg:1")
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        keys = [k async for k in client.scan_iter(match=f"{{{redis_prefix}}}:dedupe:*")]
        assert len(keys) == 1
        assert b"msg:1" not in keys[0]  # a keyed hash, not the message id
        ttl_ms = await client.pttl(keys[0])
    finally:
        await client.aclose()
    assert 47 * 3600 * 1000 < ttl_ms <= 48 * 3600 * 1000


async def test_listeners_get_every_replicas_entries_once_in_seq_order(
    store_factory: StoreFactory,
) -> None:
    """Concurrent appends through two replicas reach each replica's listener once, in seq order."""
    first, second = await store_factory(), await store_factory()
    heard_first, heard_second = Collected(), Collected()
    first.add_listener(heard_first)
    second.add_listener(heard_second)
    outcomes = await asyncio.gather(
        *((first if n % 2 else second).append(message("همزمان", n)) for n in range(200))
    )
    assert sorted(o.seq for o in outcomes) == list(range(1, 201))
    for heard in (heard_first, heard_second):
        entries = await heard.wait_for(200)
        assert [e.seq for e in entries] == list(range(1, 201))
    assert sorted(e.entry["data"]["n"] for e in heard_first.entries) == list(range(200))


async def test_a_replica_started_later_delivers_only_what_is_new(
    store_factory: StoreFactory,
) -> None:
    """A replica's listeners start at the head when it opens: the backlog is read, not replayed."""
    first = await store_factory()
    for n in range(3):
        await first.append(message("قدیمی", n))
    late = await store_factory()
    heard = Collected()
    late.add_listener(heard)
    await first.append(message("تازه"))
    entries = await heard.wait_for(1)
    assert [e.seq for e in entries] == [4]


async def test_purge_by_age_removes_only_entries_older_than_the_cutoff(
    store_factory: StoreFactory,
) -> None:
    """Entries received before the cutoff go; the rest stay, and oldest moves forward."""
    clock = Clock()
    store = await store_factory(clock=clock)
    for n in range(6):
        await store.append(message("کهنه", n))
    clock.now += timedelta(hours=80)
    for n in range(4):
        await store.append(message("تازه", n))
    removed = await store.purge_older_than(clock.now - timedelta(hours=72))
    assert removed == 6
    assert (await store.oldest(), await store.head()) == (7, 10)
    assert [s.entry["data"]["text"] for s in await all_entries(store)] == ["تازه"] * 4
    assert await store.purge_older_than(clock.now - timedelta(hours=72)) == 0
    seq = (await store.append(message("بعدی"))).seq
    assert seq == 11


async def test_purge_by_age_works_through_many_chunks(store_factory: StoreFactory) -> None:
    """A purge longer than one step (1,000 entries) removes everything old, step by step."""
    clock = Clock()
    store = await store_factory(clock=clock)
    for start in range(0, 1200, 100):
        await asyncio.gather(
            *(store.append(message("انبوه", n)) for n in range(start, start + 100))
        )
    clock.now += timedelta(days=4)
    await store.append(message("ماندنی"))
    assert await store.purge_older_than(clock.now - timedelta(hours=1)) == 1200
    assert await store.oldest() == 1201


async def test_retention_by_length_keeps_about_the_newest_entries(
    store_factory: StoreFactory,
) -> None:
    """With max_entries set, the stream is trimmed as it grows; seqs keep counting on."""
    store = await store_factory(max_entries=50)
    for start in range(0, 400, 100):
        await asyncio.gather(*(store.append(message("طول", n)) for n in range(start, start + 100)))
    kept = await all_entries(store)
    assert await store.head() == 400
    assert kept[-1].seq == 400
    # "~" trimming drops whole stream nodes (up to 100 entries each): at least 50 are kept.
    assert 50 <= len(kept) <= 150
    assert await store.oldest() == kept[0].seq > 1
    assert [s.seq for s in kept] == list(range(kept[0].seq, 401))


async def test_sealed_payloads_are_not_stored_in_the_clear(
    store_factory: StoreFactory, redis_url: str, redis_prefix: str
) -> None:
    """With an encrypting sealer, Redis holds no Persian text or phone number in plain bytes."""
    sealer = AesGcmSealer(KeyRing.generate())
    store = await store_factory(sealer=sealer)
    secret_text, phone = "خانه در ونک، قیمت نهایی؟", "09121234567"
    await store.append(message(f"{secret_text} {phone}"))
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        rows: Any = await client.xrange(f"{{{redis_prefix}}}:timeline")
    finally:
        await client.aclose()
    blob = rows[0][1][b"p"]
    assert secret_text.encode() not in blob and phone.encode() not in blob
    (stored,) = await all_entries(store)
    assert stored.entry["data"]["text"] == f"{secret_text} {phone}"


async def test_health_check_is_a_real_write_and_errors_become_store_errors(
    store_factory: StoreFactory, redis_prefix: str
) -> None:
    """check() writes to Redis; a Redis nobody listens on gives StoreError, never a hang."""
    store = await store_factory()
    assert await store.check() and store.healthy
    with pytest.raises(StoreError):
        await store_factory(f"redis://127.0.0.1:{free_port()}/0", prefix=redis_prefix)


async def test_redis_going_away_is_reported_and_recovery_keeps_every_entry(
    redis_process: RedisProcess,
) -> None:
    """Redis killed: appends raise StoreError and health drops; restarted: AOF kept it all."""
    store = RedisStore(redis_process.url, logger=logging.getLogger("kenar_relay.test.redis"))
    async with store:
        heard = Collected()
        store.add_listener(heard)
        for n in range(3):
            await store.append(message("پیش از قطع", n))
        redis_process.stop()
        with pytest.raises(StoreError):
            await store.append(message("در قطعی"))
        assert not store.healthy
        assert not await store.check()
        redis_process.start()
        assert await store.check() and store.healthy
        assert (await store.append(message("پس از وصل"))).seq == 4
        entries = await heard.wait_for(4)
        assert [e.seq for e in entries] == [1, 2, 3, 4]


async def test_closing_is_idempotent_and_a_closed_store_refuses_writes(
    store_factory: StoreFactory,
) -> None:
    """aclose twice is fine; an append after it raises StoreClosed."""
    store = await store_factory()
    await store.append(message("آخرین"))
    await store.aclose()
    await store.aclose()
    with pytest.raises(StoreClosed):
        await store.append(message("دیر"))


def test_the_store_setting_picks_the_backend_and_hides_passwords(tmp_path: Path) -> None:
    """store=sqlite or a path gives SQLite; redis:// gives Redis; logs never see the password."""
    log = logging.getLogger("kenar_relay.test.redis")
    default = RelayConfig.load(None, data_dir=tmp_path)
    assert isinstance(open_store(default, logger=log), SqliteStore)
    url = "redis://:hunter2-secret@10.0.0.5:6379/2"
    config = RelayConfig.load(None, data_dir=tmp_path, store=url)
    assert isinstance(open_store(config, logger=log), RedisStore)
    assert "hunter2" not in repr(config)
    assert redacted(url) == "redis://:***@10.0.0.5:6379/2"
    assert "hunter2" not in repr(open_store(config, logger=log))
    toml = tmp_path / "relay.toml"
    toml.write_text('store = "redis://127.0.0.1:6379/3"\nredis_max_entries = 100000\n')
    from_file = RelayConfig.load(toml, data_dir=tmp_path)
    assert (from_file.store, from_file.redis_max_entries) == ("redis://127.0.0.1:6379/3", 100000)
    with pytest.raises(ConfigError, match="store is sqlite"):
        RelayConfig.load(None, data_dir=tmp_path, store="ftp://example.com/x")


async def test_appends_still_work_after_redis_forgot_its_scripts(
    store_factory: StoreFactory, redis_url: str
) -> None:
    """After SCRIPT FLUSH (as after a Redis restart), single and batched appends land once."""
    store = await store_factory()
    await store.append(message("قبل"))
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        await client.script_flush()
        one = await store.append(message("تک"))
        await client.script_flush()
        many = await asyncio.gather(*(store.append(message("دسته", n)) for n in range(40)))
    finally:
        await client.aclose()
    assert one.seq == 2
    assert sorted(a.seq for a in many) == list(range(3, 43))
    assert [s.seq for s in await all_entries(store)] == list(range(1, 43))


async def test_a_retried_append_is_stored_once_and_not_called_a_duplicate(
    store_factory: StoreFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An append sent again with its own nonce (a reply lost in transit) is one entry, not a dup."""
    store = await store_factory()
    monkeypatch.setattr("relay.redis_store.secrets.token_hex", lambda _n: "a1b2c3d4e5f60718")
    first = await store.append(message("یک بار"))
    retried = await store.append(message("یک بار"))
    assert (first.seq, first.duplicate) == (1, False)
    assert (retried.seq, retried.duplicate) == (1, False)
    assert await store.head() == 1
