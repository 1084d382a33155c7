"""Every sample body in tests/data/kenar/samples/ parses into the right model."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from kenar_api import (
    LegacyChatMessage,
    NewChatbotMessageEvent,
    NewMessageEvent,
    PostUpdateEvent,
    SendMessageBody,
    SubscriptionRequest,
    UserAccessRevocationEvent,
    event_message,
    parse_event,
    parse_server_link,
)
from kenar_api.buttons import Action, OpenServerLink
from kenar_api.messages import MessageType
from tests.kenar.conftest import load

SENT = datetime(2024, 10, 20, 13, 12, 6, 140000, tzinfo=UTC)
CONV = "edbb9499-cccc-4d35-b21f-621fa95f2b3e"


def test_every_sample_is_covered_by_a_test(samples: Path) -> None:
    """No sample is left unparsed: the list below names each file in the folder."""
    covered = {
        "event-new-chatbot-message.json",
        "event-new-message-contact.json",
        "event-new-message-file.json",
        "event-new-message-image.json",
        "event-new-message-location.json",
        "event-new-message-text.json",
        "event-new-message-video.json",
        "event-new-message-voice.json",
        "event-post-update.json",
        "event-user-access-revocation.json",
        "legacy-chat-message.json",
        "send-message-request.json",
        "server-link-legacy.json",
        "server-link-v2.json",
        "subscription-request.json",
    }
    assert {p.name for p in samples.glob("*.json")} == covered


def test_new_message_text(samples: Path) -> None:
    """A buyer's Persian text message parses with its conversation, post, side and time."""
    event = parse_event(load(samples / "event-new-message-text.json"))
    assert isinstance(event, NewMessageEvent)
    assert event.metadata == {"subscription": "post-gZd7omnS"}
    message = event.message
    assert message.known_type is MessageType.TEXT
    assert message.text == "سلام، این خودرو هنوز موجود است؟"
    assert (message.conversation_id, message.post_token) == (CONV, "gZd7omnS")
    assert message.sender.side == "BUYER" and message.sender.is_buyer
    assert message.sent_at == SENT
    assert event_message(event) is message


@pytest.mark.parametrize(
    ("name", "kind", "check"),
    [
        ("image", MessageType.IMAGE, lambda m: (m.image_data.width_px, m.image_data.height_px)),
        ("file", MessageType.FILE, lambda m: (m.file_data.name, m.file_data.size_bytes)),
        ("voice", MessageType.VOICE, lambda m: (m.voice_data.link, m.voice_data.size_bytes)),
        ("location", MessageType.LOCATION, lambda m: (m.location_data.latitude,)),
        ("video", MessageType.VIDEO, lambda m: (m.video_data.thumbnail_link,)),
        ("contact", MessageType.CONTACT, lambda m: (m.contact_data.name, m.contact_data.phone)),
    ],
)
def test_new_message_media_types(
    samples: Path, name: str, kind: MessageType, check: object
) -> None:
    """Each of the seven message types parses into its own data shape."""
    expected = {
        "image": (1920, 1080),
        "file": ("document.pdf", 1048576),
        "voice": ("https://example.com/voice/message.ogg", 512000),
        "location": (35.6892,),
        "video": ("https://example.com/videos/thumbnail.jpg",),
        "contact": ("Sample Name", "+989123456789"),
    }[name]
    event = parse_event(load(samples / f"event-new-message-{name}.json"))
    assert isinstance(event, NewMessageEvent)
    assert event.message.known_type is kind
    assert check(event.message) == expected  # type: ignore[operator]
    assert event.message.preview().startswith(f"[{name}]")


def test_file_message_from_the_seller(samples: Path) -> None:
    """The seller's own message is marked as the seller's side."""
    event = parse_event(load(samples / "event-new-message-file.json"))
    assert isinstance(event, NewMessageEvent)
    assert event.message.sender.side == "SELLER"
    assert not event.message.sender.is_buyer


def test_new_chatbot_message(samples: Path) -> None:
    """A chatbot message parses into a BOT conversation from the user."""
    event = parse_event(load(samples / "event-new-chatbot-message.json"))
    assert isinstance(event, NewChatbotMessageEvent)
    assert event.message.conversation.is_bot
    assert event.message.text == "/start MY_POST gZd7omnS"
    assert event.message.sender.is_buyer
    assert event_message(event) is event.message


def test_post_update(samples: Path) -> None:
    """A post update carries the post's token, category and Persian title; extras are kept."""
    event = parse_event(load(samples / "event-post-update.json"))
    assert isinstance(event, PostUpdateEvent)
    assert event.post_update.type == "PUBLISH"
    post = event.post_update.post
    assert (post.token, post.category, post.city) == ("gZd7omnS", "light", "tehran")
    assert post.title == "پژو ۲۰۶ تیپ ۵ مدل ۱۳۹۸"
    assert post.chat_enabled is True
    assert event_message(event) is None


def test_user_access_revocation(samples: Path) -> None:
    """A revocation names the user whose tokens are gone."""
    event = parse_event(load(samples / "event-user-access-revocation.json"))
    assert isinstance(event, UserAccessRevocationEvent)
    assert event.user_access_revocation.user_id.startswith("6GqmD76dle5")


def test_legacy_chat_message_is_normalised(samples: Path) -> None:
    """The old CHAT_MESSAGE hook becomes a current Message with a stable conversation key."""
    event = parse_event(load(samples / "legacy-chat-message.json"))
    assert isinstance(event, LegacyChatMessage)
    assert (event.post_token, event.buyer_id) == ("gZd7omnS", "buyer-7f3a")
    message = event_message(event)
    assert message is not None
    assert message.text == "قیمت نهایی چند است؟"
    assert message.id == "9b8c7d6e-0000-4000-8000-000000000001"
    assert message.post_token == "gZd7omnS"
    assert message.sender.side == "BUYER"
    assert message.sent_at == SENT
    assert message.conversation_id.startswith("legacy-")


def test_legacy_conversation_key_is_the_same_both_ways(samples: Path) -> None:
    """The seller's legacy reply lands in the same conversation as the buyer's message."""
    body = load(samples / "legacy-chat-message.json")
    payload = body["payload"]
    reply = {
        **body,
        "payload": {
            **payload,
            "id": "9b8c7d6e-0000-4000-8000-000000000002",
            "data": {"text": "۴۵۰ میلیون"},
            "sender": payload["receiver"],
            "receiver": payload["sender"],
        },
    }
    first, second = event_message(parse_event(body)), event_message(parse_event(reply))
    assert first is not None and second is not None
    assert first.conversation_id == second.conversation_id
    assert second.sender.side == "SELLER"
    other_post = {**body, "payload": {**payload, "metadata": {"post_token": "AAAAAAAA"}}}
    third = event_message(parse_event(other_post))
    assert third is not None and third.conversation_id != first.conversation_id


def test_send_message_request_sample(samples: Path) -> None:
    """The documented send body parses, and what we would send is exactly the sample."""
    body = load(samples / "send-message-request.json")
    model = SendMessageBody.model_validate(body)
    assert model.sender_buttons is not None and model.receiver_buttons is not None
    first = model.receiver_buttons.rows[0].buttons[0]
    assert first.icon == "CAR_INSPECTION"
    data = {"action": "book-inspection", "slot": "2026-11-26T10:00"}
    assert first.action == Action(open_server_link=OpenServerLink(data=data))
    assert model.wire() == body


def test_server_link_v2(samples: Path) -> None:
    """A start-URL request with API_VERSION 2 parses as the current shape."""
    request = parse_server_link(load(samples / "server-link-v2.json"), v2=True)
    assert request.source == "CHAT_MESSAGE_ACTION"
    assert (request.post_token, request.conversation_id) == ("gZd7omnS", CONV)
    assert request.user_side == "Demand"
    assert request.extra_data == {"action": "book-inspection", "slot": "2026-11-26T10:00"}


def test_server_link_legacy(samples: Path) -> None:
    """The legacy start-URL request is normalised: provider_data becomes extra_data."""
    request = parse_server_link(load(samples / "server-link-legacy.json"), v2=False)
    assert request.extra_data == {"action": "book-inspection"}
    assert request.conversation_id == CONV
    assert request.user_side == "Demand"
    assert request.user_id == "buyer-7f3a"


def test_subscription_request_sample(samples: Path) -> None:
    """The subscription sample parses and is sent back unchanged."""
    body = load(samples / "subscription-request.json")
    model = SubscriptionRequest.model_validate(body)
    assert model.event_type == "NEW_MESSAGE_ON_POST"
    assert model.wire() == body
