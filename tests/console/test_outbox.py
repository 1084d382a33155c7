"""The Outbox against the real sandbox: sent exactly, failed with reasons, resumed after restart."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kenar_api import Action, Button, ButtonGrid, SendMessageBody
from kenar_api.client import KenarClient
from kenar_api.scopes import can_send
from kenar_tui.inbox import Inbox
from kenar_tui.link import LinkEntry, LinkLive, RelayLink
from kenar_tui.outbox import FINAL, INTERRUPTED, Outbox, OutboxItem
from kenar_tui.sandbox import Sandbox
from kenar_tui.store import Cache
from tests.console.conftest import message_entry
from tests.fixtures.relay import RelayFactory, RunningRelay
from tests.relay.helpers import named_token

CAR = "gZd7omnS"
WAIT = 20.0


@dataclass
class Token:
    access_token: str
    scopes: tuple[str, ...]


class Credentials:
    """The two things the outbox asks of the credential store, over sandbox-issued tokens."""

    def __init__(self, api_key: str | None, *tokens: Token) -> None:
        self.api_key = api_key
        self.tokens = list(tokens)

    def token_for_send(self, cid: str, post_token: str | None) -> Token | None:
        return next((t for t in self.tokens if can_send(t.scopes, cid, post_token)), None)


async def issue(sandbox: Sandbox, *scopes: str) -> Token:
    answer = await sandbox.control.issue_token(list(scopes))
    return Token(answer["access_token"], tuple(answer["scope"].split()))


@pytest.fixture
async def kenar(sandbox: Sandbox) -> AsyncIterator[KenarClient]:
    """A Kenar client on the sandbox that does not retry by itself (the outbox does)."""
    async with KenarClient(
        sandbox.api_key, api_base=sandbox.base_url, oauth_base=sandbox.base_url, retries=0
    ) as client:
        yield client


def make_outbox(cache: Cache, kenar: KenarClient, credentials: Credentials) -> Outbox:
    return Outbox(
        cache,
        kenar=kenar,
        credentials=credentials,
        logger=logging.getLogger("tests.outbox"),
        operator="سارا",
        backoff_base=0.05,
        backoff_cap=0.2,
    )


async def settle(outbox: Outbox, ref: str, *states: str) -> OutboxItem:
    wanted = states or FINAL
    async with asyncio.timeout(WAIT):
        return await outbox.wait(ref, lambda item: item.state in wanted)


async def test_a_reply_is_sent_exactly_and_shown_sent(
    sandbox: Sandbox, kenar: KenarClient, tmp_path: Path
) -> None:
    """A reply with a button grid reaches Kenar byte for byte; it shows sending, then sent."""
    conversation = await sandbox.control.open_conversation(CAR)
    cid = conversation["id"]
    await sandbox.control.inject_message(cid, text="سلام، هنوز موجوده؟")
    credentials = Credentials(
        sandbox.api_key, await issue(sandbox, f"CHAT_POST_CONVERSATIONS_MESSAGE_SEND.{CAR}")
    )
    grid = ButtonGrid.of(
        [
            [
                Button(
                    action=Action.server({"slot": "10"}),
                    icon="CALENDAR_TEXT",
                    caption="رزرو بازدید",
                )
            ]
        ]
    )
    body = SendMessageBody(message="بله، موجوده. کی تشریف میارید؟", receiver_buttons=grid)
    seen: list[str] = []
    with Cache(tmp_path / "cache.sqlite3") as cache:
        inbox = Inbox(cache, operator="سارا")
        async with make_outbox(cache, kenar, credentials) as outbox:
            outbox.on_change = lambda item: seen.append(item.state)
            ref = await outbox.submit(cid, CAR, "POST", body)
            shown = inbox.history(cid, 0, 5)
            assert [(i.kind, i.status) for i in shown] == [("reply", "sending")]
            item = await settle(outbox, ref)
        assert item.state == "sent" and item.reason is None and item.relay_state == "skipped"
        assert seen[0] == "sending" and seen[-1] == "sent"
        assert inbox.history(cid, 0, 5)[0].status == "sent"
        assert inbox.conversation(cid).answered  # type: ignore[union-attr]
        # Divar echoes the message back as a SELLER-side NEW_MESSAGE: still shown once.
        echo = message_entry(cid, CAR, minutes_ago=0, side="SELLER", text=body.message)
        echo["received_at"] = datetime.now(UTC).isoformat()
        echo["data"]["sent_at"] = int(datetime.now(UTC).timestamp() * 1_000_000)
        assert inbox.apply(1, echo).merged
        assert inbox.history_count(cid) == 1
    sent = await sandbox.control.sent()
    assert len(sent) == 1
    assert sent[0]["conversation_id"] == cid
    assert sent[0]["body"] == body.wire()


async def test_chatbot_replies_use_the_chatbot_call(
    sandbox: Sandbox, kenar: KenarClient, tmp_path: Path
) -> None:
    """A reply in a BOT conversation goes through the chatbot API with the API key alone."""
    conversation = await sandbox.control.open_conversation(chatbot=True)
    cid = conversation["id"]
    with Cache(tmp_path / "cache.sqlite3") as cache:
        async with make_outbox(cache, kenar, Credentials(sandbox.api_key)) as outbox:
            ref = await outbox.submit(cid, None, "BOT", "سلام! چطور کمکتون کنم؟")
            item = await settle(outbox, ref)
    assert item.state == "sent"
    (sent,) = await sandbox.control.sent()
    assert sent["conversation_id"] == cid
    assert sent["body"] == {"type": "TEXT", "text_message": "سلام! چطور کمکتون کنم؟"}


async def test_no_token_for_the_post_fails_saying_how_to_log_in(
    sandbox: Sandbox, kenar: KenarClient, tmp_path: Path
) -> None:
    """Without a token covering the post, the reply fails and says which login to run."""
    conversation = await sandbox.control.open_conversation(CAR)
    other = await issue(sandbox, "CHAT_POST_CONVERSATIONS_MESSAGE_SEND.wYk3pQ9r")
    with Cache(tmp_path / "cache.sqlite3") as cache:
        inbox = Inbox(cache)
        inbox.apply(1, message_entry(conversation["id"], CAR, minutes_ago=1, text="سلام؟"))
        async with make_outbox(cache, kenar, Credentials(sandbox.api_key, other)) as outbox:
            ref = await outbox.submit(conversation["id"], CAR, "POST", "سلام")
            item = await settle(outbox, ref)
        assert item.state == "failed"
        assert item.reason is not None
        assert "no token covers this conversation" in item.reason
        assert f"kenar-tui login --post {CAR}" in item.reason
        shown = inbox.history(conversation["id"], 0, 2)[1]
        assert (shown.status, shown.error) == ("failed", item.reason)
        # A reply that did not go out does not answer the buyer.
        assert inbox.conversation(conversation["id"]).answered is False  # type: ignore[union-attr]
    assert await sandbox.control.sent() == []


async def test_a_token_kenar_refuses_fails_with_the_reason(
    sandbox: Sandbox, kenar: KenarClient, tmp_path: Path
) -> None:
    """A token Kenar refuses (401/403) fails in words, naming the login that fixes it."""
    conversation = await sandbox.control.open_conversation(CAR)
    token = await issue(sandbox, f"CHAT_POST_CONVERSATIONS_MESSAGE_SEND.{CAR}")
    await sandbox.control.revoke_access()  # the seller revokes the app: the token dies
    with Cache(tmp_path / "cache.sqlite3") as cache:
        async with make_outbox(cache, kenar, Credentials(sandbox.api_key, token)) as outbox:
            ref = await outbox.submit(conversation["id"], CAR, "POST", "سلام")
            item = await settle(outbox, ref)
    assert item.state == "failed" and item.reason is not None
    assert "Kenar refused the token" in item.reason
    assert f"kenar-tui login --post {CAR}" in item.reason


async def test_a_buyer_who_restricts_messages_fails_in_words(
    sandbox: Sandbox, kenar: KenarClient, tmp_path: Path
) -> None:
    """Kenar's 412 (code 9) fails the reply with "the buyer restricts messages", no retry."""
    conversation = await sandbox.control.open_conversation(CAR)
    cid = conversation["id"]
    await sandbox.control.set_faults(restricted=[cid])
    token = await issue(sandbox, f"CHAT_POST_CONVERSATIONS_MESSAGE_SEND.{CAR}")
    with Cache(tmp_path / "cache.sqlite3") as cache:
        async with make_outbox(cache, kenar, Credentials(sandbox.api_key, token)) as outbox:
            ref = await outbox.submit(cid, CAR, "POST", "سلام")
            item = await settle(outbox, ref)
    assert item.state == "failed"
    assert item.reason == "the buyer restricts messages: this conversation cannot be written to"
    assert item.attempts == 1


async def test_rate_limits_retry_until_sent_once(
    sandbox: Sandbox, kenar: KenarClient, tmp_path: Path
) -> None:
    """429s (Kenar did nothing) put the reply in "retrying" with the reason; then sent once."""
    conversation = await sandbox.control.open_conversation(CAR)
    cid = conversation["id"]
    token = await issue(sandbox, f"CHAT_POST_CONVERSATIONS_MESSAGE_SEND.{CAR}")
    await sandbox.control.set_faults(rate_limit_next=3, retry_after=0)
    states: list[OutboxItem] = []
    with Cache(tmp_path / "cache.sqlite3") as cache:
        async with make_outbox(cache, kenar, Credentials(sandbox.api_key, token)) as outbox:
            outbox.on_change = states.append
            ref = await outbox.submit(cid, CAR, "POST", "قیمت نهایی ۷۸۰ میلیون")
            item = await settle(outbox, ref)
    assert item.state == "sent" and item.attempts == 4
    reasons = [s.reason for s in states if s.state == "retrying"]
    assert len(reasons) == 3
    assert all(r and r.startswith("Kenar is rate limiting this app") for r in reasons)
    assert len(await sandbox.control.sent()) == 1


async def test_a_5xx_is_unknown_and_never_resent_by_itself(
    sandbox: Sandbox, kenar: KenarClient, tmp_path: Path
) -> None:
    """A 503 may come after Divar did the work: "unknown", one attempt, sent again only on r.

    (This test used to assert that the outbox retried a 5xx until it was sent: with no
    idempotency key that is a duplicate whenever the 5xx came after delivery.)
    """
    conversation = await sandbox.control.open_conversation(CAR)
    cid = conversation["id"]
    token = await issue(sandbox, f"CHAT_POST_CONVERSATIONS_MESSAGE_SEND.{CAR}")
    await sandbox.control.set_faults(error_next=1)
    with Cache(tmp_path / "cache.sqlite3") as cache:
        inbox = Inbox(cache)
        async with make_outbox(cache, kenar, Credentials(sandbox.api_key, token)) as outbox:
            ref = await outbox.submit(cid, CAR, "POST", "قیمت نهایی ۷۸۰ میلیون")
            item = await settle(outbox, ref)
            assert item.state == "unknown" and item.attempts == 1
            assert item.reason and item.reason.startswith("unknown — may have been delivered")
            assert "HTTP 503" in item.reason
            assert inbox.history(cid, 0, 1)[0].status == "unknown"
            sends = [r for r in await sandbox.control.requests() if r["path"].startswith("/v2/")]
            assert len(sends) == 1
            await outbox.retry(ref)  # the user's "send again"
            assert (await settle(outbox, ref, "sent")).attempts == 1
    assert len(await sandbox.control.sent()) == 1


async def test_the_outbox_survives_a_restart_and_sends_once(
    sandbox: Sandbox, kenar: KenarClient, tmp_path: Path
) -> None:
    """A reply still retrying when the console stops is sent by the next run, exactly once."""
    conversation = await sandbox.control.open_conversation(CAR)
    cid = conversation["id"]
    credentials = Credentials(
        sandbox.api_key, await issue(sandbox, f"CHAT_POST_CONVERSATIONS_MESSAGE_SEND.{CAR}")
    )
    path = tmp_path / "cache.sqlite3"
    await sandbox.control.set_faults(rate_limit_rate=1.0, retry_after=0)
    with Cache(path) as cache:
        outbox = Outbox(
            cache, kenar=kenar, credentials=credentials, backoff_base=30.0, backoff_cap=60.0
        )
        async with outbox:
            ref = await outbox.submit(cid, CAR, "POST", "فردا ساعت ۵ خوبه")
            item = await settle(outbox, ref, "retrying")
            assert item.next_attempt_at is not None
    await sandbox.control.reset_faults()
    assert await sandbox.control.sent() == []
    with Cache(path) as cache:
        inbox = Inbox(cache)
        assert inbox.history(cid, 0, 1)[0].status == "retrying"
        async with make_outbox(cache, kenar, credentials) as outbox:
            resumed = await outbox.resume()
            assert [r.ref for r in resumed] == [ref]
            # The stored back-off is honoured, but not 30 s here: move the next attempt up.
            outbox.rows.update(ref, next_attempt_at=None)
            item = await settle(outbox, ref)
            assert item.state == "sent"
            assert await outbox.resume() == []  # nothing left to take up
    sent = await sandbox.control.sent()
    assert [s["body"]["message"] for s in sent] == ["فردا ساعت ۵ خوبه"]


async def test_a_send_interrupted_in_flight_is_not_resent_blindly(
    sandbox: Sandbox, kenar: KenarClient, tmp_path: Path
) -> None:
    """A reply cut off mid-request may have arrived: after a restart it is unknown, with why."""
    conversation = await sandbox.control.open_conversation(CAR)
    credentials = Credentials(
        sandbox.api_key, await issue(sandbox, f"CHAT_POST_CONVERSATIONS_MESSAGE_SEND.{CAR}")
    )
    await sandbox.control.set_faults(latency=5.0)
    path = tmp_path / "cache.sqlite3"
    with Cache(path) as cache:
        outbox = Outbox(cache, kenar=kenar, credentials=credentials, close_grace=0.05)
        async with outbox:
            ref = await outbox.submit(conversation["id"], CAR, "POST", "سلام")
            await settle(outbox, ref, "sending")
            async with asyncio.timeout(WAIT):
                while outbox.item(ref).attempts == 0:  # type: ignore[union-attr]
                    await outbox.wait(ref, lambda i: i.attempts > 0)
    with Cache(path) as cache:
        async with make_outbox(cache, kenar, credentials) as outbox:
            assert await outbox.resume() == []
            item = outbox.item(ref)
            assert item is not None and item.state == "unknown" and item.reason == INTERRUPTED
            await sandbox.control.reset_faults()
            await outbox.retry(ref)
            assert (await settle(outbox, ref)).state == "sent"


async def test_bad_bodies_are_refused_before_anything_is_stored(
    sandbox: Sandbox, kenar: KenarClient, tmp_path: Path
) -> None:
    """An empty reply is refused at once with a sentence; nothing is queued."""
    from kenar_core.errors import ProtocolError

    with Cache(tmp_path / "cache.sqlite3") as cache:
        async with make_outbox(cache, kenar, Credentials(sandbox.api_key)) as outbox:
            with pytest.raises(ProtocolError, match="needs some text"):
                await outbox.submit("c", CAR, "POST", "   ")
            assert outbox.items() == []


async def test_a_sent_reply_reaches_teammates_once(
    sandbox: Sandbox, kenar: KenarClient, relay: RunningRelay, tmp_path: Path
) -> None:
    """A sent reply is posted to the relay: a teammate sees it once, by name."""
    conversation = await sandbox.control.open_conversation(CAR)
    cid = conversation["id"]
    credentials = Credentials(
        sandbox.api_key, await issue(sandbox, f"CHAT_POST_CONVERSATIONS_MESSAGE_SEND.{CAR}")
    )
    with Cache(tmp_path / "ours.sqlite3") as ours, Cache(tmp_path / "team.sqlite3") as theirs:
        inbox, teammate = Inbox(ours, operator="سارا"), Inbox(theirs, operator="علی")
        async with (
            # Each teammate connects with a token of their own (relay/hello.py).
            RelayLink(relay.ws_url, named_token("سارا", relay.data_dir), operator="سارا") as link,
            RelayLink(relay.ws_url, named_token("علی", relay.data_dir), operator="علی") as other,
        ):
            outbox = Outbox(
                cache=ours, kenar=kenar, credentials=credentials, link=link, operator="سارا"
            )
            async with outbox:
                ref = await outbox.submit(cid, CAR, "POST", "سلام، بله هنوز موجوده")
                item = await settle(outbox, ref)
                assert item.state == "sent"
                async with asyncio.timeout(WAIT):
                    posted = await outbox.wait(ref, lambda i: i.relay_state == "posted")
            assert posted.relay_state == "posted"
            async with asyncio.timeout(WAIT):
                async for event in other.events():
                    if isinstance(event, LinkEntry):
                        teammate.apply(event.seq, event.entry)
                        break
                async for event in link.events():
                    if isinstance(event, LinkEntry):
                        inbox.apply(event.seq, event.entry)
                        break
        (seen,) = teammate.history(cid, 0, 10)
        assert (seen.kind, seen.author, seen.text) == ("reply", "سارا", "سلام، بله هنوز موجوده")
        (mine,) = inbox.history(cid, 0, 10)  # our own reply back from the relay: still once
        assert (mine.status, mine.seq) == ("sent", 1)


async def test_relay_offline_the_reply_is_sent_and_posted_later(
    sandbox: Sandbox,
    kenar: KenarClient,
    relay_factory: RelayFactory,
    unused_tcp_port: int,
    tmp_path: Path,
) -> None:
    """With the relay down the reply is still "sent"; it reaches the timeline once it is back."""
    conversation = await sandbox.control.open_conversation(CAR)
    credentials = Credentials(
        sandbox.api_key, await issue(sandbox, f"CHAT_POST_CONVERSATIONS_MESSAGE_SEND.{CAR}")
    )
    token = "kr_test_" + "a" * 32
    url = f"ws://127.0.0.1:{unused_tcp_port}/ws"
    with Cache(tmp_path / "cache.sqlite3") as cache:
        async with (
            RelayLink(url, token, backoff_base=0.05, backoff_cap=0.2) as link,
            Outbox(cache, kenar=kenar, credentials=credentials, link=link) as outbox,
        ):
            ref = await outbox.submit(conversation["id"], CAR, "POST", "سلام")
            item = await settle(outbox, ref)
            assert (item.state, item.relay_state) == ("sent", "pending")
            relay = await relay_factory(port=unused_tcp_port, client_token=token)
            async with asyncio.timeout(WAIT):
                posted = await outbox.wait(ref, lambda i: i.relay_state == "posted")
    assert posted.state == "sent"
    entries = [e async for e in _entries(relay)]
    assert [e["kind"] for e in entries] == ["reply"]
    assert entries[0]["data"]["ref"] == ref


async def _entries(relay: RunningRelay) -> AsyncIterator[dict[str, Any]]:
    """What the relay's timeline holds, read as a fresh console would."""
    async with RelayLink(relay.ws_url, relay.token) as reader:
        async with asyncio.timeout(WAIT):
            async for event in reader.events():
                if isinstance(event, LinkEntry):
                    yield event.entry
                if isinstance(event, LinkLive):
                    return
