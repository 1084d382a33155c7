"""The relay as a process: kill -9 loses no acknowledged webhook; SIGTERM drains within 10 s."""

from __future__ import annotations

import asyncio
import secrets
import signal
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.relay.helpers import console
from tests.relay.process import RelayProcess, burst

pytestmark = pytest.mark.slow


async def _wait_for(condition: Callable[[], bool], within: float = 20.0) -> None:
    """Poll a condition another task changes (no event to wait on across httpx calls)."""
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def test_kill_9_mid_burst_loses_nothing_acknowledged(tmp_path: Path) -> None:
    """After kill -9 mid-burst a restart has every 2xx'd webhook; resuming gets exactly the rest."""
    key, token = "idkey-" + secrets.token_hex(8), "kr_" + secrets.token_hex(16)
    first = RelayProcess(tmp_path / "data", key, token)
    second = RelayProcess(tmp_path / "data", key, token)
    acked: dict[str, int] = {}
    try:
        await first.start()
        limits = httpx.Limits(max_connections=32)
        async with (
            httpx.AsyncClient(timeout=10, trust_env=False, limits=limits) as http,
            console(first.ws_url, token) as watcher,
        ):
            stop = asyncio.Event()
            pouring = asyncio.create_task(
                burst(http, first.url, key, workers=24, acked=acked, stop=stop)
            )
            held = await watcher.entries(40, within=30)
            await _wait_for(lambda: len(acked) >= 100)
            first.signal(signal.SIGKILL)
            await first.wait(10)
            stop.set()
            await pouring
        last_held = held[-1]["seq"]
        assert [f["seq"] for f in held] == list(range(1, last_held + 1))
        await second.start()
        async with console(second.ws_url, token, since=last_held) as resumed:
            head = resumed.welcome["head"]
            frames = await resumed.entries(head - last_held, within=30)
            live = await resumed.until("live")
        seqs = [f["seq"] for f in frames]
        assert seqs == list(range(last_held + 1, head + 1)) and live["seq"] == head
        timeline = {f["entry"]["data"]["id"]: f["seq"] for f in held + frames}
        assert len(timeline) == head  # no message twice
        for message_id, seq in acked.items():
            assert timeline.get(message_id) == seq, message_id
    finally:
        await first.stop()
        await second.stop()


async def test_sigterm_drains_closes_consoles_with_1001_and_exits(tmp_path: Path) -> None:
    """SIGTERM: requests in flight finish or get 503, consoles get 1001, exit 0 within 10 s."""
    key, token = "idkey-" + secrets.token_hex(8), "kr_" + secrets.token_hex(16)
    relay = RelayProcess(tmp_path / "data", key, token)
    again = RelayProcess(tmp_path / "data", key, token)
    acked: dict[str, int] = {}
    try:
        await relay.start()
        async with (
            httpx.AsyncClient(timeout=10, trust_env=False) as http,
            console(relay.ws_url, token) as one,
            console(relay.ws_url, token) as two,
        ):
            await one.until("live")
            await two.until("live")
            stop = asyncio.Event()
            pouring = asyncio.create_task(
                burst(http, relay.url, key, workers=8, acked=acked, stop=stop)
            )
            await _wait_for(lambda: len(acked) >= 20)
            relay.signal(signal.SIGTERM)
            codes = []
            for client in (one, two):
                with pytest.raises(ConnectionClosed):
                    while True:
                        await client.frame(within=10)
                codes.append(client.ws.close_code)
            assert await relay.wait(10) == 0
            stop.set()
            await pouring
        assert codes == [1001, 1001]
        await again.start()
        async with console(again.ws_url, token) as reader:
            frames = await reader.entries(reader.welcome["head"], within=30)
        stored = {f["entry"]["data"]["id"]: f["seq"] for f in frames}
        for message_id, seq in acked.items():
            assert stored.get(message_id) == seq
        log = relay.log.read_text()
        assert key not in log and token not in log and "انبوه" not in log
    finally:
        await relay.stop()
        await again.stop()
