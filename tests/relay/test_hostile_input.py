"""Hostile requests get their 4xx, are refused before being read whole, and never stall others."""

from __future__ import annotations

import asyncio
import contextlib
import json

import httpx
import pytest

from tests.fixtures.relay import RelayFactory, RunningRelay
from tests.relay.helpers import post_json, text_event


async def _raw_request(port: int, head: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head.encode("latin-1"))
    await writer.drain()
    return reader, writer


def _head(relay: RunningRelay, *, length: int | None = None, chunked: bool = False) -> str:
    lines = [
        "POST /events HTTP/1.1",
        f"Host: 127.0.0.1:{relay.server.port}",
        f"Authorization: {relay.identification_key}",
        "Content-Type: application/json",
    ]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    return "\r\n".join(lines) + "\r\n\r\n"


async def _status(reader: asyncio.StreamReader) -> int:
    async with asyncio.timeout(15):
        line = await reader.readline()
    return int(line.split()[1])


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(ConnectionError, OSError):
        await writer.wait_closed()


async def test_deep_nesting_and_invalid_utf8_get_400(
    relay: RunningRelay, http: httpx.AsyncClient
) -> None:
    """10,000-deep JSON, too deep, invalid UTF-8, NaN, a lone surrogate: 400, nothing stored."""
    url, key = relay.url + "/events", relay.identification_key
    deep = ("[" * 10_000 + "]" * 10_000).encode()
    past_limit = {"type": "NEW_MESSAGE", "x": json.loads("[" * 70 + "]" * 70)}
    bodies = [
        deep,
        json.dumps(past_limit).encode(),
        b'{"type": "NEW_MESSAGE", "text": "\xff\xfe"}',
        b'{"type": "NEW_MESSAGE", "n": NaN}',
        b'{"type": "NEW_MESSAGE", "t": "\\ud800"}',
        b"",
    ]
    for body in bodies:
        answer = await post_json(http, url, body, key=key)
        assert answer.status_code == 400, body[:40]
        assert answer.json()["error"]
    assert await relay.server.store.head() == 0


@pytest.mark.parametrize(
    "variant",
    ["empty", "longer", "shorter", "bearer", "case", "space-inside"],
)
async def test_every_wrong_key_gets_401(
    relay: RunningRelay, http: httpx.AsyncClient, variant: str
) -> None:
    """A key that is empty, longer, shorter, Bearer-prefixed or otherwise altered is refused."""
    key = relay.identification_key
    wrong = {
        "empty": "",
        "longer": key + "0",
        "shorter": key[:-1],
        "bearer": f"Bearer {key}",
        "case": key.upper(),
        "space-inside": key[:5] + " " + key[5:],
    }[variant]
    answer = await post_json(http, relay.url + "/events", text_event(), key=wrong)
    assert answer.status_code == 401
    assert await relay.server.store.head() == 0


async def test_a_declared_oversize_body_is_refused_before_it_is_sent(relay: RunningRelay) -> None:
    """Content-Length over the limit: 413 comes back without a byte of the body sent."""
    reader, writer = await _raw_request(relay.server.port, _head(relay, length=10 * 1024**3))
    try:
        assert await _status(reader) == 413
    finally:
        await _close(writer)


async def test_a_chunked_oversize_body_is_refused_while_streaming(relay: RunningRelay) -> None:
    """Without a length, 413 comes once the count passes the limit, before the sender is done."""
    reader, writer = await _raw_request(relay.server.port, _head(relay, chunked=True))
    try:
        chunk = b"a" * 65536
        for _ in range(6):  # 384 KiB of an endless body, then wait for the verdict
            writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        await writer.drain()
        assert await _status(reader) == 413
    finally:
        await _close(writer)
    assert await relay.server.store.head() == 0


async def test_a_short_lying_content_length_is_read_as_declared(relay: RunningRelay) -> None:
    """A length smaller than the body: the declared bytes alone are judged (not JSON here): 400."""
    body = json.dumps(text_event()).encode()
    reader, writer = await _raw_request(relay.server.port, _head(relay, length=10))
    try:
        writer.write(body)
        await writer.drain()
        assert await _status(reader) == 400
    finally:
        await _close(writer)
    assert await relay.server.store.head() == 0


async def test_drips_and_long_lying_lengths_time_out_while_valid_traffic_flows(
    relay_factory: RelayFactory, http: httpx.AsyncClient
) -> None:
    """A body dripping one byte at a time, and a length promising more than comes, get 408;
    webhooks sent meanwhile are stored."""
    relay = await relay_factory(body_timeout=1.0)
    body = json.dumps(text_event("قطره‌قطره")).encode()
    drip_reader, drip_writer = await _raw_request(relay.server.port, _head(relay, length=len(body)))
    liar_reader, liar_writer = await _raw_request(
        relay.server.port, _head(relay, length=len(body) + 500)
    )
    liar_writer.write(body)
    await liar_writer.drain()

    async def drip() -> None:
        for byte in body:
            drip_writer.write(bytes([byte]))
            await drip_writer.drain()
            await asyncio.sleep(0.25)

    dripping = asyncio.create_task(drip())
    try:
        stored = []
        for index in range(5):
            answer = await post_json(
                http,
                relay.url + "/events",
                text_event(f"روان {index}"),
                key=relay.identification_key,
            )
            stored.append(answer.status_code)
        assert stored == [200] * 5
        assert await _status(drip_reader) == 408
        assert await _status(liar_reader) == 408
    finally:
        dripping.cancel()
        with pytest.raises((asyncio.CancelledError, ConnectionError)):
            await dripping
        await _close(drip_writer)
        await _close(liar_writer)
    assert await relay.server.store.head() == 5


async def test_only_allowed_addresses_may_post(
    relay_factory: RelayFactory, http: httpx.AsyncClient
) -> None:
    """--allow-ip refuses others with 403; X-Forwarded-For counts only from a trusted proxy."""
    closed = await relay_factory(allow_ip="10.0.0.0/8")
    answer = await post_json(
        http, closed.url + "/events", text_event(), key=closed.identification_key
    )
    assert answer.status_code == 403
    spoof = await post_json(
        http,
        closed.url + "/events",
        text_event(),
        key=closed.identification_key,
        headers={"X-Forwarded-For": "10.1.2.3"},
    )
    assert spoof.status_code == 403
    proxied = await relay_factory(allow_ip="divar", trusted_proxies="127.0.0.1")
    through = await post_json(
        http,
        proxied.url + "/events",
        text_event(),
        key=proxied.identification_key,
        headers={"X-Forwarded-For": "203.0.113.9, 78.111.6.42"},
    )
    outsider = await post_json(
        http,
        proxied.url + "/events",
        text_event(),
        key=proxied.identification_key,
        headers={"X-Forwarded-For": "203.0.113.9"},
    )
    assert (through.status_code, outsider.status_code) == (200, 403)
