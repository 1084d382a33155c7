"""A console is who its token says (issue 21): names, posts, acks, revocation, OAuth states."""

from __future__ import annotations

import asyncio
import json
import logging

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from kenar_core.protocol import AckFrame, HelloFrame
from kenar_core.redaction import redact
from relay.tokens import TokenBook
from tests.fixtures.relay import RelayFactory, RunningRelay
from tests.relay.helpers import console, named_token, post_json, text_event

CID = "edbb9499-cccc-4d35-b21f-621fa95f2b3e"


async def closed_with(ws_url: str, token: str, *frames: dict[str, object]) -> tuple[int, list]:
    """Send `frames`, read until the relay closes; the close code and every frame read."""
    async with connect(ws_url, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
        for frame in frames:
            await ws.send(json.dumps(frame, ensure_ascii=False))
        received = []
        with pytest.raises(ConnectionClosed):
            while True:
                received.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
    assert ws.close_code is not None
    return ws.close_code, received


async def test_a_hello_claiming_another_name_is_refused(relay: RunningRelay) -> None:
    """Alice's token saying `operator: bob` gets an error naming the rule and a 1008 close."""
    alice = named_token("alice", relay.data_dir)
    code, frames = await closed_with(
        relay.ws_url, alice, {"type": "hello", "since": 0, "operator": "bob"}
    )
    assert code == 1008
    assert frames[0]["type"] == "error" and "belongs to alice" in frames[0]["message"]


async def test_posts_and_presence_carry_the_tokens_name_whatever_the_console_says(
    relay: RunningRelay,
) -> None:
    """Notes, assignments and presence are the token's; forged author/by/keys are dropped."""
    alice = named_token("alice", relay.data_dir)
    bob = named_token("bob", relay.data_dir)
    note = {
        "kind": "note",
        "conversation_id": CID,
        "author": "bob",
        "token": "bob",
        "extra": "x" * 100,
        "data": {"text": "call tomorrow"},
    }
    take = {
        "kind": "assignment",
        "conversation_id": CID,
        "data": {"assignee": "alice", "by": "bob"},
    }
    async with console(relay.ws_url, alice) as a, console(relay.ws_url, bob) as b:
        await a.until("live")
        await b.until("live")
        assert a.welcome["operator"] == "alice"
        await a.send(type="post", ref="n-1", entry=note)
        await a.send(type="post", ref="a-1", entry=take)
        await a.send(type="presence", conversation_id=CID, state="replying")
        frames = await b.entries(2)
        presence = await b.until("presence")
    posted_note, posted_take = (f["entry"] for f in frames)
    assert posted_note["author"] == posted_note["token"] == "alice"
    assert "extra" not in posted_note
    assert posted_take["data"] == {"assignee": "alice", "by": "alice"}
    assert presence["operator"] == "alice"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"conversation_type": "POST", "body": {"type": "TEXT"}}, "not a message Kenar accepts"),
        (
            {"conversation_type": "POST", "body": {"message": "hi", "evil": 1}},
            "not a message Kenar accepts",
        ),
        ({"conversation_type": "BOT", "body": {"message": "hi"}}, "BOT"),
        ({"conversation_type": "SMS", "body": {"message": "hi"}}, "POST or BOT"),
    ],
)
async def test_a_reply_must_carry_a_valid_send_body(
    relay: RunningRelay, data: dict[str, object], words: str
) -> None:
    code, frames = await closed_with(
        relay.ws_url,
        relay.token,
        {"type": "hello", "since": 0},
        {
            "type": "post",
            "ref": "r",
            "entry": {"kind": "reply", "conversation_id": CID, "data": data},
        },
    )
    errors = [f for f in frames if f["type"] == "error"]
    assert code == 1008 and words in errors[0]["message"]
    assert relay.server.ctx is not None and await relay.server.store.head() == 0


async def test_a_valid_reply_keeps_only_the_keys_of_its_kind(relay: RunningRelay) -> None:
    reply = {
        "kind": "reply",
        "conversation_id": CID,
        "post_token": "gZd7omnS",
        "raw": {"forged": True},
        "received_at": "1999-01-01T00:00:00Z",
        "data": {"conversation_type": "POST", "body": {"message": "بله"}, "ref": "r", "x": 1},
    }
    async with console(relay.ws_url, relay.token) as client:
        await client.until("live")
        await client.send(type="post", ref="r", entry=reply)
        (frame,) = await client.entries(1)
    entry = frame["entry"]
    assert entry["data"] == {"conversation_type": "POST", "body": {"message": "بله"}, "ref": "r"}
    assert "raw" not in entry and not entry["received_at"].startswith("1999")
    assert entry["author"] == entry["token"] == relay.server.config.client_token_name


async def test_an_ack_past_what_was_sent_is_clamped(
    relay_factory: RelayFactory, http: httpx.AsyncClient
) -> None:
    """`ack seq=10^12` after two entries counts as 2: entries stored later are never purged."""
    relay = await relay_factory(purge_acknowledged=True)
    for text in ("یک", "دو"):
        sent = await post_json(
            http, relay.url + "/events", text_event(text), key=relay.identification_key
        )
        assert sent.status_code == 200
    note = {"kind": "note", "conversation_id": CID, "data": {"text": "probe"}}
    async with console(relay.ws_url, relay.token) as client:
        await client.until("live")
        await client.send(type="ack", seq=10**12)
        await client.send(type="post", ref="probe", entry=note)  # read after the ack
        assert (await client.until("posted"))["seq"] == 3
        for text in ("سه", "چهار"):
            await post_json(
                http, relay.url + "/events", text_event(text), key=relay.identification_key
            )
    assert relay.server.ctx is not None
    assert relay.server.ctx.acks.acked(relay.server.config.client_token_name) == 2
    assert await relay.server.purge_now() == 2
    assert await relay.server.store.oldest() == 3


async def test_purge_waits_for_every_console_instance_of_a_token(
    relay_factory: RelayFactory, http: httpx.AsyncClient
) -> None:
    """Two consoles on one token: one acking everything purges nothing the other lacks."""
    relay = await relay_factory(purge_acknowledged=True)
    for text in ("یک", "دو", "سه"):
        await post_json(http, relay.url + "/events", text_event(text), key=relay.identification_key)
    async with connect(
        relay.ws_url, additional_headers={"Authorization": f"Bearer {relay.token}"}
    ) as laptop:
        await laptop.send(HelloFrame(since=0, instance="laptop").json_text())
        async with connect(
            relay.ws_url, additional_headers={"Authorization": f"Bearer {relay.token}"}
        ) as desktop:
            await desktop.send(HelloFrame(since=0, instance="desktop").json_text())
            for ws in (laptop, desktop):
                while json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] != "live":
                    pass
            await laptop.send(AckFrame(seq=3).json_text())
            await desktop.send(AckFrame(seq=1).json_text())
            await desktop.send(HelloFrame(since=0).json_text())  # a reply-less probe
            await asyncio.wait_for(desktop.wait_closed(), 10)  # the probe proves acks were read
    assert await relay.server.purge_now() == 1
    assert await relay.server.store.oldest() == 2
    # The book survives a restart: a relay on the same data directory purges no more.
    book = json.loads((relay.data_dir / "acks.json").read_text())
    assert {row["instance"]: row["acked"] for row in book["instances"]} == {
        "laptop": 3,
        "desktop": 1,
    }


async def test_revoking_a_token_closes_its_open_connections(relay: RunningRelay) -> None:
    """`token revoke` rewrites the file; the open console is closed with 1008 "token revoked"."""
    alice = named_token("alice", relay.data_dir)
    async with console(relay.ws_url, alice) as client:
        await client.until("live")
        TokenBook(relay.server.config.tokens_path).revoke("alice")
        with pytest.raises(ConnectionClosed):
            await client.frame(within=10)
        assert client.ws.close_code == 1008 and client.ws.close_reason == "token revoked"
    with pytest.raises(InvalidStatus):
        async with console(relay.ws_url, alice):
            pass


async def test_a_second_console_cannot_take_over_a_live_oauth_state(
    relay: RunningRelay, http: httpx.AsyncClient
) -> None:
    """The first announcer keeps the state and gets the code; the second is told no."""
    state = "state-first-announcer-0123456789"
    mallory = named_token("mallory", relay.data_dir)
    async with (
        console(relay.ws_url, relay.token) as first,
        console(relay.ws_url, mallory) as second,
    ):
        await first.until("live")
        await second.until("live")
        await first.send(type="oauth_state", state=state)
        await first.send(type="presence", conversation_id=CID, state="viewing")
        await second.until("presence")  # the relay has handled the first announcement
        await second.send(type="oauth_state", state=state)
        refused = await second.until("oauth")
        page = await http.get(
            relay.url + "/oauth/callback", params={"state": state, "code": "c0de"}
        )
        delivered = await first.until("oauth")
    assert refused["state"] == state and "another console" in refused["error"]
    assert page.status_code == 200 and delivered["code"] == "c0de"


@pytest.mark.parametrize(
    "line",
    [
        "GET /ws?t=kr_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcd HTTP/1.1",
        "GET /ws/kr_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcd HTTP/1.1",
        "GET /x?auth=Bearer%20kr_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcd",
        "headers=[(b'authorization', b'Bearer kr_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcd')]",
        "Authorization: kr_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcd",
    ],
)
def test_relay_tokens_are_redacted_in_every_url_and_header_form(line: str) -> None:
    assert "AbCdEfGhIj" not in redact(line)


async def test_a_relay_token_in_a_request_url_never_reaches_the_log(
    relay: RunningRelay, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A token someone put in a URL, logged by the relay or uvicorn, is masked."""
    token = named_token("alice", relay.data_dir)
    caplog.set_level(logging.INFO)
    logging.getLogger("uvicorn.access").info('"GET /ws?t=%s HTTP/1.1" 404', token)
    relay.server.ctx.logger.info("console url=/ws/%s", token)  # type: ignore[union-attr]
    await http.get(relay.url + f"/ws?t={token}")
    relay_lines = [
        r.getMessage() for r in caplog.records if r.name.startswith(("kenar_relay", "uvicorn"))
    ]
    assert relay_lines and not [line for line in relay_lines if token[3:] in line]
    assert all("kr_•••" in line for line in relay_lines if "/ws" in line)


async def test_unauthenticated_websockets_are_refused_at_info_without_tracebacks(
    relay: RunningRelay, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for _ in range(3):
        with pytest.raises(InvalidStatus) as refused:
            async with connect(relay.ws_url, additional_headers={"Authorization": "Bearer nope"}):
                pass
        assert refused.value.response.status_code == 401
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not [r for r in caplog.records if r.exc_info]
