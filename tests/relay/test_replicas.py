"""Several relay replicas on one Redis serve one timeline: same seqs, same order, once each."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import os
import secrets
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.fixtures.redis import RedisProcess
from tests.fixtures.relay import RelayFactory, RunningRelay
from tests.relay.helpers import Console, console, post_json, text_event
from tests.relay.test_health import ready_again

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parents[2]
WAIT = 30.0
BURST = 300
CONCURRENCY = 16


@dataclass
class Cluster:
    """Relay replicas sharing one Redis prefix, with one identification key and console token."""

    replicas: list[RunningRelay]
    key: str
    token: str
    redis_url: str
    prefix: str


ClusterFactory = Callable[[int], Awaitable[Cluster]]


@pytest.fixture(autouse=True)
def shared_relay_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replicas share one timeline, so they share its encryption and dedupe keys."""
    monkeypatch.setenv("KENAR_RELAY_ENCRYPTION_KEY", base64.b64encode(os.urandom(32)).decode())
    monkeypatch.setenv("KENAR_RELAY_INDEX_KEY", base64.b64encode(os.urandom(32)).decode())


@pytest.fixture
def cluster_factory(
    redis_url: str, redis_prefix: str, relay_factory: RelayFactory
) -> ClusterFactory:
    """Start `n` in-process replicas on the test's Redis prefix (closed before its keys go)."""

    async def start(n: int) -> Cluster:
        key = "idkey-" + secrets.token_hex(16)
        token = "kr_test_" + secrets.token_hex(16)
        replicas = [
            await relay_factory(
                identification_key=key,
                client_token=token,
                store=redis_url,
                redis_key_prefix=redis_prefix,
            )
            for _ in range(n)
        ]
        return Cluster(replicas, key, token, redis_url, redis_prefix)

    return start


def message_id(frame: dict[str, Any]) -> str:
    value: str = frame["entry"]["raw"]["new_message"]["id"]
    return value


async def post_all(
    http: httpx.AsyncClient, urls: list[str], bodies: list[dict[str, Any]], key: str
) -> list[httpx.Response]:
    """POST each body to the next URL in turn (round robin), a few at a time."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(url: str, body: dict[str, Any]) -> httpx.Response:
        async with gate:
            return await post_json(http, url + "/events", body, key=key)

    targets = itertools.cycle(urls)
    return await asyncio.gather(*(one(next(targets), body) for body in bodies))


async def test_consoles_on_every_replica_get_every_entry_in_one_order_once(
    cluster_factory: ClusterFactory, http: httpx.AsyncClient
) -> None:
    """Webhooks spread over three replicas reach consoles on each, same seqs, same order, once."""
    cluster = await cluster_factory(3)
    bodies = [text_event(f"سلام، قیمت آخر؟ {n}") for n in range(BURST)]
    async with contextlib.AsyncExitStack() as stack:
        consoles = [
            await stack.enter_async_context(console(r.ws_url, cluster.token))
            for r in cluster.replicas
        ]
        for client in consoles:
            await client.until("live")
        answers = await post_all(http, [r.url for r in cluster.replicas], bodies, cluster.key)
        assert [a.status_code for a in answers] == [200] * BURST
        assert not any(a.json()["duplicate"] for a in answers)
        received = await asyncio.gather(*(c.entries(BURST, within=WAIT) for c in consoles))
        sentinel = text_event("پایان")
        done = await post_json(http, cluster.replicas[0].url + "/events", sentinel, key=cluster.key)
        assert done.status_code == 200
        following = await asyncio.gather(*(c.entries(1) for c in consoles))
    orders = [[f["seq"] for f in frames] for frames in received]
    assert orders[0] == list(range(1, BURST + 1))
    assert orders[1] == orders[0] and orders[2] == orders[0]
    ids = [[message_id(f) for f in frames] for frames in received]
    assert ids[1] == ids[0] and ids[2] == ids[0]
    assert set(ids[0]) == {b["new_message"]["id"] for b in bodies}
    assert sorted(a.json()["seq"] for a in answers) == orders[0]
    # Nothing more than each entry once: the next frame on every console is the sentinel.
    assert [f[0]["seq"] for f in following] == [BURST + 1] * 3


async def test_a_message_delivered_to_two_replicas_is_stored_once(
    cluster_factory: ClusterFactory, http: httpx.AsyncClient
) -> None:
    """Divar's redelivery landing on another replica, even at the same moment, is stored once."""
    cluster = await cluster_factory(3)
    first, second, third = cluster.replicas
    body = text_event("آیا معاوضه هم می‌کنید؟")
    async with console(third.ws_url, cluster.token) as client:
        await client.until("live")
        answers = await asyncio.gather(
            post_json(http, first.url + "/events", body, key=cluster.key),
            post_json(http, second.url + "/events", body, key=cluster.key),
        )
        later = await post_json(http, third.url + "/events", body, key=cluster.key)
        sentinel = await post_json(http, first.url + "/events", text_event("بعدی"), key=cluster.key)
        frames = await client.entries(2)
    outcomes = [a.json() for a in (*answers, later)]
    assert {o["seq"] for o in outcomes} == {1}
    assert sorted(o["duplicate"] for o in outcomes) == [False, True, True]
    assert [f["seq"] for f in frames] == [1, sentinel.json()["seq"]] == [1, 2]
    assert message_id(frames[0]) == body["new_message"]["id"]


async def test_a_console_resumes_on_another_replica_exactly(
    cluster_factory: ClusterFactory, http: httpx.AsyncClient
) -> None:
    """A console that left replica A resumes on replica B from its last seq: no gap, no repeat."""
    cluster = await cluster_factory(3)
    first, second, _ = cluster.replicas
    urls = [r.url for r in cluster.replicas]
    async with console(first.ws_url, cluster.token) as client:
        await post_all(http, urls, [text_event(f"اول {n}") for n in range(60)], cluster.key)
        before = await client.entries(60)
    last = before[-1]["seq"]
    await post_all(http, urls, [text_event(f"دوم {n}") for n in range(40)], cluster.key)
    async with console(second.ws_url, cluster.token, since=last) as client:
        assert client.welcome["head"] == 100
        after = await client.entries(40)
    seqs = [f["seq"] for f in before + after]
    assert seqs == list(range(1, 101))


async def test_a_replica_answers_503_while_redis_is_down_and_recovers(
    redis_process: RedisProcess, relay_factory: RelayFactory, http: httpx.AsyncClient
) -> None:
    """Redis gone: webhooks get 503 and /healthz says unready; Redis back: nothing was lost."""
    relay = await relay_factory(store=redis_process.url)
    async with console(relay.ws_url, relay.token) as client:
        await client.until("live")
        kept = await post_json(
            http, relay.url + "/events", text_event("قبل"), key=relay.identification_key
        )
        assert kept.status_code == 200
        redis_process.stop()
        refused = await post_json(
            http, relay.url + "/events", text_event("حین"), key=relay.identification_key
        )
        assert refused.status_code == 503
        assert (await http.get(relay.url + "/healthz")).status_code == 503
        redis_process.start()
        # /healthz only reads: the store's own probe (about once a second) sees Redis back.
        assert (await ready_again(http, relay.url)).status_code == 200
        again = await post_json(
            http, relay.url + "/events", text_event("بعد"), key=relay.identification_key
        )
        assert again.status_code == 200
        frames = await client.entries(2, within=WAIT)
    assert [f["entry"]["data"]["text"] for f in frames] == ["قبل", "بعد"]
    assert [f["seq"] for f in frames] == [1, 2]


@contextlib.asynccontextmanager
async def replica_process(
    tmp_path: Path, cluster: Cluster
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """`kenar-relay serve --store redis://...` as a child process; yields it and its URL."""
    env = {
        **os.environ,
        "KENAR_RELAY_IDENTIFICATION_KEY": cluster.key,
        "KENAR_RELAY_CLIENT_TOKEN": cluster.token,
        "KENAR_RELAY_REDIS_KEY_PREFIX": cluster.prefix,
        "KENAR_RELAY_LOG_LEVEL": "warning",
    }
    log = (tmp_path / "replica.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "relay",
        "serve",
        "--store",
        cluster.redis_url,
        "--port",
        "0",
        "--data-dir",
        str(tmp_path / "replica-data"),
        cwd=ROOT,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=log,
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(WAIT):
            line = (await process.stdout.readline()).decode().strip()
        assert line.startswith("url="), f"the replica did not start: {line!r}"
        yield process, line.removeprefix("url=")
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
        if process.stdout is not None:
            await process.stdout.read()
        log.close()


async def drain_frames(client: Console, sink: list[dict[str, Any]]) -> None:
    """Collect entry frames until the connection ends (the replica died)."""
    with contextlib.suppress(ConnectionClosed):
        while True:
            frame = await client.frame(within=WAIT)
            if frame["type"] == "entry":
                sink.append(frame)


@pytest.mark.slow
async def test_killing_a_replica_mid_burst_loses_nothing_and_its_consoles_resume_elsewhere(
    cluster_factory: ClusterFactory, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    """SIGKILL a replica mid-burst: every acked entry is kept; its console resumes exactly."""
    cluster = await cluster_factory(2)
    survivor, other = cluster.replicas
    bodies = [text_event(f"پیام {n}") for n in range(BURST)]
    acked: dict[str, int] = {}
    killed = asyncio.Event()
    async with replica_process(tmp_path, cluster) as (process, doomed_url):
        seen_before_kill: list[dict[str, Any]] = []
        async with console(doomed_url.replace("http", "ws", 1) + "/ws", cluster.token) as doomed:
            await doomed.until("live")
            reader = asyncio.create_task(drain_frames(doomed, seen_before_kill))
            gate = asyncio.Semaphore(CONCURRENCY)
            urls = itertools.cycle([doomed_url, survivor.url, other.url])

            async def deliver(url: str, body: dict[str, Any]) -> None:
                async with gate:
                    try:
                        answer = await post_json(http, url + "/events", body, key=cluster.key)
                    except httpx.TransportError:
                        answer = None  # the replica died under it: the balancer tries another
                    if answer is None or answer.status_code != 200:
                        answer = await post_json(
                            http, survivor.url + "/events", body, key=cluster.key
                        )
                    assert answer.status_code == 200, answer.text
                    acked[body["new_message"]["id"]] = answer.json()["seq"]
                    if url == doomed_url and len(acked) >= BURST // 4 and not killed.is_set():
                        killed.set()
                        process.send_signal(signal.SIGKILL)

            await asyncio.gather(*(deliver(next(urls), body) for body in bodies))
            async with asyncio.timeout(WAIT):
                await reader
    assert killed.is_set() and process.returncode == -signal.SIGKILL
    assert len(acked) == BURST
    last = seen_before_kill[-1]["seq"] if seen_before_kill else 0
    head = await survivor.server.store.head()
    async with console(survivor.ws_url, cluster.token, since=last) as resumed:
        rest = await resumed.entries(head - last, within=WAIT)
    frames = seen_before_kill + rest
    assert [f["seq"] for f in frames] == list(range(1, head + 1))
    by_id = {message_id(f): f["seq"] for f in frames}
    assert len(by_id) == len(frames)  # each message once, even one in flight at the kill
    assert {i: by_id.get(i) for i in acked} == acked


async def test_sigterm_drains_a_redis_replica_within_10_seconds(
    cluster_factory: ClusterFactory, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    """SIGTERM on a Redis replica: its consoles get 1001, it exits 0 in time, the rest serve on."""
    cluster = await cluster_factory(1)
    (survivor,) = cluster.replicas
    async with (
        replica_process(tmp_path, cluster) as (process, url),
        console(url.replace("http", "ws", 1) + "/ws", cluster.token) as client,
    ):
        await client.until("live")
        stored = await post_json(http, url + "/events", text_event("پیش از توقف"), key=cluster.key)
        assert stored.status_code == 200
        process.send_signal(signal.SIGTERM)
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await client.frame(WAIT)
        async with asyncio.timeout(10):
            code = await process.wait()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
    assert code == 0
    async with console(survivor.ws_url, cluster.token) as resumed:
        (frame,) = await resumed.entries(1)
    assert frame["seq"] == stored.json()["seq"] == 1
