"""A teammate's presence burst never disconnects the other consoles (docs/protocol.md, Presence).

Presence is state, not a log: the relay keeps only the newest presence of each teammate
connection waiting for a console, and rate-limits what one connection announces (past the
rate only its newest state is published, as soon as the rate allows). A console that reads
slowly while a teammate switches conversations thousands of times therefore stays connected
and ends with that teammate's last state.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from kenar_core.protocol import PresenceFrame
from tests.fixtures.relay import RunningRelay
from tests.relay.helpers import console, named_token

CHANGES = 5_000
WAIT = 30.0


def change(n: int) -> PresenceFrame:
    """The n-th change of a console switching conversations as fast as it can."""
    return PresenceFrame(conversation_id=f"conv-{n:05d}", state="replying" if n % 2 else "viewing")


async def test_a_5000_change_presence_burst_leaves_a_slow_reader_connected_with_the_last_state(
    relay: RunningRelay, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="kenar_relay")
    sara_token = named_token("سارا", relay.data_dir)
    reza_token = named_token("رضا", relay.data_dir)
    last = change(CHANGES - 1)
    # Reza's client buffers one frame and stops reading the socket past it: a slow reader.
    async with console(relay.ws_url, reza_token, operator="رضا", max_queue=1) as reza:
        await reza.until("live")
        async with console(relay.ws_url, sara_token, operator="سارا") as sara:
            await sara.until("live")
            for n in range(CHANGES):
                await sara.ws.send(change(n).json_text())
            # Reza reads only now, long after the burst: what Sara announced, in order.
            seen: list[dict[str, Any]] = []
            while not seen or (seen[-1]["conversation_id"], seen[-1]["state"]) != (
                last.conversation_id,
                last.state,
            ):
                frame = await reza.until("presence", within=WAIT)
                assert frame["operator"] == "سارا"
                seen.append(frame)
            # Still connected: a ping is answered after the last state.
            pong = await reza.ws.ping()
            async with asyncio.timeout(WAIT):
                await pong
    assert seen[-1]["expires_in"] > 0
    # State, not a log: far fewer frames than changes reached Reza.
    assert len(seen) < CHANGES // 10, len(seen)
    # Every move away from a conversation Reza was told about was cleared for him.
    told: str | None = None
    for frame in seen:
        if frame["state"] == "idle":
            assert frame["conversation_id"] == told
            told = None
        else:
            assert told in (None, frame["conversation_id"]), (told, frame)
            told = frame["conversation_id"]
    bursts = [r for r in caplog.records if r.getMessage().startswith("presence burst name=سارا")]
    assert len(bursts) == 1, [r.getMessage() for r in bursts]
