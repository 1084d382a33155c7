"""A console that does not read cannot make the relay buffer its catch-up without limit.

The relay writes entry frames straight to uvicorn's connection (relay/wire.py) and waits while
the transport's buffer is over HIGH_WATER, read through asyncio's public API. The first test
fails when uvicorn's internals move so that the fast path no longer attaches (then the relay
falls back to ASGI sends; the bound below would then be uvicorn's to keep).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from kenar_core.protocol import HelloFrame
from relay import session
from relay.sqlite_store import SqliteStore
from relay.wire import HIGH_WATER, FrameWriter
from tests.fixtures.relay import RelayFactory

ENTRY_TEXT = "ب" * 4000  # ~8 KB per entry frame
ENTRIES = 3000  # ~24 MB of catch-up, far over any socket buffer
BATCH_BYTES = 500 * 9000  # the store reads 500 entries at a time


@pytest.fixture
def writers(monkeypatch: pytest.MonkeyPatch) -> list[FrameWriter | None]:
    """Every FrameWriter the relay's sessions attach (a spy: the real attach runs)."""
    found: list[FrameWriter | None] = []
    real = FrameWriter.attach

    def spying(scope: Any) -> FrameWriter | None:
        writer = real(scope)
        found.append(writer)
        return writer

    monkeypatch.setattr(session.FrameWriter, "attach", staticmethod(spying))
    return found


async def test_a_console_that_never_reads_holds_a_bounded_buffer(
    relay_factory: RelayFactory, tmp_path: Path, writers: list[FrameWriter | None]
) -> None:
    store = SqliteStore(tmp_path / "slow.sqlite3", logger=logging.getLogger("kenar_relay.t"))
    relay = await relay_factory(server_kwargs={"store": store}, ping_interval=60, ping_timeout=60)
    for start in range(0, ENTRIES, 500):
        await asyncio.gather(
            *(
                store.append({"kind": "unknown", "text": ENTRY_TEXT, "n": n})
                for n in range(start, start + 500)
            )
        )
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", int(relay.url.rsplit(":", 1)[1])))
    async with connect(
        relay.ws_url,
        sock=sock,
        additional_headers={"Authorization": f"Bearer {relay.token}"},
        max_queue=1,
    ) as ws:
        await ws.send(HelloFrame(since=0).json_text())
        async with asyncio.timeout(20):
            # Polling the server's state (no event to wait on), bounded by the timeout.
            while not writers:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
            writer = writers[0]
            assert writer is not None, "uvicorn's connection no longer fits relay/wire.py"
            while writer.buffered < HIGH_WATER:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        peak = 0
        for _ in range(100):  # watch the stalled catch-up for a while
            peak = max(peak, writer.buffered)
            await asyncio.sleep(0.01)
        assert writer.open
    assert HIGH_WATER <= peak < HIGH_WATER + BATCH_BYTES < ENTRIES * 8000
