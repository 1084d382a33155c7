"""Timeline entries made from Divar's requests and from consoles' posts (docs/protocol.md).

An entry made from a Divar request keeps Divar's body unchanged under `raw`, beside its
normalised form under `data`. Nothing Divar sends is refused for its shape: an unknown type
or a malformed known one becomes an `unknown` entry with a reason, so Divar never retries it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from kenar_api import (
    PaymentTransactionEvent,
    PostUpdateEvent,
    ServerLinkRequest,
    UnknownEvent,
    UserAccessRevocationEvent,
    event_message,
    parse_event,
)
from kenar_core.errors import ProtocolError
from kenar_core.protocol import (
    AccessRevocationData,
    AccessRevocationEntry,
    ButtonPressedData,
    ButtonPressedEntry,
    MessageEntry,
    PaymentEntry,
    PostUpdateEntry,
    UnknownData,
    UnknownEntry,
)
from relay.config import TEMPLATE_FIELDS


@dataclass(frozen=True, slots=True)
class NewEntry:
    """An entry to append, the key it is deduplicated by, and the event type for metrics."""

    entry: dict[str, Any]
    dedupe: str | None
    event_type: str


def _unknown(reason: str, body: dict[str, Any], event_type: str | None) -> dict[str, Any]:
    return UnknownEntry(data=UnknownData(reason=reason), raw=body, event_type=event_type).wire()


def body_digest(body: Any) -> str:
    """The same for the same JSON whatever the key order: dedupes a redelivered body."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def entry_from_event(body: dict[str, Any]) -> NewEntry:
    """The entry for one authenticated webhook body (a JSON object), never refusing it."""
    raw_type = body.get("type")
    event_type = raw_type if isinstance(raw_type, str) and raw_type else None
    plain = _plain_message(body, event_type)
    if plain is not None:
        return plain
    try:
        return _normalised(body, event_type)
    except ProtocolError as exc:
        reason = str(exc)
    except Exception:  # whatever a strange body trips on, it is still kept, raw
        reason = "the body could not be normalised"
    return NewEntry(
        _unknown(reason, body, event_type), f"body:{body_digest(body)}", event_type or "none"
    )


# The chat events whose message is read by `_plain_message`, and the key it is under.
_MESSAGE_FIELD = {"NEW_MESSAGE": "new_message", "NEW_CHATBOT_MESSAGE": "new_chatbot_message"}
_MESSAGE_KEYS = frozenset({"id", "conversation", "sender", "type", "sent_at", "text"})
_CONVERSATION_KEYS = frozenset({"id", "type", "post_token"})
_SENDER_KEYS = frozenset({"side", "type"})
# sent_at in microseconds (what Divar sends): 1973 to 2255, where kenar_api reads it as is
# (it goes through a float: past 2**53 its last digits would differ from the plain path's).
_MICROS_LOW, _MICROS_HIGH = 10**14, 2**53


def _plain_message(body: dict[str, Any], event_type: str | None) -> NewEntry | None:
    """The entry of a chat event in its everyday shape, without the protocol models, or None.

    Pydantic validation of the whole event was the largest single cost of intake
    (docs/performance.md, issue 20). This reads only the shape Divar sends for a text
    message (every value a string, sent_at microseconds, no null, no extra key) and builds
    exactly what `_normalised` builds from it (tests/relay/test_plain_entries.py compares
    the two); any other shape returns None and goes through the models.
    """
    field = _MESSAGE_FIELD.get(event_type or "")
    if field is None or field not in body or not body.keys() <= {"type", "metadata", field}:
        return None
    metadata = body.get("metadata")
    message = body[field]
    if (metadata is not None and type(metadata) is not dict) or type(message) is not dict:
        return None
    keys = message.keys()
    if not keys <= _MESSAGE_KEYS or len(keys) < 5 + ("text" in keys):
        return None
    message_id, conversation, sender = message["id"], message["conversation"], message["sender"]
    kind, text = message["type"], message.get("text", "")
    if not (type(message_id) is str and type(kind) is str and type(text) is str):
        return None
    sent_at = _micros(message["sent_at"])
    if sent_at is None or type(conversation) is not dict or type(sender) is not dict:
        return None
    if not conversation.keys() <= _CONVERSATION_KEYS or not sender.keys() <= _SENDER_KEYS:
        return None
    if not all(type(v) is str for v in (*conversation.values(), *sender.values())):
        return None
    conversation_id, post_token = conversation.get("id", ""), conversation.get("post_token")
    if not conversation_id or not sender.get("side"):
        return None  # no conversation is refused, a sideless sender re-read: the models do it
    data: dict[str, Any] = {
        "id": message_id,
        "conversation": {"id": conversation_id, "type": conversation.get("type", "POST")},
        "sender": {"side": sender["side"]},
        "type": kind,
        "sent_at": sent_at,
    }
    if post_token is not None:
        data["conversation"]["post_token"] = post_token
    if "type" in sender:
        data["sender"]["type"] = sender["type"]
    if "text" in keys:
        data["text"] = text
    entry = {
        "kind": "message",
        "conversation_id": conversation_id,
        "post_token": post_token,
        "event_type": event_type,
        "data": data,
        "author": None,
        "raw": body,
    }
    assert event_type is not None
    return NewEntry(entry, f"message:{message_id}", event_type)


def _micros(value: Any) -> int | None:
    """sent_at as microseconds when it is plainly that (an int, or a string of ASCII digits)."""
    if type(value) is str and value.isascii() and value.isdigit():
        value = int(value)
    if type(value) is int and _MICROS_LOW <= value <= _MICROS_HIGH:
        return value
    return None


def _normalised(body: dict[str, Any], event_type: str | None) -> NewEntry:
    event = parse_event(body)
    message = event_message(event)
    if message is not None:
        entry = MessageEntry(
            data=message.wire(),
            raw=body,
            conversation_id=message.conversation_id,
            post_token=message.post_token,
            event_type=event_type,
        ).wire()
        return NewEntry(entry, f"message:{message.id}", event.type)
    if isinstance(event, PostUpdateEvent):
        update = event.post_update
        entry = PostUpdateEntry(
            data=update.model_dump(mode="json"),
            raw=body,
            post_token=update.post.token,
            event_type=event_type,
        ).wire()
    elif isinstance(event, UserAccessRevocationEvent):
        revoked = event.user_access_revocation
        entry = AccessRevocationEntry(
            data=AccessRevocationData(user_id=revoked.user_id), raw=body, event_type=event_type
        ).wire()
    elif isinstance(event, PaymentTransactionEvent):
        entry = PaymentEntry(data=event.transaction, raw=body, event_type=event_type).wire()
    else:
        assert isinstance(event, UnknownEvent)
        reason = f"the event type {event.type} is not known to this relay"
        entry = _unknown(reason, body, event_type)
    # Only events without a message id are deduplicated by their whole body, so the digest
    # (a sorted re-serialisation, ~10 us) is computed only for them.
    return NewEntry(entry, f"body:{body_digest(body)}", event.type)


def entry_from_button(
    request: ServerLinkRequest, body: dict[str, Any], *, api_version: int, url: str
) -> dict[str, Any]:
    """The `button_pressed` entry for a start-URL request."""
    data = ButtonPressedData.model_validate(
        {**request.model_dump(mode="json"), "api_version": api_version, "url": url}
    )
    return ButtonPressedEntry(
        data=data,
        raw=body,
        conversation_id=request.conversation_id,
        post_token=request.post_token,
    ).wire()


def render_start_url(template: str, request: ServerLinkRequest) -> str:
    """The template with the request's fields and the button's data keys, each URL-encoded.

    The button's data is `provider_data` (docs/flow/touchpoints.md) or `extra_data`
    (docs/widgets/actions/open_server_link.md); both sets of keys may be named, `extra_data`
    winning a clash, and the request's own fields win over both. A nested value is its JSON.
    """
    values: dict[str, str] = {}
    for data in (request.provider_data, request.extra_data):
        for key, value in data.items():
            values[str(key)] = _as_text(value)
    for name in TEMPLATE_FIELDS:
        values[name] = _as_text(getattr(request, name))
    return template.format_map(_Encoded(values))


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class _Encoded(dict[str, str]):
    """URL-encodes every value; a name the request does not carry becomes empty."""

    def __getitem__(self, key: str) -> str:
        return quote(super().get(key, ""), safe="")
