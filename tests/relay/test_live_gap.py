"""Redis: entries trimmed from the stream before a replica's reader saw them reach its live
consoles as a `gap` (docs/protocol.md), counted in /metrics, never as silence."""

from __future__ import annotations

import base64
import os
import secrets
from typing import Any

import httpx
import pytest
import redis.asyncio

from tests.fixtures.relay import RelayFactory, RunningRelay
from tests.relay.helpers import console, post_json, text_event

pytestmark = pytest.mark.redis

BURIED = 4  # entries stored and trimmed in one Redis transaction: no reader can see them


@pytest.fixture(autouse=True)
def relay_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KENAR_RELAY_ENCRYPTION_KEY", base64.b64encode(os.urandom(32)).decode())
    monkeypatch.setenv("KENAR_RELAY_INDEX_KEY", base64.b64encode(os.urandom(32)).decode())


async def start_relay(
    relay_factory: RelayFactory, redis_url: str, prefix: str
) -> tuple[RunningRelay, str, str]:
    key = "idkey-" + secrets.token_hex(16)
    token = "kr_test_" + secrets.token_hex(16)
    relay = await relay_factory(
        identification_key=key, client_token=token, store=redis_url, redis_key_prefix=prefix
    )
    return relay, key, token


async def missed_live(http: httpx.AsyncClient, relay: RunningRelay) -> float:
    page = await http.get(relay.url + "/metrics")
    for line in page.text.splitlines():
        if line.startswith("kenar_relay_entries_missed_live_total "):
            return float(line.split()[1])
    raise AssertionError("/metrics has no kenar_relay_entries_missed_live_total")


async def test_entries_trimmed_before_the_reader_saw_them_reach_live_consoles_as_a_gap(
    relay_factory: RelayFactory, http: httpx.AsyncClient, redis_url: str, redis_prefix: str
) -> None:
    relay, key, token = await start_relay(relay_factory, redis_url, redis_prefix)
    stream, counter = f"{{{redis_prefix}}}:timeline", f"{{{redis_prefix}}}:seq"
    raw = redis.asyncio.Redis.from_url(redis_url)
    try:
        async with console(relay.ws_url, token) as client:
            await client.until("live")
            first = await post_json(http, relay.url + "/events", text_event("سلام"), key=key)
            assert first.json()["seq"] == 1
            assert [f["seq"] for f in await client.entries(1)] == [1]
            # Entries as another replica stores them (a copy of entry 1's sealed payload), and a
            # MAXLEN-style trim, all in one transaction: the reader wakes to the last one only.
            rows: Any = await raw.xrange(stream, count=1)
            fields: dict[Any, Any] = rows[0][1]
            async with raw.pipeline(transaction=True) as pipe:
                for seq in range(2, BURIED + 3):
                    pipe.xadd(stream, fields, id=f"{seq}-0")
                pipe.set(counter, BURIED + 2)
                pipe.xtrim(stream, minid=f"{BURIED + 2}-0")
                await pipe.execute()
            gap = await client.frame()
            assert gap == {"type": "gap", "since": 1, "oldest": BURIED + 2}
            after = await client.frame()
            assert (after["type"], after["seq"]) == ("entry", BURIED + 2)
            assert after["entry"]["data"]["text"] == "سلام"
        assert await missed_live(http, relay) == BURIED
    finally:
        await raw.aclose()


async def test_seqs_burnt_by_failed_appends_are_no_gap(
    relay_factory: RelayFactory, http: httpx.AsyncClient, redis_url: str, redis_prefix: str
) -> None:
    """A hole whose entries were never stored (the counter moved, the XADD failed) loses
    nothing: the stream still holds what the console has, so no `gap` is sent."""
    relay, key, token = await start_relay(relay_factory, redis_url, redis_prefix)
    counter = f"{{{redis_prefix}}}:seq"
    raw = redis.asyncio.Redis.from_url(redis_url)
    try:
        async with console(relay.ws_url, token) as client:
            await client.until("live")
            await post_json(http, relay.url + "/events", text_event("یک"), key=key)
            assert [f["seq"] for f in await client.entries(1)] == [1]
            await raw.incrby(counter, 2)  # seqs 2 and 3 burnt
            later = await post_json(http, relay.url + "/events", text_event("دو"), key=key)
            assert later.json()["seq"] == 4
            frame = await client.frame()
            assert (frame["type"], frame["seq"]) == ("entry", 4)
        assert await missed_live(http, relay) == 0
    finally:
        await raw.aclose()
