"""The relay's side of team mode: presence frames, their expiry, and what consoles may post."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from kenar_core.protocol import HelloFrame
from tests.fixtures.relay import RunningRelay
from tests.relay.helpers import Console, console, named_token
from tests.team.conftest import eventually

CID = "edbb9499-cccc-4d35-b21f-621fa95f2b3e"


async def presence_of(client: Console, state: str) -> dict[str, object]:
    """The next presence frame with this state (other frames skipped)."""
    async with asyncio.timeout(10):
        while True:
            frame = await client.until("presence")
            if frame["state"] == state:
                return frame


async def test_presence_reaches_teammates_and_clears_when_a_console_leaves(
    relay: RunningRelay,
) -> None:
    """ "Sara is replying" reaches the other console, never Sara's own; her leaving clears it."""
    async with console(relay.ws_url, named_token("رضا", relay.data_dir), operator="رضا") as reza:
        await reza.until("live")
        async with console(
            relay.ws_url, named_token("سارا", relay.data_dir), operator="سارا"
        ) as sara:
            await sara.until("live")
            await sara.send(type="presence", conversation_id=CID, state="replying")
            seen = await presence_of(reza, "replying")
        cleared = await presence_of(reza, "idle")
    assert await relay.server.store.head() == 0  # ephemeral: nothing reached the timeline
    assert seen["operator"] == "سارا" and seen["conversation_id"] == CID
    assert isinstance(seen["expires_in"], int) and seen["expires_in"] > 0
    assert cleared["operator"] == "سارا" and cleared["conversation_id"] == CID
    assert cleared["expires_in"] == 0


async def test_a_console_joining_late_gets_the_presence_snapshot_after_live(
    relay: RunningRelay,
) -> None:
    """Who is viewing what is sent to a newly connected console right after `live`."""
    async with console(relay.ws_url, named_token("سارا", relay.data_dir), operator="سارا") as sara:
        await sara.until("live")
        await sara.send(type="presence", conversation_id=CID, state="viewing")
        assert relay.server.ctx is not None
        book = relay.server.ctx.presence
        await eventually(lambda: book.count > 0, "the relay to know the presence")
        async with console(
            relay.ws_url, named_token("رضا", relay.data_dir), operator="رضا"
        ) as reza:
            frames = [await reza.frame()]
            while frames[-1]["type"] != "presence":
                frames.append(await reza.frame())
    kinds = [f["type"] for f in frames]
    assert kinds.index("live") < kinds.index("presence")
    assert frames[-1]["operator"] == "سارا" and frames[-1]["state"] == "viewing"


async def test_presence_not_refreshed_expires_with_a_clearing_frame(relay: RunningRelay) -> None:
    """A presence older than its TTL is cleared for everyone, even if its console stays."""
    assert relay.server.ctx is not None
    book = relay.server.ctx.presence
    clock = [1000.0]
    book._clock = lambda: clock[0]  # the book's clock is injected; no sleeping
    async with (
        console(relay.ws_url, named_token("سارا", relay.data_dir), operator="سارا") as sara,
        console(relay.ws_url, named_token("رضا", relay.data_dir), operator="رضا") as reza,
    ):
        await sara.until("live")
        await reza.until("live")
        await sara.send(type="presence", conversation_id=CID, state="viewing")
        await presence_of(reza, "viewing")
        assert book.sweep() == 0
        clock[0] += book.ttl + 1
        assert book.sweep() == 1
        cleared = await presence_of(reza, "idle")
    assert cleared["operator"] == "سارا"


@pytest.mark.parametrize(
    ("frame", "words"),
    [
        ({"type": "presence", "conversation_id": CID, "state": "dancing"}, "presence.state"),
        ({"type": "presence", "state": "viewing"}, "presence.conversation_id"),
        ({"type": "post", "ref": "n1", "entry": {"kind": "note", "conversation_id": CID}}, "note"),
        (
            {"type": "post", "ref": "n2", "entry": {"kind": "note", "data": {"text": "x"}}},
            "conversation_id",
        ),
        ({"type": "post", "ref": "x1", "entry": {"kind": "sticker", "data": {}}}, "reply, note"),
        (
            {
                "type": "post",
                "ref": "a1",
                "entry": {"kind": "assignment", "conversation_id": CID, "data": {"assignee": 5}},
            },
            "assignee",
        ),
    ],
)
async def test_malformed_team_frames_get_an_error_sentence(
    relay: RunningRelay, frame: dict[str, object], words: str
) -> None:
    """A bad presence, note, assignment or an unknown kind is answered by an `error` frame."""
    async with connect(
        relay.ws_url, additional_headers={"Authorization": f"Bearer {relay.token}"}
    ) as ws:
        await ws.send(HelloFrame(since=0).json_text())
        await ws.send(json.dumps(frame))
        received = []
        with pytest.raises(ConnectionClosed):
            while True:
                received.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
    errors = [f for f in received if f["type"] == "error"]
    assert errors and words in errors[0]["message"]


async def test_notes_and_assignments_carry_the_posters_name(relay: RunningRelay) -> None:
    """The relay sets `author` and an assignment's `by` from the connection, not the console."""
    async with (
        console(relay.ws_url, named_token("سارا", relay.data_dir), operator="سارا") as sara,
        console(relay.ws_url, named_token("رضا", relay.data_dir), operator="رضا") as reza,
    ):
        await sara.until("live")
        await reza.until("live")
        note = {"kind": "note", "conversation_id": CID, "data": {"text": "خریدار جدی است"}}
        take = {
            "kind": "assignment",
            "conversation_id": CID,
            "data": {"assignee": "سارا", "by": "someone-else"},
        }
        await sara.send(type="post", ref="n-1", entry=note)
        await sara.send(type="post", ref="a-1", entry=take)
        frames = await reza.entries(2)
    got_note, got_take = (f["entry"] for f in frames)
    assert got_note["kind"] == "note" and got_note["author"] == "سارا"
    assert got_note["data"] == {"text": "خریدار جدی است"}
    assert got_take["data"] == {"assignee": "سارا", "by": "سارا"}
