"""The console link's event queue is bounded: a console busy elsewhere stops the link reading
its socket (TCP pushes back on the relay) instead of queueing the whole timeline in memory;
once the console takes events again, every entry arrives, in order, once."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from kenar_tui.link import LinkEntry, RelayLink, relay_link
from relay.sqlite_store import SqliteStore
from tests.fixtures.relay import RelayFactory

BOUND = 40
ENTRIES = 400


async def test_the_link_queue_stops_at_its_bound_then_delivers_everything(
    relay_factory: RelayFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(relay_link, "EVENT_QUEUE", BOUND)
    store = SqliteStore(tmp_path / "t.sqlite3", logger=logging.getLogger("kenar_relay.t"))
    relay = await relay_factory(server_kwargs={"store": store})
    await asyncio.gather(*(store.append({"kind": "unknown", "n": n}) for n in range(ENTRIES)))
    async with RelayLink(relay.ws_url, relay.token) as link:
        queue = link._events
        async with asyncio.timeout(15):
            while queue.qsize() < BOUND:  # noqa: ASYNC110 - the link's own state, no event
                await asyncio.sleep(0.01)
        peak = 0
        for _ in range(50):  # the relay keeps sending; the queue must not grow
            peak = max(peak, queue.qsize())
            await asyncio.sleep(0.01)
        # BOUND frames from the relay, plus the link's own state changes (connecting, online).
        assert BOUND <= peak <= BOUND + 3
        seqs: list[int] = []
        async with asyncio.timeout(30):
            async for event in link.events():
                if isinstance(event, LinkEntry):
                    seqs.append(event.seq)
                    if len(seqs) == ENTRIES:
                        break
    assert seqs == list(range(1, ENTRIES + 1))
