"""GET /ws: consoles authenticate, resume exactly, post replies; a slow one cannot stall others."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from kenar_core.protocol import HelloFrame
from relay.tokens import TokenBook
from tests.fixtures.relay import RelayFactory, RunningRelay
from tests.relay.helpers import console, named_token, post_json, text_event


async def _post_many(
    relay: RunningRelay, http: httpx.AsyncClient, count: int, tag: str
) -> list[int]:
    seqs = []
    for index in range(count):
        answer = await post_json(
            http, relay.url + "/events", text_event(f"{tag} {index}"), key=relay.identification_key
        )
        assert answer.status_code == 200
        seqs.append(answer.json()["seq"])
    return seqs


async def test_connecting_without_a_valid_token_is_refused_before_the_upgrade(
    relay: RunningRelay,
) -> None:
    """No token, a wrong one, or a non-Bearer header: HTTP 401 and no websocket."""
    for token in ("", "wrong-token"):
        with pytest.raises(InvalidStatus) as refused:
            async with console(relay.ws_url, token):
                pass
        assert refused.value.response.status_code == 401
    from websockets.asyncio.client import connect

    with pytest.raises(InvalidStatus) as basic:
        async with connect(relay.ws_url, additional_headers={"Authorization": relay.token}):
            pass
    assert basic.value.response.status_code == 401


async def test_named_tokens_work_until_revoked(relay: RunningRelay) -> None:
    """A token made with `token create` connects and names the operator; once revoked, 401."""
    book = TokenBook(relay.data_dir / "tokens.json")
    token = book.create("sara")
    async with console(relay.ws_url, token) as client:
        assert client.welcome["operator"] == "sara"
    book.revoke("sara")
    with pytest.raises(InvalidStatus) as refused:
        async with console(relay.ws_url, token):
            pass
    assert refused.value.response.status_code == 401


async def test_a_reconnecting_console_misses_nothing_and_gets_nothing_twice(
    relay: RunningRelay, http: httpx.AsyncClient
) -> None:
    """Entries posted while a console is away arrive on resume, once, then live ones follow."""
    await _post_many(relay, http, 3, "پیش")
    async with console(relay.ws_url, relay.token) as client:
        first = await client.entries(3)
        live = await client.until("live")
    last = first[-1]["seq"]
    assert live["seq"] == last == 3
    missed = await _post_many(relay, http, 4, "غیاب")
    async with console(relay.ws_url, relay.token, since=last) as client:
        assert client.welcome["head"] == 7 and client.welcome["oldest"] == 1
        backlog = await client.entries(4)
        await client.until("live")
        (later,) = await _post_many(relay, http, 1, "زنده")
        (live_frame,) = await client.entries(1)
    assert [f["seq"] for f in backlog] == missed
    assert live_frame["seq"] == later == 8


async def test_backlog_hands_over_to_live_without_gap_under_load(
    relay: RunningRelay, http: httpx.AsyncClient
) -> None:
    """A console joining while webhooks pour in gets every seq exactly once, in order."""
    await _post_many(relay, http, 30, "قبل")
    pouring = asyncio.create_task(_post_many(relay, http, 60, "حین"))
    async with console(relay.ws_url, relay.token) as client:
        seqs = [f["seq"] for f in await client.entries(90, within=30)]
    await pouring
    assert seqs == list(range(1, 91))


async def test_a_cursor_past_the_head_means_only_new_entries(
    relay: RunningRelay, http: httpx.AsyncClient
) -> None:
    """`since` beyond the head sends no backlog, then live entries as they come."""
    await _post_many(relay, http, 2, "کهنه")
    async with console(relay.ws_url, relay.token, since=2**53 - 1) as client:
        live = await client.until("live")
        assert live["seq"] == 2
        (fresh,) = await _post_many(relay, http, 1, "تازه")
        (frame,) = await client.entries(1)
    assert frame["seq"] == fresh == 3


async def test_posted_replies_reach_every_console_with_their_author(relay: RunningRelay) -> None:
    """A `post` is acked with its seq and shown to teammates with its author, never doubled."""
    reply = {
        "kind": "reply",
        "conversation_id": "conv-1",
        "post_token": "gZd7omnS",
        "data": {
            "conversation_type": "POST",
            "body": {"type": "TEXT", "message": "بله، موجود است"},
            "ref": "r-1",
        },
        "author": "someone-else",
        "raw": {"forged": True},
    }
    sara_token = named_token("سارا", relay.data_dir)
    async with (
        console(relay.ws_url, sara_token, operator="سارا") as sara,
        console(relay.ws_url, relay.token) as teammate,
    ):
        await sara.until("live")
        await teammate.until("live")
        await sara.send(type="post", ref="r-1", entry=reply)
        posted = await sara.until("posted")
        (seen,) = await teammate.entries(1)
        await sara.send(type="post", ref="r-1", entry=reply)
        again = await sara.until("posted")
        await sara.send(type="ack", seq=posted["seq"])
    assert posted == {"type": "posted", "ref": "r-1", "seq": 1}
    assert again["seq"] == 1
    entry = seen["entry"]
    assert seen["seq"] == 1 and entry["kind"] == "reply" and entry["author"] == "سارا"
    assert entry["token"] == "سارا"
    assert "raw" not in entry and entry["data"]["body"]["message"] == "بله، موجود است"
    assert entry["received_at"].endswith("Z")


@pytest.mark.parametrize(
    ("frames", "code"),
    [
        ([{"type": "post", "ref": "x", "entry": {}}], 1008),
        ([{"type": "hello", "since": -1}], 1008),
        (
            [
                {"type": "hello", "since": 0},
                {"type": "post", "ref": "x", "entry": {"kind": "message"}},
            ],
            1008,
        ),
        ([{"type": "hello", "since": 0}, {"type": "dance"}], 1008),
        (["not json"], 1007),
    ],
)
async def test_bad_frames_get_an_error_and_a_close(
    relay: RunningRelay, frames: list[object], code: int
) -> None:
    """A frame the protocol does not allow gets an `error` sentence, then the close code."""
    from websockets.asyncio.client import connect

    async with connect(
        relay.ws_url, additional_headers={"Authorization": f"Bearer {relay.token}"}
    ) as ws:
        for frame in frames:
            await ws.send(frame if isinstance(frame, str) else json.dumps(frame))
        received = []
        with pytest.raises(ConnectionClosed):
            while True:
                received.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
    errors = [f for f in received if f["type"] == "error"]
    assert errors and errors[0]["message"]
    assert ws.close_code == code


async def _raw_console(port: int, token: str) -> socket.socket:
    """A console that completes the handshake and `hello`, then never reads again (tiny buffer)."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await loop.sock_connect(sock, ("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Authorization: Bearer {token}\r\n\r\n"
    )
    await loop.sock_sendall(sock, request.encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += await loop.sock_recv(sock, 1)
    assert head.startswith(b"HTTP/1.1 101")
    payload = HelloFrame(since=0).json_text().encode()
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    await loop.sock_sendall(sock, bytes([0x81, 0x80 | len(payload)]) + mask + masked)
    return sock


async def test_a_console_that_never_reads_does_not_stop_the_others(
    relay_factory: RelayFactory, http: httpx.AsyncClient
) -> None:
    """A stuck console is cut off at its queue bound; intake and the other console carry on."""
    relay = await relay_factory(console_queue=8)
    stuck = await _raw_console(relay.server.port, relay.token)
    try:
        async with console(relay.ws_url, relay.token) as reader:
            await reader.until("live")
            # 100 entries of 80 KB (8 MB, uncompressed) overflow what the kernel buffers for
            # the stuck console (its 4 KB receive buffer and the relay's send buffer, at most
            # tcp_wmem's 4 MB), so its queue fills and it is cut off. The reader reads while
            # they are posted, as a console does, so it never falls behind.
            received = asyncio.create_task(reader.entries(100, within=30))
            bulky = "ب" * 40_000
            for index in range(100):
                answer = await post_json(
                    http,
                    relay.url + "/events",
                    text_event(f"{index} {bulky}"),
                    key=relay.identification_key,
                )
                assert answer.status_code == 200
            frames = await received
        assert [f["seq"] for f in frames] == list(range(1, 101))
        assert relay.server.metrics.consoles_cut_off >= 1
        assert relay.server.hub.peak_queue <= 8
    finally:
        stuck.close()


async def test_a_console_that_stops_answering_pings_is_dropped(relay_factory: RelayFactory) -> None:
    """Keepalive: a connection whose peer never answers the relay's pings is closed."""
    relay = await relay_factory(ping_interval=0.2, ping_timeout=0.2)
    silent = await _raw_console(relay.server.port, relay.token)
    try:
        async with asyncio.timeout(10):
            while relay.server.hub.console_count == 0:  # noqa: ASYNC110 - the hub has no event
                await asyncio.sleep(0.01)
            while relay.server.hub.console_count != 0:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        assert relay.server.hub.console_count == 0
    finally:
        silent.close()
