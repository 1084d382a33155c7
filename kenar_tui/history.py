"""How the console shows one timeline item: `HistoryItem`, built from stored rows.

Kept apart from the Inbox so the rules for each kind (what text a button press, a post
update or an unsupported entry reads as) live in one place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from kenar_api.messages import Message, MessageType
from kenar_tui.media.sending import media_label
from kenar_tui.store import ItemRow, NoticeRow, OutboxRow, from_micros
from kenar_tui.team import assignment_text


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """One line of a conversation's history (or a notice), ready to render."""

    seq: int | None
    at: datetime
    # message | reply | button_pressed | post_update | note | assignment | unknown;
    # notices: access_revocation | payment | gap | post_update | unknown
    kind: str
    side: str  # buyer | seller | system
    author: str | None
    message: Message | None
    text: str
    status: str | None = None  # sending | sent | failed | retrying (replies only)
    error: str | None = None
    raw: dict[str, Any] | None = None
    caption: str | None = None
    ref: str | None = None
    position: int | None = None  # index in the conversation's history


def as_dict(value: Any) -> dict[str, Any]:
    """`value` when it is a JSON object, else an empty one (entries come from the network)."""
    return value if isinstance(value, dict) else {}


def reply_text(body: dict[str, Any]) -> str:
    label = media_label(body)  # a photo or file reply: "[photo] dent.jpg"
    if label is not None:
        return label
    text = body.get("message") or body.get("text_message") or ""
    if not text and body.get("media_token"):
        return "[media]"
    return str(text)


def parse_message(data: Any) -> Message | None:
    try:
        return Message.model_validate(data)
    except ValidationError:
        return None


def message_text(message: Message) -> str:
    if message.known_type is MessageType.TEXT:
        return message.text or ""
    return message.preview()


def button_text(caption: str | None, extra_data: Any) -> str:
    if caption:
        return f"pressed «{caption}»"
    detail = json.dumps(extra_data, ensure_ascii=False, sort_keys=True) if extra_data else ""
    return f"pressed a button {detail}".strip()


def post_update_text(data: dict[str, Any]) -> str:
    post = data.get("post") or {}
    title = (post.get("data") or {}).get("title") if isinstance(post, dict) else None
    change = str(data.get("type") or "update").lower().replace("_", " ")
    return f"post {change}: {title}" if title else f"post {change}"


def entry_item(
    row: ItemRow,
    entry: dict[str, Any] | None,
    outbox: OutboxRow | None,
    *,
    position: int,
    operator: str | None,
) -> HistoryItem:
    """The HistoryItem for an item row with its stored entry (and outbox row for replies)."""
    at = from_micros(row.at)
    if entry is None and outbox is not None:
        # Our reply, not yet on the relay's timeline.
        return HistoryItem(
            seq=None,
            at=at,
            kind="reply",
            side="seller",
            author=operator,
            message=None,
            text=reply_text(outbox.body),
            status=outbox.state,
            error=outbox.reason,
            ref=row.ref,
            raw=outbox.body,  # the body as sent: `v` and the grid under it show it
            position=position,
        )
    entry = entry or {}
    data = as_dict(entry.get("data"))
    author = entry.get("author")
    base: dict[str, Any] = {"seq": row.seq, "at": at, "position": position, "ref": row.ref}
    kind = row.kind
    if kind == "message":
        # No entry at all: its body was dropped by retention (body_retention_days). Said
        # before parsing: an empty body may parse as a message with every field at its zero.
        message = parse_message(data) if entry else None
        if message is not None:
            # An unsupported message type keeps Divar's body (or the whole entry) to show.
            raw = (as_dict(entry.get("raw")) or entry) if message.known_type is None else None
            return HistoryItem(
                **base,
                kind="message",
                side=row.side,
                author=author,
                message=message,
                text=message_text(message),
                raw=raw,
            )
        return HistoryItem(
            **base,
            kind="unknown",
            side="system",
            author=author,
            message=None,
            text="unsupported message (it does not have the shape Kenar documents)"
            if entry
            else "message text deleted from this computer after the retention period",
            raw=entry or None,
        )
    if kind == "reply":
        body = as_dict(data.get("body"))
        return HistoryItem(
            **base,
            kind="reply",
            side="seller",
            author=author or (operator if outbox is not None else None),
            message=None,
            text=reply_text(body),
            status=outbox.state if outbox is not None else "sent",
            error=outbox.reason if outbox is not None else None,
            raw=body or None,
        )
    if kind == "button_pressed":
        return HistoryItem(
            **base,
            kind=kind,
            side=row.side,
            author=author,
            message=None,
            text=button_text(row.caption, data.get("extra_data")),
            caption=row.caption,
            raw=data,
        )
    if kind == "post_update":
        return HistoryItem(
            **base,
            kind=kind,
            side="system",
            author=None,
            message=None,
            text=post_update_text(data),
        )
    if kind == "note":
        return HistoryItem(
            **base,
            kind=kind,
            side="system",
            author=author,
            message=None,
            text=str(data.get("text") or ""),
        )
    if kind == "assignment":
        return HistoryItem(
            **base,
            kind=kind,
            side="system",
            author=author,
            message=None,
            text=assignment_text(data, author),
            raw=entry,
        )
    reason = data.get("reason") or f"entry of kind {entry.get('kind')!r}"
    return HistoryItem(
        **base,
        kind="unknown",
        side="system",
        author=author,
        message=None,
        text=f"unsupported: {reason}",
        raw=entry,
    )


def notice_item(row: NoticeRow) -> HistoryItem:
    """A notice (no conversation) as a system item."""
    entry = row.payload
    data = as_dict(entry.get("data"))
    match row.kind:
        case "access_revocation":
            text = "a user revoked this app's access; their tokens no longer work"
        case "gap":
            text = (
                f"the relay no longer keeps entries {data.get('since', 0) + 1}–"
                f"{data.get('oldest', 0) - 1}; they are missing here"
            )
        case "payment":
            text = "a payment transaction arrived"
        case "post_update":
            text = post_update_text(data)
        case _:
            text = f"unsupported: {data.get('reason') or row.kind}"
    return HistoryItem(
        seq=row.seq,
        at=from_micros(row.at),
        kind=row.kind,
        side="system",
        author=entry.get("author"),
        message=None,
        text=text,
        raw=entry,
    )
