"""Both stores: a full write queue answers 503 + Retry-After (the relay stays up), one payload
that cannot be opened reaches consoles as a visible `unknown` without hiding the others, and
/healthz never writes."""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import sqlite3
import ssl
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kenar_core.errors import SealingError
from kenar_core.sealing import PlainSealer
from relay.errors import StoreBusy, StoreError
from relay.redis_store import RedisStore
from relay.sqlite_store import SqliteStore
from relay.store import UNREADABLE_REASON
from tests.fixtures.relay import RelayFactory
from tests.relay.helpers import console, post_json, text_event
from tests.relay.test_tls import make_certificate

LOG = logging.getLogger("kenar_relay.test.bounded")


@pytest.fixture
async def redis_store(redis_url: str) -> AsyncIterator[RedisStore]:
    """CI's Redis, or a private redis-server (tests/fixtures/redis.py), as every Redis test."""
    prefix = "kenar-test-bounded-" + os.urandom(4).hex()
    async with RedisStore(redis_url, logger=LOG, prefix=prefix, max_pending=8) as store:
        yield store
        client = store._client  # cleanup of this test's keys only
        assert client is not None
        keys = [key async for key in client.scan_iter(match="{" + prefix + "}*")]
        if keys:
            await client.delete(*keys)


async def flood(store: Any, count: int) -> list[Any]:
    """`count` appends started together: they all queue before the writer runs once."""
    return await asyncio.gather(
        *(store.append({"kind": "unknown", "n": n}) for n in range(count)),
        return_exceptions=True,
    )


async def test_sqlite_write_queue_refuses_past_its_bound(tmp_path: Path) -> None:
    async with SqliteStore(tmp_path / "t.sqlite3", logger=LOG, max_pending=8) as store:
        results = await flood(store, 50)
        refused = [r for r in results if isinstance(r, StoreBusy)]
        stored = [r for r in results if not isinstance(r, BaseException)]
        assert len(stored) == 8 and len(refused) == 42
        assert store.healthy  # a full queue is not a broken store
        assert [r.seq for r in stored] == list(range(1, 9))


async def test_redis_write_queue_refuses_past_its_bound(redis_store: RedisStore) -> None:
    results = await flood(redis_store, 50)
    refused = [r for r in results if isinstance(r, StoreBusy)]
    stored = [r for r in results if not isinstance(r, BaseException)]
    assert len(stored) == 8 and len(refused) == 42
    assert redis_store.healthy


class SlowDiskStore(SqliteStore):
    """A real SQLite store whose writer thread can be held, as a stalled disk holds it.

    Without the hold the test measured a race: on a fast machine the writer drained 250
    concurrent posts as they came and no 503 was ever due (CI saw 1,000 answers of 200).
    """

    async def stall_writer(self, release: threading.Event) -> None:
        """Occupy the writer thread until `release` is set (a job that waits on the disk)."""
        await self._job(lambda _conn: release.wait(30))


class Refusals:
    """Posts a webhook and keeps the answers that came back; `all_in` once `expected` did."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.answers: list[httpx.Response] = []
        self.all_in = asyncio.Event()

    async def post(self, http: httpx.AsyncClient, url: str, key: str) -> httpx.Response:
        answer = await post_json(http, url, text_event(), key=key)
        self.answers.append(answer)
        if len(self.answers) >= self.expected:
            self.all_in.set()
        return answer


async def test_a_flood_of_webhooks_gets_503_and_healthz_still_answers(
    relay_factory: RelayFactory, tmp_path: Path
) -> None:
    """Past the write queue's bound: 503 with Retry-After, memory flat, /healthz within 1 s."""
    store = SlowDiskStore(tmp_path / "flood.sqlite3", logger=LOG, max_pending=4)
    relay = await relay_factory(server_kwargs={"store": store})
    limits = httpx.Limits(max_connections=300)
    async with httpx.AsyncClient(timeout=30, trust_env=False, limits=limits) as http:
        key = relay.identification_key
        url = relay.url + "/events"
        await post_json(http, url, text_event(), key=key)  # warm-up
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        statuses: list[int] = []
        for _ in range(4):
            release = threading.Event()
            stalled = asyncio.create_task(store.stall_writer(release))
            refused = Refusals(expected=246)
            flood = asyncio.gather(*(refused.post(http, url, key) for _ in range(250)))
            # While the disk is stalled, every post past the 4 queued ones is refused at once.
            async with asyncio.timeout(20):
                await refused.all_in.wait()
            async with asyncio.timeout(1.0):
                health = await http.get(relay.url + "/healthz")
            assert health.status_code == 200, "a full write queue is busy, not unhealthy"
            assert {a.status_code for a in refused.answers} == {503}
            assert all(a.headers["retry-after"] for a in refused.answers)
            release.set()
            await stalled
            statuses += [a.status_code for a in await flood]
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        metrics = (await http.get(relay.url + "/metrics")).text
    assert statuses.count(200) == 16 and statuses.count(503) == 984
    assert 'kenar_relay_requests_rejected_total{reason="store_busy"} 984' in metrics
    assert after - before < 64 * 1024  # KiB: the 984 refused bodies were not kept


class ProbeCountingStore(SqliteStore):
    """A real SQLite store that counts its probes (each is a real write)."""

    probes = 0

    async def check(self) -> bool:
        self.probes += 1
        return await super().check()


async def test_healthz_never_writes(relay_factory: RelayFactory, tmp_path: Path) -> None:
    """Even while unhealthy, a GET /healthz only reads; the store's own probe runs ~1/s."""
    store = ProbeCountingStore(tmp_path / "h.sqlite3", logger=LOG)
    relay = await relay_factory(server_kwargs={"store": store})
    store._healthy = False  # as after a failed write
    async with httpx.AsyncClient(timeout=10, trust_env=False) as http:
        answers = [(await http.get(relay.url + "/healthz")).status_code for _ in range(30)]
    assert store.probes <= 3 < len(answers)
    assert answers[0] == 503


def damage_payload(path: Path, seq: int) -> None:
    """What a lost key or a flipped disk sector leaves: a payload that cannot be opened."""
    with sqlite3.connect(path) as db:
        db.execute("UPDATE entries SET payload = ? WHERE seq = ?", (b"\x01garbage", seq))


async def test_one_unreadable_sqlite_entry_hides_no_other(
    relay_factory: RelayFactory, tmp_path: Path
) -> None:
    relay = await relay_factory()
    async with httpx.AsyncClient(timeout=10, trust_env=False) as http:
        for n in range(5):
            answer = await post_json(
                http, relay.url + "/events", text_event(f"پیام {n}"), key=relay.identification_key
            )
            assert answer.status_code == 200
        damage_payload(relay.data_dir / "timeline.sqlite3", 3)
        async with console(relay.ws_url, relay.token) as client:
            frames = await client.entries(5)
        metrics = (await http.get(relay.url + "/metrics")).text
    assert [f["seq"] for f in frames] == [1, 2, 3, 4, 5]
    assert frames[2]["entry"]["kind"] == "unknown"
    assert frames[2]["entry"]["data"]["reason"] == UNREADABLE_REASON
    assert all(f["entry"]["kind"] == "message" for i, f in enumerate(frames) if i != 2)
    assert "kenar_relay_entries_unreadable_total 1" in metrics


async def test_one_unreadable_redis_entry_hides_no_other_live_or_read(
    redis_store: RedisStore,
) -> None:
    """The live reader gets a batch with one bad payload: every entry still reaches listeners."""
    seen: list[Any] = []
    arrived = asyncio.Event()

    def listener(batch: list[Any]) -> None:
        seen.extend(batch)
        arrived.set()

    redis_store.add_listener(listener)
    first = await redis_store.append({"kind": "unknown", "n": 1})
    client = redis_store._client
    assert client is not None
    # Stream IDs are seqs (relay/redis_store.py); a payload no sealer can open, at the next seq.
    stream = redis_store._stream_key
    bad_seq = int(await client.incr(redis_store._counter_key))
    await client.xadd(stream, {"p": b"\x01garbage", "t": 1}, id=f"{bad_seq}-0")
    last = await redis_store.append({"kind": "unknown", "n": 3})
    async with asyncio.timeout(10):
        while not seen or seen[-1].seq < last.seq:
            arrived.clear()
            await arrived.wait()
    assert [e.seq for e in seen] == [first.seq, bad_seq, last.seq]
    assert seen[1].entry["data"]["reason"] == UNREADABLE_REASON
    batches = [batch async for batch in redis_store.read(0)]
    assert [e.seq for b in batches for e in b] == [first.seq, bad_seq, last.seq]
    assert redis_store.unreadable == 2  # once live, once read back


class PoisonSealer(PlainSealer):
    """Seals like the plain sealer, except a payload it cannot seal (a broken key, say)."""

    def seal(self, plaintext: bytes) -> bytes:
        if b'"poisoned":true' in plaintext:
            raise SealingError("this payload cannot be sealed")
        return super().seal(plaintext)


async def test_one_failing_sqlite_append_fails_alone(tmp_path: Path) -> None:
    """Appends committed together: the one that fails gets StoreError, the others are stored."""
    path = tmp_path / "p.sqlite3"
    async with SqliteStore(path, logger=LOG, sealer=PoisonSealer()) as store:
        results = await asyncio.gather(
            *(store.append({"kind": "unknown", "n": n, "poisoned": n == 3}) for n in range(8)),
            return_exceptions=True,
        )
        failed = [n for n, r in enumerate(results) if isinstance(r, BaseException)]
        assert failed == [3] and isinstance(results[3], StoreError)
        stored = [batch async for batch in store.read(0)]
    assert [e.entry["n"] for b in stored for e in b] == [0, 1, 2, 4, 5, 6, 7]


async def test_metrics_can_require_a_token(relay_factory: RelayFactory) -> None:
    relay = await relay_factory(metrics_token="metrics-secret-" + os.urandom(8).hex())
    secret = relay.server.config.metrics_token
    assert secret is not None
    async with httpx.AsyncClient(timeout=10, trust_env=False) as http:
        without = await http.get(relay.url + "/metrics")
        wrong = await http.get(relay.url + "/metrics", headers={"Authorization": "Bearer no"})
        right = await http.get(
            relay.url + "/metrics",
            headers={"Authorization": f"Bearer {secret.get_secret_value()}"},
        )
        health = await http.get(relay.url + "/healthz")
    assert without.status_code == 403 and wrong.status_code == 403
    assert "metrics token" in without.json()["error"]
    assert right.status_code == 200 and "kenar_relay_timeline_head" in right.text
    assert health.status_code == 200


async def test_metrics_can_be_limited_to_addresses(relay_factory: RelayFactory) -> None:
    relay = await relay_factory(metrics_allow_ip=["10.9.8.0/24"])
    async with httpx.AsyncClient(timeout=10, trust_env=False) as http:
        refused = await http.get(relay.url + "/metrics")
    assert refused.status_code == 403
    allowed = await relay_factory(metrics_allow_ip=["127.0.0.1"])
    async with httpx.AsyncClient(timeout=10, trust_env=False) as http:
        assert (await http.get(allowed.url + "/metrics")).status_code == 200


async def test_a_relay_serving_tls_shows_metrics_to_loopback_only_by_default(
    relay_factory: RelayFactory, tmp_path: Path
) -> None:
    """Facing the internet with neither token nor list: /metrics for loopback, 403 otherwise."""
    cert, key = make_certificate(tmp_path)
    relay = await relay_factory(
        ssl_certfile=cert, ssl_keyfile=key, trusted_proxies=["127.0.0.1/32"]
    )
    trust = ssl.create_default_context(cafile=str(cert))
    async with httpx.AsyncClient(verify=trust, trust_env=False, timeout=10) as http:
        local = await http.get(relay.url + "/metrics")
        remote = await http.get(relay.url + "/metrics", headers={"X-Forwarded-For": "203.0.113.5"})
        health = await http.get(relay.url + "/healthz")
    assert local.status_code == 200
    assert remote.status_code == 403
    assert health.status_code == 200 and health.json() == {"ready": True, "head": 0}
