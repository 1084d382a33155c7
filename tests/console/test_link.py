"""RelayLink against a real relay on loopback: order, exactly once, reconnects, gaps, posts."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from kenar_core.errors import LoginError, RelayUnavailable
from kenar_tui.inbox import Inbox
from kenar_tui.link import LinkEntry, LinkEvent, LinkGap, LinkLive, LinkState, RelayLink
from kenar_tui.store import Cache
from tests.fixtures.relay import RelayFactory, RunningRelay

WAIT = 15.0
E = TypeVar("E", bound=LinkEvent)


def webhook(text: str, cid: str = "conv-1") -> dict[str, Any]:
    """A NEW_MESSAGE body as Divar posts it, with a fresh message id."""
    return {
        "type": "NEW_MESSAGE",
        "new_message": {
            "id": str(uuid.uuid4()),
            "conversation": {"id": cid, "type": "POST", "post_token": "gZd7omnS"},
            "sender": {"side": "BUYER", "type": "HUMAN"},
            "type": "TEXT",
            "sent_at": 1764066000000000,
            "text": text,
        },
    }


async def deliver(relay: RunningRelay, *texts: str) -> None:
    """Divar's side: post webhooks to the relay, each answered 2xx."""
    async with httpx.AsyncClient() as http:
        for text in texts:
            answer = await http.post(
                f"{relay.url}/events", json=webhook(text), headers=relay.headers
            )
            assert answer.status_code < 300, answer.text


class Events:
    """Reads a link's events with a timeout, never by sleeping."""

    def __init__(self, link: RelayLink) -> None:
        self.stream = link.events()
        self.seen: list[LinkEvent] = []

    async def next(self, kind: type[E]) -> E:
        async with asyncio.timeout(WAIT):
            while True:
                event = await anext(self.stream)
                self.seen.append(event)
                if isinstance(event, kind):
                    return event

    async def state(self, state: str) -> LinkState:
        while True:
            event = await self.next(LinkState)
            if event.state == state:
                return event

    async def entries(self, count: int) -> list[LinkEntry]:
        return [await self.next(LinkEntry) for _ in range(count)]


def make_link(url: str, token: str, **kwargs: Any) -> RelayLink:
    kwargs.setdefault("backoff_base", 0.05)
    kwargs.setdefault("backoff_cap", 0.2)
    return RelayLink(url, token, logger=logging.getLogger("tests.link"), **kwargs)


@pytest.fixture
async def relay(relay_factory: RelayFactory) -> RunningRelay:
    """A relay whose console token is bound to سارا: the relay accepts `hello.operator` only
    when it is the token's own name (relay/hello.py)."""
    return await relay_factory(client_token_name="سارا")


@pytest.fixture
async def link(relay: RunningRelay) -> AsyncIterator[RelayLink]:
    async with make_link(relay.ws_url, relay.token, operator="سارا") as running:
        yield running


async def test_backlog_then_live_in_seq_order(relay: RunningRelay) -> None:
    """hello carries `since`: only later entries come, in order, then `live`, then live ones."""
    await deliver(relay, "اول", "دوم", "سوم")
    async with make_link(relay.ws_url, relay.token, since=lambda: 1) as link:
        events = Events(link)
        online = await events.state("online")
        assert online.detail == f"connected to {relay.ws_url}"
        backlog = await events.entries(2)
        assert [e.seq for e in backlog] == [2, 3]
        assert [e.entry["data"]["text"] for e in backlog] == ["دوم", "سوم"]
        assert (await events.next(LinkLive)).seq == 3
        await deliver(relay, "چهارم")
        (live,) = await events.entries(1)
        assert (live.seq, live.entry["kind"]) == (4, "message")


async def test_an_unreachable_relay_is_reported_plainly(unused_tcp_port: int) -> None:
    """Nobody listening: "relay unreachable at ws://…: connection refused; retrying in …"."""
    url = f"ws://127.0.0.1:{unused_tcp_port}/ws"
    async with make_link(url, "kr_whatever") as link:
        events = Events(link)
        assert (await events.next(LinkState)).state == "connecting"
        offline = await events.state("offline")
        assert offline.detail.startswith(f"relay unreachable at {url}: connection refused;")
        assert "retrying in" in offline.detail and offline.retry_in is not None
        assert (await events.next(LinkState)).state == "connecting"  # it keeps trying
        with pytest.raises(RelayUnavailable, match="not connected"):
            await link.post({"kind": "note", "data": {"text": "x"}})


async def test_a_wrong_token_stops_and_asks_to_check_it(relay: RunningRelay) -> None:
    """A 401 is not retried: the link says "check the relay token" once and stops trying."""
    secret = "kr_wrong_" + "z" * 20
    async with make_link(relay.ws_url, secret) as link:
        events = Events(link)
        refused = await events.state("refused")
        async with asyncio.timeout(WAIT):
            await link.stopped()  # no further attempt: the run loop has ended
        assert link.state.state == "refused"
    assert refused.detail == "the relay refused the token (HTTP 401): check the relay token"
    assert [e.state for e in events.seen if isinstance(e, LinkState)] == ["connecting", "refused"]
    assert secret not in refused.detail and secret not in repr(link)


async def test_a_name_that_is_not_the_tokens_stops_and_says_why(relay: RunningRelay) -> None:
    """The relay binds each token to one name: a console that says hello as someone else is
    refused for good (1008), so the link stops instead of retrying forever."""
    async with make_link(relay.ws_url, relay.token, operator="bob") as link:
        events = Events(link)
        refused = await events.state("refused")
        async with asyncio.timeout(WAIT):
            await link.stopped()
    assert "not this relay token's name" in refused.detail
    assert "kenar-relay token create NAME" in refused.detail
    assert [e.state for e in events.seen if isinstance(e, LinkState)] == ["connecting", "refused"]


async def test_the_bare_relay_url_from_the_deploy_doc_works(relay: RunningRelay) -> None:
    """docs/deploy.md writes wss://relay.example.com (no path): the link adds the relay's /ws."""
    bare = relay.ws_url.removesuffix("/ws")
    async with make_link(bare, relay.token) as link:
        online = await Events(link).state("online")
    assert online.detail == f"connected to {relay.ws_url}"
    async with make_link(relay.url + "/", relay.token) as link:  # http://host:port/ too
        await Events(link).state("online")


async def test_a_wrong_path_names_the_cause(relay: RunningRelay) -> None:
    """A path the relay does not serve: the error names the path and where the relay listens."""
    async with make_link(relay.ws_url.removesuffix("/ws") + "/chat", relay.token) as link:
        offline = await Events(link).state("offline")
    assert "HTTP 403 at /chat/ws: nothing there accepts the console" in offline.detail
    assert "the relay's websocket is at /ws" in offline.detail


async def test_reconnects_after_the_relay_restarts_without_repeats(
    relay_factory: RelayFactory,
) -> None:
    """The relay restarts: the link says so, reconnects, and resumes after the last entry."""
    first = await relay_factory()
    port, folder = first.server.port, first.data_dir
    await deliver(first, "قبل از راه‌اندازی دوباره")
    async with make_link(first.ws_url, first.token) as link:
        events = Events(link)
        (before,) = await events.entries(1)
        await first.server.aclose()
        offline = await events.state("offline")
        assert "the relay went away" in offline.detail
        second = await relay_factory(
            data_dir=folder,
            port=port,
            identification_key=first.identification_key,
            client_token=first.token,
        )
        await events.state("online")
        await deliver(second, "بعد از راه‌اندازی دوباره")
        (after,) = await events.entries(1)
    assert (before.seq, after.seq) == (1, 2)
    assert after.entry["data"]["text"] == "بعد از راه‌اندازی دوباره"
    assert [e.seq for e in events.seen if isinstance(e, LinkEntry)] == [1, 2]


async def test_a_post_returns_its_seq_and_comes_back_as_an_entry(link: RelayLink) -> None:
    """post() waits for `posted`; the entry then arrives like any other, with our name on it."""
    events = Events(link)
    await events.state("online")
    entry = {"kind": "note", "conversation_id": "conv-1", "data": {"text": "با مشتری تماس گرفتم"}}
    seq = await link.post(entry, ref="note-1")
    (back,) = await events.entries(1)
    assert back.seq == seq
    assert back.entry["kind"] == "note" and back.entry["author"] == "سارا"


async def test_gap_is_reported_and_the_stream_continues(
    relay_factory: RelayFactory, tmp_path: Path
) -> None:
    """Entries the relay purged show as a gap, then the stream goes on from the oldest kept."""
    now = [datetime(2026, 11, 25, 10, 0, tzinfo=UTC)]
    relay = await relay_factory(retention_hours=1, server_kwargs={"clock": lambda: now[0]})
    await deliver(relay, "کهنه ۱", "کهنه ۲")
    now[0] += timedelta(hours=5)
    await deliver(relay, "تازه")
    assert await relay.server.purge_now() == 2
    with Cache(tmp_path / "cache.sqlite3") as cache:
        inbox = Inbox(cache)
        async with make_link(relay.ws_url, relay.token, since=lambda: inbox.last_seq) as link:
            events = Events(link)
            gap = await events.next(LinkGap)
            assert (gap.since, gap.oldest) == (0, 3)
            notice = inbox.note_gap(gap.since, gap.oldest)
            (fresh,) = await events.entries(1)
            inbox.apply(fresh.seq, fresh.entry)
        assert fresh.seq == 3 and inbox.last_seq == 3
        assert "1–2" in notice.text
        assert [i.text for i in inbox.history("conv-1", 0, 10)] == ["تازه"]


async def test_the_oauth_code_comes_back_through_the_relay(
    link: RelayLink, relay: RunningRelay
) -> None:
    """oauth_code(state) returns the code Divar's redirect brought to the relay for that state."""
    await Events(link).state("online")
    waiting = asyncio.create_task(link.oauth_code("state-granted-123", timeout=WAIT))
    async with httpx.AsyncClient() as http:
        async with asyncio.timeout(WAIT):
            while True:  # 400 until the relay knows the state (announced over the websocket)
                answer = await http.get(
                    f"{relay.url}/oauth/callback",
                    params={"state": "state-granted-123", "code": "c0de"},
                )
                if answer.status_code == 200:
                    break
                await asyncio.sleep(0.05)
    assert await waiting == "c0de"


async def test_a_refused_login_raises_login_error(link: RelayLink, relay: RunningRelay) -> None:
    """A redirect carrying Divar's error ends the wait with LoginError naming it."""
    await Events(link).state("online")
    waiting = asyncio.create_task(link.oauth_code("state-refused-9", timeout=WAIT))
    async with httpx.AsyncClient() as http:
        async with asyncio.timeout(WAIT):
            while True:
                answer = await http.get(
                    f"{relay.url}/oauth/callback",
                    params={"state": "state-refused-9", "error": "access_denied"},
                )
                if answer.status_code == 200:  # 400 until the relay knows the state
                    break
                await asyncio.sleep(0.05)
    with pytest.raises(LoginError, match="access_denied"):
        await waiting
