"""Webhook bodies shaped like Divar's NEW_MESSAGE sample, each with a unique message id.

The shape is tests/data/kenar/samples/event-new-message-text.json (the same one the wrk script
in bench/wrk/events.lua sends); only `new_message.id` changes, so no body is a duplicate.
"""

from __future__ import annotations

import json
from typing import Any

from bench.common import SAMPLE_TEXT

CONVERSATION_ID = "edbb9499-cccc-4d35-b21f-621fa95f2b3e"
POST_TOKEN = "gZd7omnS"


def event(message_id: str, *, conversation_id: str = CONVERSATION_ID) -> dict[str, Any]:
    return {
        "type": "NEW_MESSAGE",
        "metadata": {"subscription": f"post-{POST_TOKEN}"},
        "new_message": {
            "id": message_id,
            "conversation": {"id": conversation_id, "type": "POST", "post_token": POST_TOKEN},
            "sender": {"side": "BUYER", "type": "HUMAN"},
            "type": "TEXT",
            "sent_at": 1729429926140000,
            "text": SAMPLE_TEXT,
        },
    }


def event_bytes(message_id: str) -> bytes:
    return json.dumps(event(message_id), ensure_ascii=False, separators=(",", ":")).encode()


class BodyTemplate:
    """Fast bodies for a load generator: the JSON split around the id, joined per request."""

    MARK = "\x00ID\x00"

    def __init__(self) -> None:
        text = json.dumps(event(self.MARK), ensure_ascii=False, separators=(",", ":"))
        head, tail = text.split(json.dumps(self.MARK)[1:-1])
        self.head, self.tail = head.encode(), tail.encode()

    def body(self, message_id: str) -> bytes:
        return self.head + message_id.encode() + self.tail
