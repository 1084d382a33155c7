"""Liberal parsing of events: the migration guide's spellings, unknown types, odd times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kenar_api import (
    LegacyChatMessage,
    NewMessageEvent,
    SubscriptionRequest,
    UnknownEvent,
    event_message,
    parse_event,
)
from kenar_api.buttons import Button
from kenar_api.messages import Message, parse_sent_at, to_micros
from kenar_core.errors import ProtocolError

GUIDE_NEW_MESSAGE: dict[str, Any] = {
    "type": "NEW_MESSAGE",
    "meta_data": {"your_key": "your_value"},
    "new_message": {
        "id": "e7a08a2c-8ee4-11ef-af85-4e9e9bfa3c12",
        "conversation": {
            "id": "edbb9499-cccc-4d35-b21f-621fa95f2b3e",
            "type": "POST",
            "post_token": "gZd7omnS",
        },
        "sender": {"type": "SELLER"},
        "type": "TEXT",
        "sent_at": 1729429926140000,
    },
}


def test_migration_guide_new_message_parses() -> None:
    """The guide's NEW_MESSAGE (meta_data, sender {type: SELLER}, no text) parses."""
    event = parse_event(GUIDE_NEW_MESSAGE)
    assert isinstance(event, NewMessageEvent)
    assert event.metadata == {"your_key": "your_value"}
    assert event.message.text is None
    assert event.message.preview() == ""
    assert event.message.sender.side == "SELLER"
    assert event.message.sender.type == "HUMAN"


def test_migration_guide_subscription_meta_data() -> None:
    """A subscription spelled with meta_data is read, and sent back as metadata."""
    request = SubscriptionRequest.model_validate(
        {
            "event_type": "NEW_MESSAGE_ON_POST",
            "event_resource_id": "gZd7omnS",
            "meta_data": {"k": "v"},
        }
    )
    assert request.metadata == {"k": "v"}
    assert request.wire() == {
        "event_type": "NEW_MESSAGE_ON_POST",
        "event_resource_id": "gZd7omnS",
        "metadata": {"k": "v"},
    }


def test_migration_guide_icon_name_spelling() -> None:
    """A button with the guide's icon_name is read as icon and sent back as icon."""
    button = Button.model_validate(
        {"action": {"open_direct_link": "https://example.com"}, "icon_name": "INFO", "caption": "م"}
    )
    assert button.icon == "INFO"
    assert "icon_name" not in button.model_dump(mode="json")
    both = Button.model_validate(
        {
            "action": {"open_direct_link": "https://e.com"},
            "icon": "SEND",
            "icon_name": "INFO",
            "caption": "م",
        }
    )
    assert both.icon == "SEND"


def test_migration_guide_legacy_hook_with_empty_fields() -> None:
    """The guide's CHAT_MESSAGE with empty ids and times still becomes a message."""
    body = {
        "payload": {
            "data": {"text": ""},
            "sender": {"id": "", "is_supply": False},
            "id": "",
            "metadata": {"category": "", "post_token": "", "title": ""},
            "sent_at": "",
            "receiver": {"id": "", "is_supply": True},
            "type": "TEXT",
        },
        "timestamp": "",
        "type": "CHAT_MESSAGE",
    }
    before = datetime.now(UTC)
    event = parse_event(body)
    assert isinstance(event, LegacyChatMessage)
    message = event.message
    assert message.id.startswith("legacy-msg-")
    assert message.sent_at >= before - timedelta(seconds=1)
    assert message.post_token is None


def test_legacy_media_message_keeps_its_data() -> None:
    """An old-hook IMAGE keeps its undocumented data whole instead of failing."""
    body = {
        "type": "CHAT_MESSAGE",
        "timestamp": "1729429926",
        "payload": {
            "id": "m-1",
            "type": "IMAGE",
            "data": {"image_url": "https://example.com/i.jpg"},
            "sender": {"id": "b-1", "is_supply": False},
            "metadata": {"post_token": "gZd7omnS"},
        },
    }
    message = event_message(parse_event(body))
    assert message is not None
    assert message.type == "IMAGE"
    assert message.model_extra == {"legacy_data": {"image_url": "https://example.com/i.jpg"}}
    assert message.sent_at == datetime(2024, 10, 20, 13, 12, 6, tzinfo=UTC)


def test_unknown_event_type_is_kept_whole() -> None:
    """An event type Divar adds later is kept verbatim, not rejected."""
    body = {"type": "NEW_REVIEW", "new_review": {"id": "r1", "stars": 5}, "metadata": {"a": 1}}
    event = parse_event(body)
    assert isinstance(event, UnknownEvent)
    assert event.type == "NEW_REVIEW"
    assert event.raw == body
    assert event_message(event) is None


def test_unknown_message_type_is_kept_whole() -> None:
    """A message type Divar adds later keeps every field and previews as unsupported."""
    body = {
        **GUIDE_NEW_MESSAGE,
        "new_message": {
            **GUIDE_NEW_MESSAGE["new_message"],
            "type": "STICKER",
            "sticker_data": {"pack": "p1", "id": 7},
        },
    }
    event = parse_event(body)
    assert isinstance(event, NewMessageEvent)
    assert event.message.known_type is None
    assert event.message.model_extra == {"sticker_data": {"pack": "p1", "id": 7}}
    assert event.message.preview() == "[unsupported message: STICKER]"
    assert event.message.wire()["sticker_data"] == {"pack": "p1", "id": 7}


def test_unknown_fields_are_kept() -> None:
    """Fields Divar adds to a known message survive a parse and a wire() round trip."""
    body = {
        **GUIDE_NEW_MESSAGE,
        "new_message": {**GUIDE_NEW_MESSAGE["new_message"], "reply_to": "m0"},
    }
    event = parse_event(body)
    assert isinstance(event, NewMessageEvent)
    assert event.message.wire()["reply_to"] == "m0"


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"no": "type"},
        {"type": ""},
        {"type": "NEW_MESSAGE"},
        {"type": "NEW_MESSAGE", "new_message": {"id": "x"}},
        {
            "type": "NEW_MESSAGE",
            "new_message": {**GUIDE_NEW_MESSAGE["new_message"], "sent_at": "soon"},
        },
        {"type": "CHAT_MESSAGE", "payload": {"id": "x"}},
    ],
)
def test_malformed_known_events_raise_protocol_error(body: object) -> None:
    """A malformed body raises ProtocolError with a sentence, never a bare pydantic error."""
    with pytest.raises(ProtocolError) as caught:
        parse_event(body)
    assert str(caught.value)


def test_sent_at_from_micros_number_and_string() -> None:
    """sent_at in microseconds (number or digit string) is an exact aware UTC time."""
    expected = datetime(2024, 10, 20, 13, 12, 6, 140000, tzinfo=UTC)
    assert parse_sent_at(1729429926140000) == expected
    assert parse_sent_at("1729429926140000") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-25T10:00:00Z", datetime(2026, 11, 25, 10, tzinfo=UTC)),
        ("2026-11-25T10:00:00.5z", datetime(2026, 11, 25, 10, 0, 0, 500000, tzinfo=UTC)),
        ("2026-11-25T10:00:00.123456789Z", datetime(2026, 11, 25, 10, 0, 0, 123456, tzinfo=UTC)),
        (
            "2026-11-25T13:30:00+03:30",
            datetime(2026, 11, 25, 13, 30, tzinfo=timezone(timedelta(hours=3, minutes=30))),
        ),
    ],
)
def test_sent_at_from_rfc3339(text: str, expected: datetime) -> None:
    """sent_at as RFC 3339 (the read API's form), with Z, offsets and nanoseconds."""
    parsed = parse_sent_at(text)
    assert parsed == expected
    assert parsed.tzinfo is not None


@pytest.mark.parametrize("value", ["", "soon", True, None, 10**30, "9" * 400, float("inf")])
def test_sent_at_rejects_what_is_not_a_time(value: object) -> None:
    """Garbage in sent_at is a ValueError (so a pydantic error), never an overflow crash."""
    with pytest.raises(ValueError):
        parse_sent_at(value)


@given(
    st.datetimes(
        min_value=datetime(2001, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
    )
)
def test_sent_at_micros_round_trip(moment: datetime) -> None:
    """Any time survives Message.wire() (microseconds) and a parse back, exactly."""
    message = Message.model_validate(
        {"id": "m", "conversation": {"id": "c"}, "type": "TEXT", "sent_at": moment, "text": "سلام"}
    )
    wired = message.wire()
    assert wired["sent_at"] == to_micros(moment)
    assert Message.model_validate(wired) == message
