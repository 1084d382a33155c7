"""The buyer simulator: a seeded script, played at a rate, answering the seller."""

from __future__ import annotations

import re

from kenar_api import (
    Action,
    Button,
    ButtonGrid,
    NewMessageEvent,
    SendMessageBody,
    SubscriptionRequest,
    parse_event,
)
from kenar_api.client import KenarClient
from kenar_tui.sandbox import BuyerStep, Sandbox, buyer_script
from kenar_tui.sandbox.catalogue import POSTS
from tests.sandbox.conftest import ALL_READ, ALL_SEND, CAR, Receiver

PERSIAN = re.compile(r"[\u0600-\u06FF]")
ALL_TYPES = {"TEXT", "IMAGE", "FILE", "VOICE", "VIDEO", "LOCATION", "CONTACT"}


def test_same_seed_gives_the_same_script() -> None:
    """Two runs with one seed produce the identical buyers' script; another seed differs."""
    assert buyer_script(7, 400) == buyer_script(7, 400)
    assert buyer_script(7, 400) != buyer_script(8, 400)
    assert buyer_script(7, 50) == buyer_script(7, 400)[:50]


def test_script_is_varied_and_persian() -> None:
    """The script opens many chats on every post, uses every message type, and presses buttons."""
    script = buyer_script(3, 600)
    types = {s.message_type for s in script if s.action == "message"}
    assert types == ALL_TYPES
    assert any(s.action == "press" for s in script)
    assert any(s.chatbot for s in script)
    assert {s.post_token for s in script if s.post_token} == {p.token for p in POSTS}
    assert len({s.conversation for s in script}) > 50
    texts = [s.data["text"] for s in script if s.message_type == "TEXT"]
    assert all(PERSIAN.search(t) or t.startswith("/") for t in texts)
    openers = [s for s in script if s.new_conversation]
    assert all(s.message_type == "TEXT" for s in openers)


async def test_buyers_play_the_script_as_events(
    sandbox: Sandbox, kenar: KenarClient, receiver: Receiver
) -> None:
    """Started at a rate, buyers' messages reach the app as events from the seeded script."""
    token = await sandbox.control.issue_token([ALL_READ])
    await kenar.subscribe(
        SubscriptionRequest(event_type="NEW_MESSAGE_ON_POST"), access_token=token["access_token"]
    )
    await sandbox.control.start_buyers(200)
    await receiver.events(10)
    await sandbox.control.stop_buyers()
    state = await sandbox.control.state()
    assert state["buyers"]["running"] is False
    assert state["buyers"]["steps"] >= 10
    expected = [s for s in buyer_script(0, state["buyers"]["steps"]) if not s.chatbot]
    events = [parse_event(r.body) for r in receiver.at("/events")]
    got = [e.message for e in events if isinstance(e, NewMessageEvent)]
    # With no server-link button sent yet, a scripted press becomes a text asking again.
    assert [m.type for m in got[:5]] == [s.message_type or "TEXT" for s in expected[:5]]
    assert got[0].text == expected[0].data["text"]


async def test_buyer_answers_the_sellers_reply(
    sandbox: Sandbox, kenar: KenarClient, receiver: Receiver
) -> None:
    """While buyers run, a seller's reply in a chat gets a buyer's answer in that chat."""
    token = await sandbox.control.issue_token([ALL_READ, ALL_SEND])
    await kenar.subscribe(
        SubscriptionRequest(event_type="NEW_MESSAGE_ON_POST", event_resource_id=CAR),
        access_token=token["access_token"],
    )
    chat = await sandbox.control.inject_message(post_token=CAR, text="سلام، قیمت آخر؟")
    cid = chat["conversation_id"]
    await sandbox.control.start_buyers(100)
    for _ in range(5):
        await kenar.send_message(
            cid, SendMessageBody(message="۷۶۰ نهایی"), access_token=token["access_token"]
        )

    def answered(received: list[object]) -> bool:
        events = [parse_event(r.body) for r in receiver.at("/events")]
        return any(
            isinstance(e, NewMessageEvent)
            and e.message.conversation_id == cid
            and e.message.sender.side == "BUYER"
            and e.message.id != chat["message"]["id"]
            for e in events
        )

    await receiver.wait_for(answered)
    await sandbox.control.stop_buyers()


async def test_scripted_press_uses_the_sellers_server_link_button(
    sandbox: Sandbox, kenar: KenarClient, receiver: Receiver
) -> None:
    """A scripted press step presses the last server-link button the seller sent in that chat."""
    token = await sandbox.control.issue_token([ALL_SEND])
    step = BuyerStep(
        index=0,
        conversation=0,
        post_token=CAR,
        action="message",
        message_type="TEXT",
        data={"text": "سلام"},
        new_conversation=True,
    )
    message = await sandbox.buyers.play_step(step)
    assert message is not None
    cid = message.conversation_id
    data = {"action": "reserve", "day": "شنبه"}
    grid = ButtonGrid.of(
        [[Button(action=Action.server(data), icon="CAR_INSPECTION", caption="رزرو")]]
    )
    await kenar.send_message(
        cid,
        SendMessageBody(message="رزرو کنید", receiver_buttons=grid),
        access_token=token["access_token"],
    )
    await sandbox.buyers.play_step(
        BuyerStep(index=1, conversation=0, post_token=CAR, action="press")
    )
    (press,) = receiver.at("/start")
    assert press.body["conversation_id"] == cid
    assert press.body["extra_data"] == data
    assert press.headers["api_version"] == "2"
