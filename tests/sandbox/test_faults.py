"""Faults on demand behave as configured, on the API and on webhook deliveries."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from kenar_api import NewMessageEvent, SendMessageBody, SubscriptionRequest, parse_event
from kenar_api.bodies import SubscriptionEventType
from kenar_api.client import KenarClient
from kenar_core.errors import KenarTimeout, RecipientRestricted, ServerError, TransportError
from kenar_tui.sandbox import Sandbox
from tests.sandbox.conftest import ALL_READ, ALL_SEND, CAR, Receiver

BODY = SendMessageBody(message="بله، موجوده")


class SleepLog:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
async def sleeps() -> SleepLog:
    return SleepLog()


@pytest.fixture
async def patient(sandbox: Sandbox, sleeps: SleepLog) -> AsyncIterator[KenarClient]:
    """A client whose back-off waits are recorded instead of slept."""
    async with KenarClient(
        sandbox.api_key, api_base=sandbox.base_url, retries=2, sleep=sleeps
    ) as client:
        yield client


async def _token(sandbox: Sandbox) -> str:
    token: str = (await sandbox.control.issue_token([ALL_SEND]))["access_token"]
    return token


async def _send_statuses(sandbox: Sandbox) -> list[tuple[Any, Any]]:
    return [
        (r["status"], r["fault"])
        for r in await sandbox.control.requests()
        if r["path"].startswith("/v2/")
    ]


async def test_a_5xx_on_a_send_is_final_and_maybe_delivered(
    sandbox: Sandbox, patient: KenarClient, chat: dict[str, Any]
) -> None:
    """With error_next=1 the call answers 503; the client cannot tell it was before the work,
    so it does not repeat the send (docs/chat/users_conversations.md: no idempotency key)."""
    token = await _token(sandbox)
    await sandbox.control.set_faults(error_next=1)
    with pytest.raises(ServerError) as caught:
        await patient.send_message(chat["conversation_id"], BODY, access_token=token)
    assert caught.value.maybe_delivered
    assert await _send_statuses(sandbox) == [(503, "error")]
    assert await sandbox.control.sent() == []


async def test_429_carries_retry_after(
    sandbox: Sandbox, patient: KenarClient, sleeps: SleepLog, chat: dict[str, Any]
) -> None:
    """A 429 fault says Retry-After; the client waits exactly that long before trying again."""
    token = await _token(sandbox)
    await sandbox.control.set_faults(rate_limit_next=1, retry_after=7)
    await patient.send_message(chat["conversation_id"], BODY, access_token=token)
    assert sleeps.waits == [7.0]
    assert await _send_statuses(sandbox) == [(429, "rate_limit"), (200, None)]


async def test_dropped_connection_closes_without_an_answer(
    sandbox: Sandbox, patient: KenarClient, chat: dict[str, Any]
) -> None:
    """A dropped call gets no HTTP answer at all; the client does not repeat the send."""
    token = await _token(sandbox)
    await sandbox.control.set_faults(drop_next=1)
    url = f"{sandbox.base_url}/v2/open-platform/conversations/{chat['conversation_id']}/messages"
    async with httpx.AsyncClient() as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.post(url, json=BODY.wire(), headers={"X-API-Key": sandbox.api_key})
    await sandbox.control.set_faults(drop_next=1)
    with pytest.raises(TransportError) as caught:
        await patient.send_message(chat["conversation_id"], BODY, access_token=token)
    assert caught.value.maybe_delivered
    assert await _send_statuses(sandbox) == [(None, "drop"), (None, "drop")]


async def test_error_share_of_one_exhausts_the_retries(
    sandbox: Sandbox, patient: KenarClient, chat: dict[str, Any]
) -> None:
    """error_rate=1 fails every call: a read gives up with ServerError after its retries."""
    token = (await sandbox.control.issue_token([ALL_READ]))["access_token"]
    await sandbox.control.set_faults(error_rate=1.0)
    with pytest.raises(ServerError):
        await patient.get_conversation(chat["conversation_id"], access_token=token)
    reads = [
        r
        for r in await sandbox.control.requests()
        if r["path"].startswith("/v1/open-platform/chat/conversations/")
    ]
    assert len(reads) == 3


async def test_added_latency_trips_a_client_timeout(sandbox: Sandbox, chat: dict[str, Any]) -> None:
    """Latency longer than the client's timeout surfaces as KenarTimeout."""
    token = await _token(sandbox)
    await sandbox.control.set_faults(latency=1.0)
    async with KenarClient(
        sandbox.api_key, api_base=sandbox.base_url, retries=0, timeout=0.1
    ) as hasty:
        with pytest.raises(KenarTimeout):
            await hasty.send_message(chat["conversation_id"], BODY, access_token=token)
    await sandbox.control.reset_faults()


async def test_restricted_fault_answers_412(
    sandbox: Sandbox, patient: KenarClient, chat: dict[str, Any]
) -> None:
    """A conversation named in the restricted fault answers sends with 412 code 9."""
    token = await _token(sandbox)
    await sandbox.control.set_faults(restricted=[chat["conversation_id"]])
    with pytest.raises(RecipientRestricted):
        await patient.send_message(chat["conversation_id"], BODY, access_token=token)


async def _subscribe(sandbox: Sandbox, kenar: KenarClient) -> None:
    token = await sandbox.control.issue_token([ALL_READ])
    request = SubscriptionRequest(event_type=SubscriptionEventType.NEW_MESSAGE_ON_POST)
    await kenar.subscribe(request, access_token=token["access_token"])


async def test_webhook_is_retried_until_the_app_answers_2xx(
    sandbox: Sandbox, kenar: KenarClient, receiver: Receiver
) -> None:
    """An event the app answers 500 then 503 is sent again with back-off, then delivered."""
    await _subscribe(sandbox, kenar)
    await sandbox.control.set_faults(delivery_backoff=0.01)
    receiver.event_statuses = [500, 503]
    await sandbox.control.inject_message(post_token=CAR, text="سلام")
    assert await sandbox.control.flush()
    (delivery,) = await sandbox.control.deliveries()
    assert delivery["state"] == "delivered"
    assert [a["status"] for a in delivery["attempts"]] == [500, 503, 200]
    bodies = [r.body for r in receiver.at("/events")]
    assert bodies[0] == bodies[1] == bodies[2]


async def test_webhook_gives_up_after_the_retries(
    sandbox: Sandbox, kenar: KenarClient, receiver: Receiver
) -> None:
    """With one retry allowed, an app that keeps failing sees two attempts, then none."""
    await _subscribe(sandbox, kenar)
    await sandbox.control.set_faults(delivery_backoff=0.01, delivery_retries=1)
    receiver.event_statuses = [500, 500, 500]
    await sandbox.control.inject_message(post_token=CAR, text="سلام")
    assert await sandbox.control.flush()
    (delivery,) = await sandbox.control.deliveries()
    assert (delivery["state"], len(delivery["attempts"])) == ("failed", 2)
    assert (await sandbox.control.state())["deliveries"]["failed"] == 1


async def test_duplicate_and_out_of_order_webhooks(
    sandbox: Sandbox, kenar: KenarClient, receiver: Receiver
) -> None:
    """duplicate_rate=1 sends each event twice; reorder_rate=1 lets the next event overtake."""
    await _subscribe(sandbox, kenar)
    await sandbox.control.set_faults(duplicate_rate=1.0)
    await sandbox.control.inject_message(post_token=CAR, text="یک")
    assert await sandbox.control.flush()
    first, again = receiver.at("/events")
    assert first.body == again.body

    await sandbox.control.set_faults(duplicate_rate=0.0, reorder_rate=1.0, reorder_hold=10.0)
    await sandbox.control.inject_message(post_token=CAR, text="دو")
    await sandbox.control.inject_message(post_token=CAR, text="سه")
    events = [parse_event(b) for b in await receiver.events(4)]
    texts = [e.message.text for e in events if isinstance(e, NewMessageEvent)]
    assert texts == ["یک", "یک", "سه", "دو"]
