"""A console's `post` checked per kind before it becomes an entry (docs/protocol.md, "Entries").

A console is not trusted to say who it is or what shape its entries have (docs/security.md):
only the keys a kind uses are kept, a reply's `body` must be a body Kenar would accept (the
same pydantic models the console sends with), and the relay sets `author` and `token` to the
name the connection's token was created for.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from kenar_api.bodies import ChatbotMessageBody, SendMessageBody
from kenar_core.errors import ProtocolError
from relay.entries import PostRefused, entry_from_post

# The entry keys a console may set; anything else is dropped.
ENTRY_KEYS = ("kind", "conversation_id", "post_token", "data")
REPLY_KEYS = ("conversation_type", "body", "ref")
MAX_ID = 200
_BODY_MODELS: dict[str, type[SendMessageBody] | type[ChatbotMessageBody]] = {
    "POST": SendMessageBody,
    "BOT": ChatbotMessageBody,
}


def _reply_data(data: Any, cid: Any) -> dict[str, Any]:
    if not isinstance(cid, str) or not 0 < len(cid) <= MAX_ID:
        raise PostRefused("a reply belongs to a conversation: `entry.conversation_id` is needed")
    if not isinstance(data, dict):
        raise PostRefused("`entry.data` must be a JSON object")
    kind = data.get("conversation_type", "POST")
    model = _BODY_MODELS.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise PostRefused("a reply's `data.conversation_type` is POST or BOT")
    body = data.get("body")
    if not isinstance(body, dict):
        raise PostRefused("a reply's `data.body` must be a JSON object")
    try:
        model.model_validate(body)
    except (ValidationError, ProtocolError, ValueError):
        raise PostRefused(
            f"a reply's `data.body` is not a message Kenar accepts for a {kind} conversation"
        ) from None
    ref = data.get("ref")
    if ref is not None and (not isinstance(ref, str) or len(ref) > MAX_ID):
        raise PostRefused("a reply's `data.ref` must be a short string")
    kept = {"conversation_type": kind, "body": body}
    if ref is not None:
        kept["ref"] = ref
    return kept


def console_entry(posted: Any, *, token_name: str) -> dict[str, Any]:
    """The entry for a console's `post`, posted as `token_name`; PostRefused says what is wrong."""
    if not isinstance(posted, dict):
        raise PostRefused("`entry` must be a JSON object")
    entry = {key: posted[key] for key in ENTRY_KEYS if key in posted}
    if entry.get("kind", "reply") == "reply":
        entry["data"] = _reply_data(entry.get("data"), entry.get("conversation_id"))
    made = entry_from_post(entry, author=token_name)
    made["token"] = token_name
    return made
