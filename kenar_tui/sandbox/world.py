"""What Divar knows in the sandbox: the seller's posts, conversations and their messages,
the messages the app sent, and the app's event subscriptions.
"""

from __future__ import annotations

import base64
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kenar_api.messages import Conversation, ConversationType, Message, Sender, Side
from kenar_tui.sandbox.catalogue import POSTS, CataloguePost
from kenar_tui.sandbox.clock import Clock

SELLER_ID = "c2VsbGVyLXNhbmRib3gtMDAx"  # the sandbox seller's obfuscated user id


def random_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def random_user_id(rng: random.Random) -> str:
    """An obfuscated user id shaped like Divar's (base64 of 32 bytes)."""
    return base64.b64encode(rng.getrandbits(256).to_bytes(32, "big")).decode()


@dataclass
class ConversationState:
    id: str
    type: str
    post_token: str | None
    buyer_id: str
    messages: list[Message] = field(default_factory=list)
    restricted: bool = False
    # The `data` of every open_server_link button the seller showed the buyer, newest last.
    server_links: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "post_token": self.post_token,
            "buyer_id": self.buyer_id,
            "messages": len(self.messages),
            "restricted": self.restricted,
            "server_links": len(self.server_links),
        }


@dataclass
class Subscription:
    event_type: str
    resource: str
    metadata: dict[str, Any] | None
    access_token: str = field(repr=False)
    created_at: datetime
    ended_at: datetime | None = None
    ended_because: str | None = None

    @property
    def active(self) -> bool:
        return self.ended_at is None

    def end(self, now: datetime, reason: str) -> None:
        if self.ended_at is None:
            self.ended_at = now
            self.ended_because = reason

    def summary(self) -> dict[str, Any]:
        return {
            "event_type": self.event_type,
            "event_resource_id": self.resource,
            "metadata": self.metadata,
            "active": self.active,
            "created_at": self.created_at.isoformat(),
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "ended_because": self.ended_because,
        }


class World:
    """Posts, conversations, sent messages and subscriptions; ids come from a seeded RNG."""

    def __init__(self, clock: Clock, *, seed: int = 0) -> None:
        self.clock = clock
        self.rng = random.Random(f"world:{seed}")
        self.posts: dict[str, CataloguePost] = {p.token: p for p in POSTS}
        self.conversations: dict[str, ConversationState] = {}
        self.sent: list[dict[str, Any]] = []
        self.subscriptions: list[Subscription] = []

    # --- conversations -------------------------------------------------------------------

    def open_conversation(
        self,
        *,
        post_token: str | None,
        conversation_id: str | None = None,
        buyer_id: str | None = None,
        chatbot: bool = False,
    ) -> ConversationState:
        """The conversation with this id, or a new one (a new buyer) on the post."""
        if conversation_id and conversation_id in self.conversations:
            return self.conversations[conversation_id]
        state = ConversationState(
            id=conversation_id or random_uuid(self.rng),
            type=ConversationType.BOT if chatbot else ConversationType.POST,
            post_token=None if chatbot else post_token,
            buyer_id=buyer_id or random_user_id(self.rng),
        )
        self.conversations[state.id] = state
        return state

    def add_message(
        self,
        conversation: ConversationState,
        *,
        side: str,
        kind: str,
        data: dict[str, Any],
        sender_type: str = "HUMAN",
    ) -> Message:
        """Append a message (of any type) to a conversation and return it.

        `sender_type` is BOT for what the app sent through the API: Divar's echo of it says
        `{"side": "SELLER", "type": "BOT"}` (docs/events/ReadMe.md's example event).
        """
        sender = (
            Sender(type=sender_type)
            if conversation.type == ConversationType.BOT and side == Side.BUYER
            else Sender(side=side, type=sender_type)
        )
        message = Message(
            id=random_uuid(self.rng),
            conversation=Conversation(
                id=conversation.id, type=conversation.type, post_token=conversation.post_token
            ),
            sender=sender,
            type=kind,
            sent_at=self.clock.now(),
            **data,
        )
        conversation.messages.append(message)
        return message

    # --- subscriptions -------------------------------------------------------------------

    def subscribe(
        self,
        event_type: str,
        resource: str,
        metadata: dict[str, Any] | None,
        access_token: str,
    ) -> Subscription:
        """Add (or renew, for a new token) the subscription for this event and resource."""
        now = self.clock.now()
        for old in self.subscriptions:
            if old.active and old.event_type == event_type and old.resource == resource:
                old.end(now, "replaced by a new subscription")
        subscription = Subscription(event_type, resource, metadata, access_token, now)
        self.subscriptions.append(subscription)
        return subscription

    def end_subscriptions_of(self, access_token: str, reason: str) -> int:
        ended = 0
        for sub in self.subscriptions:
            if sub.active and sub.access_token == access_token:
                sub.end(self.clock.now(), reason)
                ended += 1
        return ended

    def matching_subscription(self, event_type: str, resource: str | None) -> Subscription | None:
        """The active subscription an event goes out under: its own resource first, then all."""
        active = [s for s in self.subscriptions if s.active and s.event_type == event_type]
        exact = [s for s in active if resource and s.resource == resource]
        broad = [s for s in active if s.resource == ""]
        chosen = exact or broad
        return chosen[-1] if chosen else None
