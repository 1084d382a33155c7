"""Floods against the real relay process: every queue holds to its bound, and says so.

A console that never reads while its own post replies pour in is closed with 1013 once its
control queue (`control_queue`, docs/protocol.md) or its live queue is full; one that never
reads while a teammate floods presence stays connected (presence waiting for it is the newest
state per teammate connection, never a queue) and ends with the last state; connection
attempts past the per-token cap get HTTP 429. Throughout, the relay's resident memory (read
from /proc) stays flat and `/healthz` answers within a second. Floods are paced by a console
that does read, so the relay really handles each frame before the next chunk is sent; nothing
here waits on a clock.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from kenar_core.protocol import AckFrame, HelloFrame, PostFrame, PresenceFrame
from tests.relay.process import RelayProcess

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/<pid>/status")

WAIT = 60.0
# Flat: what an unbounded queue would hold after these floods is tens of MB; allocator
# noise after warm-up is a few MB.
FLAT_MB = 8.0
# 12,000 presence frames of ~330 bytes: ~4 MB if they were kept. Not more: the relay publishes
# one connection's changes at most 10 a second past a burst, and each chunk waits for its last.
PRESENCE_CHANGES = 6_000
CONSOLE_QUEUE = 256
REPLY_POSTS = 6_000  # 6,000 entries of ~3 KB and their `posted`: ~18 MB if they were kept
# Frames sent before waiting for the witness: a burst the relay reads in one go fans out
# 2 presence frames per change to every console before any sender runs, so a chunk stays
# well under the control queue's 512 (a larger burst cuts off even a console that reads).
CHUNK = 100


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"/proc/{pid}/status has no VmRSS")


@pytest.fixture
async def relay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> AsyncIterator[RelayProcess]:
    # A smaller live queue than the default 4,096 entries, so a flood passes its bound many
    # times over in seconds (at 3 KB an entry the default holds ~25 MB per stuck console).
    monkeypatch.setenv("KENAR_RELAY_CONSOLE_QUEUE", str(CONSOLE_QUEUE))
    for name, value in getattr(request, "param", {}).items():
        monkeypatch.setenv(name, value)
    process = RelayProcess(
        tmp_path / "data", "idkey-" + secrets.token_hex(16), "kr_test_" + secrets.token_hex(16)
    )
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def relay_pid(relay: RelayProcess) -> int:
    assert relay.proc is not None
    return relay.proc.pid


async def healthy_within_a_second(http: httpx.AsyncClient, relay: RelayProcess) -> None:
    answer = await http.get(relay.url + "/healthz", timeout=1.0)
    assert answer.status_code == 200, answer.text


async def cut_off_so_far(http: httpx.AsyncClient, relay: RelayProcess) -> float:
    page = await http.get(relay.url + "/metrics", timeout=1.0)
    for line in page.text.splitlines():
        if line.startswith("kenar_relay_consoles_cut_off_total "):
            return float(line.split()[1])
    raise AssertionError("/metrics has no kenar_relay_consoles_cut_off_total")


async def live_console(relay: RelayProcess, **kwargs: Any) -> ClientConnection:
    """A console past `live` (so it gets presence); the caller closes it."""
    ws = await connect(
        relay.ws_url,
        additional_headers={"Authorization": f"Bearer {relay.token}"},
        open_timeout=WAIT,
        **kwargs,
    )
    await ws.send(HelloFrame(since=0).json_text())
    async with asyncio.timeout(WAIT):
        while json.loads(await ws.recv())["type"] != "live":
            pass
    return ws


async def frame_until(ws: ClientConnection, wanted: Any) -> None:
    async with asyncio.timeout(WAIT):
        while not wanted(json.loads(await ws.recv())):
            pass


async def close_code_after_draining(ws: ClientConnection) -> int | None:
    """Read whatever the socket still holds; the close code the relay ended with."""
    try:
        async with asyncio.timeout(WAIT):
            while True:
                await ws.recv()
    except ConnectionClosed:
        pass
    return ws.close_code


def reply(n: int) -> dict[str, Any]:
    return {
        "kind": "reply",
        "conversation_id": f"conv-{n % 7}",
        "post_token": "gZd7omnS",
        "data": {
            "conversation_type": "POST",
            "body": {"type": "TEXT", "message": f"بله، موجود است {n} " + "ب" * 1500},
            "ref": f"flood-{n}",
        },
    }


async def test_a_console_that_never_reads_a_presence_flood_stays_with_the_last_state_memory_flat(
    relay: RelayProcess, http: httpx.AsyncClient
) -> None:
    pid = relay_pid(relay)
    sleeper = await live_console(relay, max_queue=4)  # stops reading from here on
    witness = await live_console(relay)
    flooder = await live_console(relay)
    try:
        warm = 0.0
        for start in range(0, PRESENCE_CHANGES, CHUNK):
            for n in range(start, start + CHUNK):
                # A new conversation each time: the relay sends `idle` for the last one too.
                cid = f"{n:06d}" + "x" * 190
                await flooder.send(PresenceFrame(conversation_id=cid, state="viewing").json_text())
            last = f"{start + CHUNK - 1:06d}"
            await frame_until(
                witness,
                lambda f, last=last: (
                    f.get("state") == "viewing" and f["conversation_id"].startswith(last)
                ),
            )
            await healthy_within_a_second(http, relay)
            if start == 10 * CHUNK:
                warm = rss_mb(pid)
        grown = rss_mb(pid) - warm
        assert grown < FLAT_MB, f"relay RSS grew {grown:.1f} MB during the presence flood"
        last = f"{PRESENCE_CHANGES - 1:06d}"
        await frame_until(
            sleeper,
            lambda f: f.get("state") == "viewing" and f["conversation_id"].startswith(last),
        )
        async with asyncio.timeout(WAIT):
            await (await sleeper.ping())  # still connected
    finally:
        for ws in (sleeper, witness, flooder):
            await ws.close()


async def test_a_console_that_never_reads_its_post_replies_is_closed_1013_memory_flat(
    relay: RelayProcess, http: httpx.AsyncClient
) -> None:
    pid = relay_pid(relay)
    poster = await live_console(relay, max_queue=4)  # posts, never reads its `posted`
    witness = await live_console(relay)
    try:
        warm, warm_at = 0.0, 0
        for start in range(0, REPLY_POSTS, CHUNK):
            for n in range(start, start + CHUNK):
                await poster.send(PostFrame(ref=f"r-{n}", entry=reply(n)).json_text())
            text = f"بله، موجود است {start + CHUNK - 1} "
            await frame_until(
                witness,
                lambda f, text=text: (
                    f.get("type") == "entry"
                    and f["entry"]["data"]["body"]["message"].startswith(text)
                ),
            )
            await healthy_within_a_second(http, relay)
            # Flat from the moment the stuck console's queues were full and it was cut off:
            # until then its bound (not the flood) decides how much is held.
            if not warm and await cut_off_so_far(http, relay):
                warm, warm_at = rss_mb(pid), start
        assert warm and warm_at <= REPLY_POSTS // 2, "the console that never reads was kept"
        grown = rss_mb(pid) - warm
        assert grown < FLAT_MB, f"relay RSS grew {grown:.1f} MB during the post flood"
        assert await close_code_after_draining(poster) == 1013
    finally:
        for ws in (poster, witness):
            await ws.close()


async def test_connection_attempts_past_the_per_token_cap_get_429_memory_flat(
    relay: RelayProcess, http: httpx.AsyncClient
) -> None:
    pid = relay_pid(relay)
    held = [await live_console(relay) for _ in range(8)]  # max_consoles_per_token's default

    async def attempt() -> int:
        try:
            ws = await connect(
                relay.ws_url,
                additional_headers={"Authorization": f"Bearer {relay.token}"},
                open_timeout=WAIT,
            )
        except InvalidStatus as exc:
            return exc.response.status_code
        await ws.close()
        return 101

    try:
        warm = 0.0
        for wave in range(8):
            statuses = await asyncio.gather(*(attempt() for _ in range(100)))
            assert set(statuses) == {429}, sorted(set(statuses))
            await healthy_within_a_second(http, relay)
            if wave == 1:
                warm = rss_mb(pid)
        grown = rss_mb(pid) - warm
        assert grown < FLAT_MB, f"relay RSS grew {grown:.1f} MB during the connection flood"
        # The consoles that were let in are still served.
        for ws in held:
            await ws.send(AckFrame(seq=0).json_text())
        await healthy_within_a_second(http, relay)
    finally:
        for ws in held:
            await ws.close()


@pytest.mark.parametrize("relay", [{"KENAR_RELAY_MAX_CONNECTIONS": "16"}], indirect=True)
async def test_requests_past_the_connection_limit_get_503_at_once_memory_flat(
    relay: RelayProcess, http: httpx.AsyncClient
) -> None:
    """Connections held open past `max_connections` (uvicorn's limit_concurrency): every
    request meanwhile is answered 503 within a second, and 200 once they are gone."""
    pid = relay_pid(relay)
    port = int(relay.url.rsplit(":", 1)[1])

    async def refused_within_a_second(client: httpx.AsyncClient) -> int:
        answer = await client.get(relay.url + "/healthz", timeout=1.0)
        return answer.status_code

    warm = 0.0
    for wave in range(6):
        held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(100)]
        try:
            # A fresh client each: a kept-alive connection would not be a new one.
            async with httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=0)) as c:
                statuses = await asyncio.gather(*(refused_within_a_second(c) for _ in range(50)))
            assert set(statuses) == {503}, sorted(set(statuses))
        finally:
            for _, writer in held:
                writer.close()
            for _, writer in held:
                await writer.wait_closed()
        async with asyncio.timeout(WAIT):
            # The relay sees the held connections close as its loop gets to them.
            while True:
                answer = await http.get(relay.url + "/healthz", timeout=1.0)
                if answer.status_code == 200:
                    break
        if wave == 1:
            warm = rss_mb(pid)
    grown = rss_mb(pid) - warm
    assert grown < FLAT_MB, f"relay RSS grew {grown:.1f} MB during the connection flood"
