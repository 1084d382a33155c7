"""The sandbox's moving parts in one place, and what happens when someone acts.

Routes, the control surface and the buyer simulator all act through `SandboxCore`: a buyer
writes, the app sends, a post changes, a user revokes access. The core records it in the
world and hands the resulting events to the delivery queue when a subscription wants them.
"""

from __future__ import annotations

import logging
from typing import Any

from kenar_api.messages import ConversationType, Message, Side
from kenar_tui.sandbox.buyer_media import with_real_file
from kenar_tui.sandbox.clock import Clock
from kenar_tui.sandbox.delivery import Delivery, DeliveryQueue, Target
from kenar_tui.sandbox.faults import FaultPlan
from kenar_tui.sandbox.media_store import MediaStore, StoredMedia
from kenar_tui.sandbox.protojson import protobuf_json
from kenar_tui.sandbox.recorder import RequestLog
from kenar_tui.sandbox.registration import Registration
from kenar_tui.sandbox.tokens import TokenStore
from kenar_tui.sandbox.world import (
    SELLER_ID,
    ConversationState,
    Subscription,
    World,
    random_uuid,
)

# docs/events/auth.md: the revocation event goes only to apps whose token holds both.
REVOCATION_SCOPES = ("NOTIFICATION_ACCESS_REVOCATION", "USER_ID")
NEW_MESSAGE_ON_POST = "NEW_MESSAGE_ON_POST"
POST_UPDATE = "POST_UPDATE"
POST_UPDATE_TYPES = ("PUBLISH", "RETIRE", "ONGOING", "ARCHIVE")


class SandboxCore:
    def __init__(self, registration: Registration, *, seed: int, logger: logging.Logger) -> None:
        self.seed = seed
        self.log = logger
        self.registration = registration
        self.clock = Clock()
        self.world = World(self.clock, seed=seed)
        self.tokens = TokenStore(self.clock)
        self.faults = FaultPlan(seed=seed)
        self.requests = RequestLog()
        self.delivery = DeliveryQueue(self._target, self.faults, self.clock, logger)
        self.seller_id = SELLER_ID
        self.seller_phone = "09120000000"  # shown only with the USER_PHONE scope
        self.reads = 0  # conversation reads answered, to alternate their JSON form
        self.finder_reads = 0  # finder post reads answered (GET .../finder/post/{token})
        self.media = MediaStore()
        # Set by Sandbox.start: the upload address (its own port) and where files are served.
        self.upload_port: int | None = None
        self.media_base_url = ""
        self.refusals = 0  # OAuth refusals, to alternate between a bare one and one with error
        # Called with (conversation, message, sent body) after every send the app makes;
        # the buyer simulator hooks in here to answer.
        self.on_seller_message: list[Any] = []
        # Every other event body goes out in protobuf JSON's terse form (sandbox/protojson.py),
        # and payments alternate the two spellings of docs/events/payment.md.
        self._events_shaped = 0
        self._payments = 0

    def _target(self) -> Target:
        return Target(self.registration.events_url, self.registration.identification_key)

    # --- messages ------------------------------------------------------------------------

    def buyer_writes(
        self, conversation: ConversationState, kind: str, data: dict[str, Any]
    ) -> tuple[Message, Delivery | None]:
        """A buyer's message of any type, delivered as the event Divar would send."""
        if self.media_base_url:
            data = with_real_file(kind, data, self.media, self.media_base_url)
        message = self.world.add_message(conversation, side=Side.BUYER, kind=kind, data=data)
        self.log.debug("sandbox buyer message (%s)", kind.lower())
        return message, self.message_event(message)

    def seller_sent(
        self,
        conversation: ConversationState,
        body: dict[str, Any],
        *,
        kind: str,
        text: str | None,
        server_links: list[dict[str, Any]],
        via: str,
        media: StoredMedia | None = None,
    ) -> dict[str, Any]:
        """Record what the app sent, add it to the chat, and echo it as Divar does."""
        record = {
            "id": random_uuid(self.world.rng),
            "conversation_id": conversation.id,
            "post_token": conversation.post_token,
            "kind": kind,
            "body": body,
            "via": via,
            "at": self.clock.now().isoformat(),
        }
        self.world.sent.append(record)
        conversation.server_links.extend(server_links)
        data: dict[str, Any] = {"text": text} if text else {}
        message_kind = "TEXT"
        if media is not None:
            # docs/chat/upload_media.md step 3: the buyer sees the uploaded file.
            message_kind, data = self.media_message(media)
        message = self.world.add_message(
            conversation, side=Side.SELLER, kind=message_kind, data=data, sender_type="BOT"
        )
        if kind == "v2":
            # Divar also tells the app about its own message, sender side SELLER.
            self.message_event(message)
        for hook in list(self.on_seller_message):
            hook(conversation, message, body)
        return record

    def media_link(self, media: StoredMedia) -> str:
        return f"{self.media_base_url}/media/{media.media_token}"

    def media_message(self, media: StoredMedia) -> tuple[str, dict[str, Any]]:
        """A message's type and payload for a stored file (docs/events: *_data with `link`)."""
        link = self.media_link(media)
        size = len(media.content)
        if media.kind == "image":
            return "IMAGE", {"image_data": {"link": link, "size_bytes": size}}
        if media.kind == "voice":
            return "VOICE", {"voice_data": {"link": link, "size_bytes": size}}
        if media.kind == "video":
            return "VIDEO", {"video_data": {"link": link, "size_bytes": size}}
        return "FILE", {"file_data": {"link": link, "name": media.name, "size_bytes": size}}

    def message_event(self, message: Message) -> Delivery | None:
        if message.conversation.type == ConversationType.BOT:
            # Chatbot messages need no subscription: Divar sends them to every bot app.
            body: dict[str, Any] = {
                "type": "NEW_CHATBOT_MESSAGE",
                "new_chatbot_message": message.wire(),
            }
            return self.delivery.enqueue("NEW_CHATBOT_MESSAGE", self.shaped(body))
        subscription = self._subscription(NEW_MESSAGE_ON_POST, message.conversation.post_token)
        if subscription is None:
            return None
        body = {"type": "NEW_MESSAGE", "new_message": message.wire()}
        if subscription.metadata is not None:
            body["metadata"] = subscription.metadata
        return self.delivery.enqueue("NEW_MESSAGE", self.shaped(body))

    def shaped(self, body: dict[str, Any]) -> dict[str, Any]:
        """Every other body in protobuf JSON's terse form: zero values out, int64 as strings."""
        self._events_shaped += 1
        return protobuf_json(body) if self._events_shaped % 2 == 0 else body

    def _subscription(self, event_type: str, resource: str | None) -> Subscription | None:
        # A subscription lives as long as its token: end the ones whose token is dead.
        for sub in self.world.subscriptions:
            if sub.active and not self.tokens.is_live(sub.access_token):
                sub.end(self.clock.now(), "its access token expired or was revoked")
        return self.world.matching_subscription(event_type, resource)

    # --- other events --------------------------------------------------------------------

    def post_update(self, post_token: str, change: str) -> Delivery | None:
        post = self.world.posts[post_token]
        subscription = self._subscription(POST_UPDATE, post_token)
        if subscription is None:
            return None
        body: dict[str, Any] = {
            "type": "POST_UPDATE",
            "post_update": {"type": change, "post": post.post_data()},
        }
        if subscription.metadata is not None:
            body["metadata"] = subscription.metadata
        return self.delivery.enqueue("POST_UPDATE", self.shaped(body))

    def revoke_access(self, user_id: str) -> Delivery | None:
        """The user took the app's access away: tokens die, subscriptions with them.

        The event goes out only when one of the user's live tokens held both
        NOTIFICATION_ACCESS_REVOCATION and USER_ID (docs/events/auth.md); None otherwise.
        """
        told = any(
            all(scope in pair.scopes for scope in REVOCATION_SCOPES)
            for pair in self.tokens.live_pairs_of(user_id)
        )
        for token in self.tokens.revoke_user(user_id):
            self.world.end_subscriptions_of(token, "the user revoked the app's access")
        if not told:
            self.log.info("sandbox revocation: no token asked to be told")
            return None
        body = {"type": "USER_ACCESS_REVOCATION", "user_access_revocation": {"user_id": user_id}}
        return self.delivery.enqueue("USER_ACCESS_REVOCATION", body)

    def payment(self, cost_rials: int, extra_details: str, state: str, kind: str) -> Delivery:
        transaction = {
            "id": random_uuid(self.world.rng),
            "app_slug": self.registration.client_id,
            "cost_rials": str(cost_rials),
            "created_at": self.clock.now().isoformat(),
            "extra_details": extra_details,
            "state": state,
            "type": kind,
        }
        # docs/events/payment.md's table says `transaction`, its example `payment_transaction`.
        self._payments += 1
        key = "transaction" if self._payments % 2 else "payment_transaction"
        body = {"type": "PAYMENT_TRANSACTION", key: transaction}
        return self.delivery.enqueue("PAYMENT_TRANSACTION", body)

    def state(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "clock": self.clock.now().isoformat(),
            "seller_id": self.seller_id,
            "app": self.registration.public(),
            "posts": [p.post_data() for p in self.world.posts.values()],
            "conversations": [c.summary() for c in self.world.conversations.values()],
            "subscriptions": [s.summary() for s in self.world.subscriptions],
            "live_tokens": self.tokens.count(),
            "sent": len(self.world.sent),
            "uploads": self.media.uploads,
            "media": self.media.summaries(),
            "finder_reads": self.finder_reads,
            "deliveries": self.delivery.counts(),
            "faults": self.faults.faults.model_dump(),
        }
