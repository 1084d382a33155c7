"""Timeline entries made from Divar's requests and from consoles' posts (docs/protocol.md).

An entry made from a Divar request keeps Divar's body unchanged under `raw`, beside its
normalised form under `data`. Nothing Divar sends is refused for its shape: an unknown type
or a malformed known one becomes an `unknown` entry with a reason, so Divar never retries it.
"""

from __future__ import annotations

import hashlib
import json
import re
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
from relay.config import TEMPLATE_FIELDS

# Kinds only the relay makes; a console may not post them.
RELAY_KINDS = frozenset(
    {"message", "post_update", "access_revocation", "payment", "unknown", "button_pressed"}
)
_CONSOLE_KIND = re.compile(r"[a-z][a-z0-9_]{0,31}")
# Keys the relay sets itself on a console's entry, whatever the console sent.
_RELAY_KEYS = ("received_at", "raw", "author", "event_type")


@dataclass(frozen=True, slots=True)
class NewEntry:
    """An entry to append, the key it is deduplicated by, and the event type for metrics."""

    entry: dict[str, Any]
    dedupe: str | None
    event_type: str


def _entry(kind: str, *, data: dict[str, Any], raw: Any = None, **keys: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "kind": kind,
        "conversation_id": keys.get("conversation_id"),
        "post_token": keys.get("post_token"),
        "event_type": keys.get("event_type"),
        "data": data,
        "author": keys.get("author"),
    }
    if raw is not None:
        entry["raw"] = raw
    return entry


def body_digest(body: Any) -> str:
    """The same for the same JSON whatever the key order: dedupes a redelivered body."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def entry_from_event(body: dict[str, Any]) -> NewEntry:
    """The entry for one authenticated webhook body (a JSON object), never refusing it."""
    raw_type = body.get("type")
    event_type = raw_type if isinstance(raw_type, str) and raw_type else None
    try:
        return _normalised(body, event_type)
    except ProtocolError as exc:
        reason = str(exc)
    except Exception:  # whatever a strange body trips on, it is still kept, raw
        reason = "the body could not be normalised"
    return NewEntry(
        _entry("unknown", data={"reason": reason}, raw=body, event_type=event_type),
        f"body:{body_digest(body)}",
        event_type or "none",
    )


def _normalised(body: dict[str, Any], event_type: str | None) -> NewEntry:
    event = parse_event(body)
    message = event_message(event)
    if message is not None:
        entry = _entry(
            "message",
            data=message.wire(),
            raw=body,
            conversation_id=message.conversation_id,
            post_token=message.post_token,
            event_type=event_type,
        )
        return NewEntry(entry, f"message:{message.id}", event.type)
    if isinstance(event, PostUpdateEvent):
        update = event.post_update
        entry = _entry(
            "post_update",
            data=update.model_dump(mode="json"),
            raw=body,
            post_token=update.post.token,
            event_type=event_type,
        )
    elif isinstance(event, UserAccessRevocationEvent):
        entry = _entry(
            "access_revocation",
            data=event.user_access_revocation.model_dump(mode="json"),
            raw=body,
            event_type=event_type,
        )
    elif isinstance(event, PaymentTransactionEvent):
        entry = _entry("payment", data=event.transaction, raw=body, event_type=event_type)
    else:
        assert isinstance(event, UnknownEvent)
        reason = f"the event type {event.type} is not known to this relay"
        entry = _entry("unknown", data={"reason": reason}, raw=body, event_type=event_type)
    # Only events without a message id are deduplicated by their whole body, so the digest
    # (a sorted re-serialisation, ~10 us) is computed only for them.
    return NewEntry(entry, f"body:{body_digest(body)}", event.type)


def entry_from_button(
    request: ServerLinkRequest, body: dict[str, Any], *, api_version: int, url: str
) -> dict[str, Any]:
    """The `button_pressed` entry for a start-URL request."""
    data = {**request.model_dump(mode="json"), "api_version": api_version, "url": url}
    return _entry(
        "button_pressed",
        data=data,
        raw=body,
        conversation_id=request.conversation_id,
        post_token=request.post_token,
    )


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


# What a console may post (docs/protocol.md, "Entries").
CONSOLE_KINDS = frozenset({"reply", "note", "assignment"})
MAX_NOTE = 4096
MAX_NAME = 64


def _team_data(kind: str, cid: Any, data: dict[str, Any], author: str) -> dict[str, Any]:
    """`data` checked for its kind; an assignment's `by` is the poster, whatever was sent."""
    if kind == "reply":
        if not isinstance(data.get("body", {}), dict):
            raise PostRefused("a reply's `data.body` must be a JSON object")
        return data
    if not isinstance(cid, str) or not cid:
        raise PostRefused(f"a {kind} belongs to a conversation: `entry.conversation_id` is needed")
    if kind == "note":
        text = data.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_NOTE:
            raise PostRefused(f"a note's `data.text` must be 1 to {MAX_NOTE} characters")
        return {"text": text}
    assignee = data.get("assignee")
    if assignee is not None and (
        not isinstance(assignee, str) or not assignee.strip() or len(assignee) > MAX_NAME
    ):
        raise PostRefused("an assignment's `data.assignee` must be a name or null")
    return {"assignee": assignee.strip() if assignee else None, "by": author}


class PostRefused(ValueError):
    """A console's `post` frame that cannot become an entry; the message says why."""


def entry_from_post(posted: Any, *, author: str) -> dict[str, Any]:
    """The entry for a console's `post` frame: its own keys, with the relay's keys set."""
    if not isinstance(posted, dict):
        raise PostRefused("`entry` must be a JSON object")
    kind = posted.get("kind", "reply")
    if not isinstance(kind, str) or not _CONSOLE_KIND.fullmatch(kind):
        raise PostRefused("`entry.kind` must be a lowercase word such as reply")
    if kind in RELAY_KINDS:
        raise PostRefused(f"entries of kind {kind} are made by the relay, not posted")
    if kind not in CONSOLE_KINDS:
        raise PostRefused(f"a console posts entries of kind reply, note or assignment, not {kind}")
    for key in ("conversation_id", "post_token"):
        if posted.get(key) is not None and not isinstance(posted[key], str):
            raise PostRefused(f"`entry.{key}` must be a string or null")
    data = posted.get("data", {})
    if not isinstance(data, dict):
        raise PostRefused("`entry.data` must be a JSON object")
    data = _team_data(kind, posted.get("conversation_id"), data, author)
    entry = {key: value for key, value in posted.items() if key not in _RELAY_KEYS}
    entry.update(kind=kind, data=data, author=author, event_type=None)
    entry.setdefault("conversation_id", None)
    entry.setdefault("post_token", None)
    return entry
