"""Served directly with TLS, the relay bounds headers, slow clients and connections (issue 21).

Each test uses a real relay with a self-signed certificate on loopback and raw sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from kenar_core.protocol import HelloFrame
from tests.fixtures.relay import RelayFactory, RunningRelay
from tests.relay.helpers import console
from tests.relay.test_tls import make_certificate

IDLE = 300


@pytest.fixture
async def tls_relay(tmp_path: Path, relay_factory: RelayFactory) -> tuple[RunningRelay, Path]:
    cert, key = make_certificate(tmp_path)
    relay = await relay_factory(
        ssl_certfile=cert, ssl_keyfile=key, header_timeout=1.0, max_connections=IDLE + 50
    )
    return relay, cert


def trust(cert: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert))


async def tls_stream(
    relay: RunningRelay, cert: Path
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(
        "127.0.0.1", relay.server.port, ssl=trust(cert), server_hostname="127.0.0.1"
    )


async def test_headers_that_drip_are_cut_off(tls_relay: tuple[RunningRelay, Path]) -> None:
    """A client sending half a request head and waiting is disconnected by the header deadline."""
    relay, cert = tls_relay
    reader, writer = await tls_stream(relay, cert)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    await writer.drain()
    async with asyncio.timeout(15):
        assert await reader.read() == b""  # closed by the relay, no answer
    writer.close()


async def test_an_oversized_header_is_refused_with_400(
    tls_relay: tuple[RunningRelay, Path],
) -> None:
    relay, cert = tls_relay
    async with httpx.AsyncClient(verify=trust(cert), trust_env=False) as http:
        answer = await http.get(relay.url + "/healthz", headers={"X-Big": "a" * 64 * 1024})
        fine = await http.get(relay.url + "/healthz")
    assert answer.status_code == 400
    assert fine.status_code == 200


async def test_healthz_answers_within_a_second_beside_300_idle_connections(
    tls_relay: tuple[RunningRelay, Path],
) -> None:
    """Idle TCP connections (no handshake) and idle TLS ones (no request) starve nothing."""
    relay, cert = tls_relay
    async with contextlib.AsyncExitStack() as stack:
        for n in range(IDLE):
            if n % 2:
                _, writer = await tls_stream(relay, cert)
            else:
                _, writer = await asyncio.open_connection("127.0.0.1", relay.server.port)
            stack.callback(writer.close)
        async with httpx.AsyncClient(verify=trust(cert), trust_env=False) as http:
            async with asyncio.timeout(1.0):
                answer = await http.get(relay.url + "/healthz")
    assert answer.status_code == 200


async def test_past_the_connection_cap_a_new_connection_gets_503(
    tmp_path: Path, relay_factory: RelayFactory
) -> None:
    cert, key = make_certificate(tmp_path)
    relay = await relay_factory(ssl_certfile=cert, ssl_keyfile=key, max_connections=16)
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(16):
            reader, writer = await tls_stream(relay, cert)
            stack.callback(writer.close)
        reader, writer = await tls_stream(relay, cert)
        stack.callback(writer.close)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        async with asyncio.timeout(10):
            answer = await reader.read()
    assert answer.startswith(b"HTTP/1.1 503") and b"retry-after" in answer.lower()


async def test_a_too_deep_frame_closes_with_1007(relay: RunningRelay) -> None:
    """100,000 nested brackets: an `error` sentence and 1007, not a RecursionError and 1000."""
    async with connect(
        relay.ws_url,
        additional_headers={"Authorization": f"Bearer {relay.token}"},
        max_size=None,
    ) as ws:
        await ws.send(HelloFrame(since=0).json_text())
        await ws.send("[" * 100_000 + "]" * 100_000)
        received = []
        with pytest.raises(ConnectionClosed):
            while True:
                received.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
    assert ws.close_code == 1007
    assert any(f["type"] == "error" and "nested" in f["message"] for f in received)


async def test_a_token_past_its_connection_cap_is_refused_with_429(
    relay_factory: RelayFactory,
) -> None:
    relay = await relay_factory(max_consoles_per_token=2)
    async with console(relay.ws_url, relay.token), console(relay.ws_url, relay.token):
        with pytest.raises(InvalidStatus) as refused:
            async with console(relay.ws_url, relay.token):
                pass
    assert refused.value.response.status_code == 429
    async with console(relay.ws_url, relay.token) as again:  # a slot freed: welcome again
        assert again.welcome["type"] == "welcome"
