"""What the outbox holds and what it needs: its states, `OutboxItem` (a reply as the console
shows it), and the Protocols of the Kenar client, the credential store and the relay link it uses.

Split from outbox.py (the sending state machine), which re-exports these names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from kenar_api.bodies import ChatbotMessageBody, SendMessageBody
from kenar_tui.history import reply_text
from kenar_tui.store import OutboxRow, from_micros

FINAL = ("sent", "failed", "unknown")
STATES = ("sending", "retrying", "sent", "failed", "unknown")
UNKNOWN = "unknown — may have been delivered"
INTERRUPTED = (
    f"{UNKNOWN}: the console stopped while this was being sent; it turns to sent when Divar's "
    "copy appears, or send it again (r)"
)


class _Token(Protocol):
    @property
    def access_token(self) -> str: ...


class Credentials(Protocol):
    """What the outbox needs from the credential store."""

    @property
    def api_key(self) -> str | None: ...

    def token_for_send(self, cid: str, post_token: str | None) -> _Token | None: ...


class Kenar(Protocol):
    async def send_message(
        self, conversation_id: str, body: SendMessageBody, *, access_token: str
    ) -> Any: ...

    async def send_chatbot_message(self, conversation_id: str, body: ChatbotMessageBody) -> Any: ...


class Link(Protocol):
    @property
    def online(self) -> bool: ...

    async def wait_online(self) -> None: ...

    async def post(self, entry: dict[str, Any], ref: str | None = None) -> int: ...


@dataclass(frozen=True, slots=True)
class OutboxItem:
    ref: str
    conversation_id: str
    post_token: str | None
    conversation_type: str
    text: str
    state: str  # sending | retrying | sent | failed | unknown
    reason: str | None  # why it failed, is retrying or is unknown, in words
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    relay_state: str | None  # once sent: pending | posted | skipped (no relay) | refused

    @classmethod
    def of(cls, row: OutboxRow) -> OutboxItem:
        return cls(
            ref=row.ref,
            conversation_id=row.conversation_id,
            post_token=row.post_token,
            conversation_type=row.conversation_type,
            text=reply_text(row.body),
            state=row.state,
            reason=row.reason,
            attempts=row.attempts,
            next_attempt_at=from_micros(row.next_attempt_at) if row.next_attempt_at else None,
            created_at=from_micros(row.created_at),
            relay_state=row.relay_state,
        )
