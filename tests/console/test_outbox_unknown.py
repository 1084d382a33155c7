"""A send whose answer is lost after Divar delivered it: one copy, "unknown", then "sent".

The sandbox's `lose_answer_*` faults carry the call out (the buyer gets the message) and then
lose the answer as a dropped connection, an answer held past the client's timeout, or a
gateway's 502. Kenar has no idempotency key, so the client and the outbox must not repeat the
call: the buyer has exactly one copy, and the console says "unknown" until Divar's echo of the
message shows up in the timeline.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kenar_api import SendMessageBody
from kenar_api.client import KenarClient
from kenar_api.messages import Message
from kenar_core.errors import KenarError
from kenar_tui.inbox import Inbox
from kenar_tui.outbox import FINAL, UNKNOWN, Outbox, OutboxItem
from kenar_tui.sandbox import Sandbox
from kenar_tui.store import Cache
from tests.console.test_outbox import CAR, WAIT, Credentials, issue

TEXT = "بله، هنوز موجوده. فردا ساعت ۵ تشریف بیارید"


@pytest.fixture
async def kenar(sandbox: Sandbox) -> AsyncIterator[KenarClient]:
    """A client with its default retries and a short timeout: it must not repeat a lost POST."""
    async with KenarClient(
        sandbox.api_key, api_base=sandbox.base_url, oauth_base=sandbox.base_url, timeout=1.0
    ) as client:
        yield client


async def settle(outbox: Outbox, ref: str, *states: str) -> OutboxItem:
    wanted = states or FINAL
    async with asyncio.timeout(WAIT):
        return await outbox.wait(ref, lambda item: item.state in wanted)


async def recorded_sends(sandbox: Sandbox) -> list[dict[str, Any]]:
    """The send calls the sandbox saw; a held answer is recorded once it has been let go."""
    async with asyncio.timeout(WAIT):
        while True:
            requests = await sandbox.control.requests()
            sends = [r for r in requests if r["path"].startswith("/v2/")]
            if sends:
                return sends
            await asyncio.sleep(0.1)


def echo_entry(message: Message) -> dict[str, Any]:
    """Divar's copy of our message as the relay puts it on the timeline (docs/protocol.md)."""
    data = message.wire()
    return {
        "kind": "message",
        "received_at": datetime.now(UTC).isoformat(),
        "conversation_id": message.conversation_id,
        "post_token": CAR,
        "event_type": "NEW_MESSAGE",
        "data": data,
        "raw": {"type": "NEW_MESSAGE", "new_message": data},
    }


@pytest.mark.parametrize("lost_as", ["drop", "timeout", "gateway"])
async def test_a_lost_answer_is_unknown_until_divars_echo_shows_it_delivered(
    sandbox: Sandbox, kenar: KenarClient, tmp_path: Path, lost_as: str
) -> None:
    """The buyer gets one copy; the reply says "unknown" until the echo turns it to "sent"."""
    conversation = await sandbox.control.open_conversation(CAR)
    cid = conversation["id"]
    sender = await issue(sandbox, f"CHAT_POST_CONVERSATIONS_MESSAGE_SEND.{CAR}")
    reader = await issue(sandbox, f"CHAT_CONVERSATION_READ.{cid}")
    await sandbox.control.set_faults(lose_answer_next=1, lose_answer_as=lost_as, lose_answer_hold=3)
    with Cache(tmp_path / "cache.sqlite3") as cache:
        inbox = Inbox(cache, operator="سارا")
        async with Outbox(
            cache,
            kenar=kenar,
            credentials=Credentials(sandbox.api_key, sender),
            logger=logging.getLogger("tests.outbox"),
            backoff_base=0.05,
            backoff_cap=0.2,
        ) as outbox:
            ref = await outbox.submit(cid, CAR, "POST", TEXT)
            item = await settle(outbox, ref)
            assert item.state == "unknown" and item.attempts == 1
            assert item.reason is not None and item.reason.startswith(UNKNOWN)
            (shown,) = inbox.history(cid, 0, 5)
            assert (shown.kind, shown.status) == ("reply", "unknown")
            assert shown.error == item.reason  # the console says why, under the reply

            # The buyer has the message exactly once, and nothing asked Divar twice.
            delivered = await sandbox.control.sent()
            assert [s["body"]["message"] for s in delivered] == [TEXT]
            assert len(await recorded_sends(sandbox)) == 1

            # Divar's copy of the message appears (read back through the real read API).
            history = await kenar.get_conversation(cid, access_token=reader.access_token)
            (echo,) = [m for m in history.messages if m.text == TEXT]
            assert not echo.sender.is_buyer
            change = inbox.apply(1, echo_entry(echo))
            assert change.merged and not change.new_from_buyer
            resolved = outbox.item(ref)
            assert resolved is not None and resolved.state == "sent" and resolved.reason is None
            (shown,) = inbox.history(cid, 0, 5)
            assert shown.status == "sent"
            assert inbox.history_count(cid) == 1
            assert inbox.conversation(cid).waiting_since is None  # type: ignore[union-attr]
    assert len(await sandbox.control.sent()) == 1


async def test_send_again_after_unknown_is_the_users_choice(
    sandbox: Sandbox, kenar: KenarClient, tmp_path: Path
) -> None:
    """Sending an unknown reply again sends one more copy, and only then."""
    conversation = await sandbox.control.open_conversation(CAR)
    cid = conversation["id"]
    sender = await issue(sandbox, f"CHAT_POST_CONVERSATIONS_MESSAGE_SEND.{CAR}")
    await sandbox.control.set_faults(lose_answer_next=1, lose_answer_as="gateway")
    with Cache(tmp_path / "cache.sqlite3") as cache:
        async with Outbox(
            cache, kenar=kenar, credentials=Credentials(sandbox.api_key, sender)
        ) as outbox:
            ref = await outbox.submit(cid, CAR, "POST", TEXT)
            assert (await settle(outbox, ref)).state == "unknown"
            assert len(await sandbox.control.sent()) == 1
            assert await outbox.resume() == []  # a restart does not resend it either
            await outbox.retry(ref)
            assert (await settle(outbox, ref, "sent")).state == "sent"
    assert len(await sandbox.control.sent()) == 2


async def test_the_client_alone_never_repeats_a_post_whose_answer_was_lost(
    sandbox: Sandbox, kenar: KenarClient
) -> None:
    """With three retries allowed, a dropped answer still means one call, marked maybe_delivered."""
    conversation = await sandbox.control.open_conversation(CAR)
    sender = await issue(sandbox, f"CHAT_POST_CONVERSATIONS_MESSAGE_SEND.{CAR}")
    await sandbox.control.set_faults(lose_answer_next=1, lose_answer_as="drop")
    with pytest.raises(KenarError) as caught:
        await kenar.send_message(
            conversation["id"], SendMessageBody(message=TEXT), access_token=sender.access_token
        )
    assert caught.value.maybe_delivered
    assert len(await sandbox.control.sent()) == 1
    sends = [r for r in await sandbox.control.requests() if r["path"].startswith("/v2/")]
    assert [(r["status"], r["fault"]) for r in sends] == [(None, "lose_answer")]
