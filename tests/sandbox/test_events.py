"""Divar toward the app: events to the events URL, button presses to the start URL."""

from __future__ import annotations

from typing import Any

from kenar_api import (
    Action,
    Button,
    ButtonGrid,
    NewChatbotMessageEvent,
    NewMessageEvent,
    PaymentTransactionEvent,
    PostUpdateEvent,
    SendMessageBody,
    SubscriptionRequest,
    UserAccessRevocationEvent,
    parse_event,
    parse_server_link,
)
from kenar_api.client import KenarClient
from kenar_api.serverlink import is_v2
from kenar_tui.sandbox import Sandbox
from tests.sandbox.conftest import ALL_READ, ALL_SEND, CAR, FLAT, Receiver

MEDIA_TYPES = ["IMAGE", "FILE", "VOICE", "VIDEO", "LOCATION", "CONTACT"]


async def _subscribe_all(sandbox: Sandbox, kenar: KenarClient) -> dict[str, Any]:
    # The revocation event needs NOTIFICATION_ACCESS_REVOCATION and USER_ID (docs/events/auth.md).
    token = await sandbox.control.issue_token(
        [ALL_READ, ALL_SEND, "USER_POSTS_GET", "NOTIFICATION_ACCESS_REVOCATION", "USER_ID"]
    )
    for request in (
        SubscriptionRequest(event_type="NEW_MESSAGE_ON_POST", metadata={"subscription": "all"}),
        SubscriptionRequest(event_type="POST_UPDATE"),
    ):
        await kenar.subscribe(request, access_token=token["access_token"])
    return token


async def test_receiver_gets_every_event_type_with_divars_headers(
    sandbox: Sandbox, kenar: KenarClient, receiver: Receiver
) -> None:
    """Every event type arrives as Divar sends it: Authorization = identification key, JSON."""
    token = await _subscribe_all(sandbox, kenar)
    chat = await sandbox.control.inject_message(post_token=CAR, text="سلام، هنوز هست؟")
    for kind in MEDIA_TYPES:
        await sandbox.control.inject_message(chat["conversation_id"], type=kind)
    body = SendMessageBody(message="بله، هست")
    await kenar.send_message(chat["conversation_id"], body, access_token=token["access_token"])
    await sandbox.control.inject_message(chatbot=True, text="/start")
    await sandbox.control.post_update(CAR, "RETIRE")
    await sandbox.control.payment(2_500_000, "ارتقای آگهی")
    await sandbox.control.revoke_access()

    bodies = await receiver.events(12)
    events = [parse_event(b) for b in bodies]
    for received in receiver.at("/events"):
        assert received.headers["authorization"] == sandbox.identification_key
        assert received.headers["content-type"] == "application/json"
    messages = [e for e in events if isinstance(e, NewMessageEvent)]
    assert [m.message.type for m in messages] == ["TEXT", *MEDIA_TYPES, "TEXT"]
    assert [m.message.sender.side for m in messages] == ["BUYER"] * 7 + ["SELLER"]
    # The echo of the app's own send, as docs/events/ReadMe.md's example shows it.
    assert messages[-1].message.sender.type == "BOT" and not messages[-1].message.sender.is_buyer
    assert messages[-1].message.text == "بله، هست"
    # Every other body is protobuf JSON's terse form: sent_at as a string (int64).
    assert {type(b.get("new_message", {}).get("sent_at")) for b in bodies} >= {int, str}
    assert all(m.metadata == {"subscription": "all"} for m in messages)
    assert {type(e) for e in events} == {
        NewMessageEvent,
        NewChatbotMessageEvent,
        PostUpdateEvent,
        PaymentTransactionEvent,
        UserAccessRevocationEvent,
    }
    update = next(e for e in events if isinstance(e, PostUpdateEvent))
    assert (update.post_update.type, update.post_update.post.token) == ("RETIRE", CAR)
    assert update.post_update.post.title == "پژو ۲۰۶ تیپ ۵ مدل ۱۳۹۸"


async def test_subscriptions_decide_which_messages_are_sent(
    sandbox: Sandbox, kenar: KenarClient, receiver: Receiver
) -> None:
    """Without a subscription no message event goes out; a per-post one sends only that post."""
    await sandbox.control.inject_message(post_token=CAR, text="بدون اشتراک")
    assert await sandbox.control.flush()
    assert receiver.at("/events") == []

    token = await sandbox.control.issue_token([f"CHAT_POST_CONVERSATIONS_READ.{FLAT}"])
    request = SubscriptionRequest(event_type="NEW_MESSAGE_ON_POST", event_resource_id=FLAT)
    await kenar.subscribe(request, access_token=token["access_token"])
    await sandbox.control.inject_message(post_token=CAR, text="برای ماشین")
    await sandbox.control.inject_message(post_token=FLAT, text="برای آپارتمان")
    assert await sandbox.control.flush()
    events = [parse_event(r.body) for r in receiver.at("/events")]
    assert [e.message.text for e in events if isinstance(e, NewMessageEvent)] == ["برای آپارتمان"]

    await sandbox.control.advance_clock(3601)  # the token dies, and its subscription with it
    await sandbox.control.inject_message(post_token=FLAT, text="بعد از انقضا")
    assert await sandbox.control.flush()
    assert len(receiver.at("/events")) == 1


async def test_button_press_reaches_the_start_url_in_both_shapes(
    sandbox: Sandbox, kenar: KenarClient, receiver: Receiver
) -> None:
    """A pressed server-link button POSTs to the start URL (v2 and legacy) and follows its URL."""
    chat = await sandbox.control.inject_message(post_token=CAR, text="وقت بازدید؟")
    cid = chat["conversation_id"]
    token = await sandbox.control.issue_token([ALL_SEND])
    data = {"action": "book-inspection", "slot": "2026-11-26T10:00"}
    grid = ButtonGrid.of(
        [[Button(action=Action.server(data), icon="CAR_INSPECTION", caption="رزرو بازدید")]]
    )
    body = SendMessageBody(message="برای رزرو بزنید:", receiver_buttons=grid)
    await kenar.send_message(cid, body, access_token=token["access_token"])

    v2 = await sandbox.control.press_button(cid, data)
    legacy = await sandbox.control.press_button(cid, data, legacy=True)
    for result in (v2, legacy):
        assert result["status"] == 200 and result["error"] is None
        assert result["url"] == f"{receiver.base}/landing?booked=1"
        assert result["followed"] == {"opened": True, "status": 200, "location": None}

    state = await sandbox.control.state()
    buyer_id = next(c["buyer_id"] for c in state["conversations"] if c["id"] == cid)
    first, second = receiver.at("/start")
    for received in (first, second):
        assert received.headers["authorization"] == sandbox.identification_key
        assert received.headers["content-type"] == "application/json"
    assert first.headers["api_version"] == "2"
    assert "api_version" not in second.headers
    assert is_v2(first.headers) and not is_v2(second.headers)
    assert first.body == {
        "source": "CHAT_MESSAGE_ACTION",
        "post_token": CAR,
        "conversation_id": cid,
        "user_side": "Demand",
        "extra_data": data,
        "user_id": buyer_id,
    }
    assert set(second.body) == {
        "extra_data",
        "callback_url",
        "post_token",
        "user_id",
        "peer_id",
        "supplier",
        "demand",
        "conversation_id",
    }
    assert second.body["extra_data"] == {"provider_data": data}
    normalised = [parse_server_link(r.body, v2=is_v2(r.headers)) for r in (first, second)]
    assert normalised[0].extra_data == normalised[1].extra_data == data
    assert normalised[0].user_id == normalised[1].user_id
    assert normalised[1].user_side == "Demand"


async def test_seller_side_press_and_configured_legacy_shape(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    """The seller pressing (side Supply) and a sandbox set to the legacy shape both arrive right."""
    chat = await sandbox.control.inject_message(post_token=FLAT, text="سلام")
    await sandbox.control.configure(legacy_server_link=True)
    result = await sandbox.control.press_button(chat["conversation_id"], {"k": "v"}, side="Supply")
    assert result["legacy"] is True
    state = await sandbox.control.state()
    request = receiver.at("/start")[0].body
    assert request["user_id"] == state["seller_id"] == request["supplier"]["id"]
    assert parse_server_link(request, v2=False).user_side == "Supply"


async def test_message_of_a_future_type_is_delivered_whole(
    sandbox: Sandbox, kenar: KenarClient, receiver: Receiver
) -> None:
    """A buyer message of a type Divar may add later reaches the app with its payload intact."""
    await _subscribe_all(sandbox, kenar)
    sticker = {"sticker_data": {"pack": "divar", "id": "smile-3"}}
    await sandbox.control.inject_message(post_token=CAR, type="STICKER", data=sticker)
    (body,) = await receiver.events(1)
    assert body["new_message"]["type"] == "STICKER"
    assert body["new_message"]["sticker_data"] == sticker["sticker_data"]
    event = parse_event(body)
    assert isinstance(event, NewMessageEvent)
    assert event.message.known_type is None
