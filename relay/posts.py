"""A console's `post` checked per kind before it becomes an entry (docs/protocol.md, "Entries").

A console is not trusted to say who it is or what shape its entries have (docs/security.md):
the entry is read with the protocol's models (`kenar_core.protocol.POSTED_ENTRY`), so only the
keys a kind uses are kept; a reply's `body` must be a body Kenar would accept (the same
pydantic models the console sends with); and the relay sets `author`, `token` and an
assignment's `by` to the name the connection's token was created for.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from kenar_api.bodies import ChatbotMessageBody, SendMessageBody
from kenar_core.errors import ProtocolError
from kenar_core.protocol import (
    CONSOLE_KINDS,
    MAX_ID,
    POSTED_ENTRIES,
    POSTED_ENTRY,
    RELAY_KINDS,
    AssignmentData,
    AssignmentEntry,
    ReplyEntry,
    problem,
)


class PostRefused(ValueError):
    """A console's `post` frame that cannot become an entry; the message says why."""


# The entry keys a console may set; anything else (`raw`, `received_at`, `author`...) is dropped.
ENTRY_KEYS = ("kind", "conversation_id", "post_token", "data")
_BODY_MODELS: dict[str, type[SendMessageBody] | type[ChatbotMessageBody]] = {
    "POST": SendMessageBody,
    "BOT": ChatbotMessageBody,
}


def console_entry(posted: dict[str, Any], *, token_name: str) -> dict[str, Any]:
    """The entry for a console's `post`, posted as `token_name`; PostRefused says what is wrong."""
    posted = {key: posted[key] for key in ENTRY_KEYS if key in posted}
    kind = posted.setdefault("kind", "reply")
    if not isinstance(kind, str) or kind in RELAY_KINDS or kind not in CONSOLE_KINDS:
        if kind in RELAY_KINDS:
            raise PostRefused(f"entries of kind {kind} are made by the relay, not posted")
        raise PostRefused(f"a console posts entries of kind reply, note or assignment, not {kind}")
    try:
        entry = POSTED_ENTRY.validate_python(posted)
    except ValidationError as exc:
        raise PostRefused(f"a {kind}: {problem(exc, 'entry', POSTED_ENTRIES[kind])}") from None
    if not entry.conversation_id or len(entry.conversation_id) > MAX_ID:
        raise PostRefused(f"a {kind} belongs to a conversation: `entry.conversation_id` is needed")
    if isinstance(entry, ReplyEntry):
        model = _BODY_MODELS[entry.data.conversation_type]
        try:
            model.model_validate(entry.data.body)
        except (ValidationError, ProtocolError, ValueError):
            raise PostRefused(
                "a reply's `data.body` is not a message Kenar accepts for a "
                f"{entry.data.conversation_type} conversation"
            ) from None
    elif isinstance(entry, AssignmentEntry):
        assignee = entry.data.assignee.strip() if entry.data.assignee else None
        entry = entry.model_copy(update={"data": AssignmentData(assignee=assignee, by=token_name)})
    made = entry.model_copy(update={"author": token_name, "token": token_name})
    return made.wire()
