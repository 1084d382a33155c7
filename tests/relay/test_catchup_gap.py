"""Entries removed while a console's catch-up runs reach it as a `gap`, never as silence.

docs/protocol.md (*The conversation*, *Cursors*): a console resuming from `since` gets every
entry after it, or a `gap` naming the ones that are gone. Here the entries are removed after
`welcome`, while the relay is still streaming the backlog to a console that reads slowly (a
16 KiB receive buffer, so the relay's writes wait on it): an acknowledged-entries purge on
SQLite, a `redis_max_entries`-style trim on Redis. Every jump in `seq` the console sees must
be announced by a `gap` whose `since` is the last `seq` it got and whose `oldest` is the next.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis.asyncio

from kenar_core.protocol import RELAY_FRAME, EntryFrame, GapFrame, LiveFrame
from relay.entries import entry_from_event
from relay.sqlite_store import SqliteStore
from tests.fixtures.relay import RelayFactory, RunningRelay
from tests.relay.helpers import Console, console, text_event

# Three of the relay's 500-entry backlog batches and more: the relay has read ahead at most
# two batches when its writes start waiting on the slow console, so the removal below is
# always ahead of what it has read.
STORED = 1_800
REMOVED_THROUGH = 1_650
TEXT = "سلام، این خودرو هنوز موجود است؟ " * 100  # ~6 KB: a batch is far more than the buffers
RECEIVE_BUFFER = 16 * 1024
WAIT = 60.0


@pytest.fixture(autouse=True)
def relay_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KENAR_RELAY_ENCRYPTION_KEY", base64.b64encode(os.urandom(32)).decode())
    monkeypatch.setenv("KENAR_RELAY_INDEX_KEY", base64.b64encode(os.urandom(32)).decode())


async def store_entries(relay: RunningRelay, count: int) -> None:
    """`count` buyer messages stored as the webhook endpoint stores them (relay/webhooks.py),
    straight into the relay's store: the HTTP round trips would only slow the test down."""
    store = relay.server.store
    for start in range(0, count, 300):
        news = [entry_from_event(text_event(f"{n} {TEXT}")) for n in range(start, start + 300)]
        await asyncio.gather(*(store.append(new.entry, dedupe=new.dedupe) for new in news))
    assert await store.head() == count


@asynccontextmanager
async def slow_console(relay: RunningRelay) -> AsyncIterator[Console]:
    """A console resuming from 0 whose socket takes 16 KiB at a time, and only when it reads."""
    where = urlsplit(relay.ws_url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)  # before connecting
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (where.hostname, where.port))
    async with console(relay.ws_url, relay.token, sock=sock, max_queue=1) as client:
        yield client


async def read_catchup(client: Console) -> list[Any]:
    """The frames up to and including `live`, as the protocol's models."""
    frames: list[Any] = []
    async with asyncio.timeout(WAIT):
        while not frames or not isinstance(frames[-1], LiveFrame):
            frames.append(RELAY_FRAME.validate_python(await client.frame(WAIT)))
    return frames


def check_no_silent_skip(frames: list[Any]) -> list[GapFrame]:
    """Every `seq` after the last one held, or a `gap` from the last one held; returns the gaps."""
    held, gaps = 0, []
    for frame in frames:
        if isinstance(frame, GapFrame):
            assert frame.since == held, (frame, held)
            assert frame.oldest > held + 1, frame
            held = frame.oldest - 1
            gaps.append(frame)
        elif isinstance(frame, EntryFrame):
            assert frame.seq == held + 1, f"entry {frame.seq} after {held} without a gap"
            held = frame.seq
    assert held == STORED
    return gaps


async def test_entries_purged_during_a_slow_catchup_reach_the_console_as_a_gap_sqlite(
    relay_factory: RelayFactory,
) -> None:
    relay = await relay_factory()
    await store_entries(relay, STORED)
    store = relay.server.store
    assert isinstance(store, SqliteStore)
    async with slow_console(relay) as client:
        assert client.welcome["oldest"] == 1
        # Every console acknowledged these (relay/acks.py): the purge the relay itself runs.
        assert await store.purge_through(REMOVED_THROUGH) == REMOVED_THROUGH
        frames = await read_catchup(client)
    gaps = check_no_silent_skip(frames)
    assert len(gaps) == 1 and gaps[0].oldest == REMOVED_THROUGH + 1, gaps


@pytest.mark.redis
async def test_entries_trimmed_during_a_slow_catchup_reach_the_console_as_a_gap_redis(
    relay_factory: RelayFactory, redis_url: str, redis_prefix: str
) -> None:
    relay = await relay_factory(store=redis_url, redis_key_prefix=redis_prefix)
    await store_entries(relay, STORED)
    raw = redis.asyncio.Redis.from_url(redis_url)
    try:
        async with slow_console(relay) as client:
            assert client.welcome["oldest"] == 1
            # What `redis_max_entries` does: the stream's oldest entries trimmed away.
            stream = f"{{{redis_prefix}}}:timeline"
            assert await raw.xtrim(stream, minid=f"{REMOVED_THROUGH + 1}-0") == REMOVED_THROUGH
            frames = await read_catchup(client)
    finally:
        await raw.aclose()
    gaps = check_no_silent_skip(frames)
    assert len(gaps) == 1 and gaps[0].oldest == REMOVED_THROUGH + 1, gaps
