"""Events Divar POSTs to the app's "new events URL", and the deprecated CHAT_MESSAGE webhook.

`parse_event` turns any JSON object into one of the event models. Types we do not know
become `UnknownEvent` with the body kept whole (Divar adds types over time); a known type
whose payload is malformed raises ProtocolError, so the caller can keep it raw.

Every event of docs/events/ (and docs/chat/chatbot_conversations.md) is read in every
spelling the docs use: the payment event's object as `transaction` (the field table of
docs/events/payment.md) or `payment_transaction` (its example), `meta_data` for `metadata`.
Protobuf JSON rules apply (kenar_api.messages): zero values left out, `null` for absent.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from kenar_api.messages import (
    Conversation,
    ConversationType,
    Message,
    Sender,
    parse_sent_at,
    without_nulls,
)
from kenar_api.spellings import AcceptsOldSpellings
from kenar_core.errors import ProtocolError


class _Event(AcceptsOldSpellings):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    metadata: dict[str, Any] | None = Field(
        default=None, validation_alias=AliasChoices("metadata", "meta_data")
    )

    @model_validator(mode="before")
    @classmethod
    def _without_nulls(cls, data: Any) -> Any:
        # Runs before the base class's spelling rule: a null `metadata` beside `meta_data`
        # is absent, so `meta_data` is read.
        return without_nulls(data)


class _Payload(BaseModel):
    """A part of an event: unknown fields kept, `null` members absent."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _nulls_are_absent(cls, data: Any) -> Any:
        return without_nulls(data)


def _placed(message: Message) -> None:
    # Every other field may be left out; a message that names no conversation cannot be shown.
    if not message.conversation.id:
        raise ValueError("the message names no conversation (conversation.id)")


class NewMessageEvent(_Event):
    type: Literal["NEW_MESSAGE"] = "NEW_MESSAGE"
    new_message: Message

    @model_validator(mode="after")
    def _has_conversation(self) -> NewMessageEvent:
        _placed(self.new_message)
        return self

    @property
    def message(self) -> Message:
        return self.new_message


class NewChatbotMessageEvent(_Event):
    type: Literal["NEW_CHATBOT_MESSAGE"] = "NEW_CHATBOT_MESSAGE"
    new_chatbot_message: Message

    @model_validator(mode="after")
    def _has_conversation(self) -> NewChatbotMessageEvent:
        _placed(self.new_chatbot_message)
        return self

    @property
    def message(self) -> Message:
        return self.new_chatbot_message


class UserAccessRevocation(_Payload):
    user_id: str = ""


class UserAccessRevocationEvent(_Event):
    type: Literal["USER_ACCESS_REVOCATION"] = "USER_ACCESS_REVOCATION"
    user_access_revocation: UserAccessRevocation = Field(default_factory=UserAccessRevocation)


class Post(_Payload):
    """docs/events/post.md: RETIRE and ARCHIVE carry the token alone; booleans may be left out."""

    token: str = ""
    category: str | None = None
    city: str | None = None
    district: str | None = None
    is_phone_hidden: bool = False
    supplier_chat_assistant_enabled: bool = False
    chat_enabled: bool = False
    first_published_at: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    @property
    def title(self) -> str | None:
        title = self.data.get("title")
        return title if isinstance(title, str) else None


class PostUpdate(_Payload):
    type: str = ""
    post: Post = Field(default_factory=Post)


class PostUpdateEvent(_Event):
    type: Literal["POST_UPDATE"] = "POST_UPDATE"
    post_update: PostUpdate = Field(default_factory=PostUpdate)


class PaymentTransactionEvent(_Event):
    """docs/events/payment.md names the object `transaction` in its table and
    `payment_transaction` in its example; either is read, `transaction` is what we keep."""

    type: Literal["PAYMENT_TRANSACTION"] = "PAYMENT_TRANSACTION"
    transaction: dict[str, Any] = Field(
        default_factory=dict, validation_alias=AliasChoices("transaction", "payment_transaction")
    )


class UnknownEvent(BaseModel):
    """An event type we do not know yet, kept whole."""

    type: str
    raw: dict[str, Any]


# --- the deprecated CHAT_MESSAGE webhook ---------------------------------------------------


class LegacyParty(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    is_supply: bool = False


class LegacyPayload(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    type: str = "TEXT"
    data: dict[str, Any] = Field(default_factory=dict)
    sender: LegacyParty
    receiver: LegacyParty | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    sent_at: Any = None


class LegacyChatMessage(_Event):
    """`{"type": "CHAT_MESSAGE", "timestamp", "payload": {...}}`, from the old per-post hook."""

    type: Literal["CHAT_MESSAGE"] = "CHAT_MESSAGE"
    timestamp: str | int | None = None
    payload: LegacyPayload

    @property
    def post_token(self) -> str:
        return str(self.payload.metadata.get("post_token") or "")

    @property
    def buyer_id(self) -> str:
        p = self.payload
        if p.sender.is_supply and p.receiver is not None:
            return p.receiver.id
        return p.sender.id

    _message: Message | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _normalise(self) -> LegacyChatMessage:
        # Built once, at parse time, so a malformed payload fails in parse_event, not later.
        self._message = self._as_message()
        return self

    @property
    def message(self) -> Message:
        """The same message in the current shape, in a conversation derived from its pair."""
        if self._message is None:  # pragma: no cover - set by the validator
            self._message = self._as_message()
        return self._message

    def _as_message(self) -> Message:
        p = self.payload
        # The guide's example leaves both times empty: then the moment we received it is the best.
        stamp = next((v for v in (p.sent_at, self.timestamp) if v not in (None, "")), None)
        sent: datetime = parse_sent_at(stamp) if stamp is not None else datetime.now(UTC)
        fields: dict[str, Any] = {}
        text = p.data.get("text")
        if isinstance(text, str):
            fields["text"] = text
        elif p.type == "TEXT":
            fields["text"] = ""
        if p.type != "TEXT" and p.data:
            fields["legacy_data"] = p.data  # the old hook's media shape is undocumented: keep it
        conversation_id = legacy_conversation_id(self.post_token, self.buyer_id)
        return Message(
            id=p.id or legacy_message_id(conversation_id, stamp, p.data),
            conversation=Conversation(
                id=conversation_id,
                type=ConversationType.POST,
                post_token=self.post_token or None,
            ),
            sender=Sender(side="SELLER" if p.sender.is_supply else "BUYER", type="HUMAN"),
            type=p.type,
            sent_at=sent,
            **fields,
        )


def legacy_conversation_id(post_token: str, buyer_id: str) -> str:
    """A stable conversation key for the old hook, which names none: (post token, buyer id)."""
    digest = hashlib.sha256(f"{post_token}\x00{buyer_id}".encode()).hexdigest()[:24]
    return f"legacy-{digest}"


def legacy_message_id(conversation_id: str, stamp: Any, data: dict[str, Any]) -> str:
    """A stable id for an old-hook message that came without one (the guide's example)."""
    seed = json.dumps([conversation_id, str(stamp), data], sort_keys=True, ensure_ascii=False)
    return f"legacy-msg-{hashlib.sha256(seed.encode()).hexdigest()[:24]}"


Event = (
    NewMessageEvent
    | NewChatbotMessageEvent
    | UserAccessRevocationEvent
    | PostUpdateEvent
    | PaymentTransactionEvent
    | LegacyChatMessage
    | UnknownEvent
)

_KNOWN: dict[str, type[BaseModel]] = {
    "NEW_MESSAGE": NewMessageEvent,
    "NEW_CHATBOT_MESSAGE": NewChatbotMessageEvent,
    "USER_ACCESS_REVOCATION": UserAccessRevocationEvent,
    "POST_UPDATE": PostUpdateEvent,
    "PAYMENT_TRANSACTION": PaymentTransactionEvent,
    "CHAT_MESSAGE": LegacyChatMessage,
}


def parse_event(body: Any) -> Event:
    """The event model for a webhook body; ProtocolError when a known type is malformed."""
    if not isinstance(body, dict):
        raise ProtocolError("an event must be a JSON object")
    kind = body.get("type")
    if not isinstance(kind, str) or not kind:
        raise ProtocolError("an event needs a string 'type'")
    model = _KNOWN.get(kind)
    if model is None:
        return UnknownEvent(type=kind, raw=body)
    try:
        event: Event = model.model_validate(body)  # type: ignore[assignment]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise ProtocolError(f"{kind} event: {where}: {first['msg']}") from None
    return event


def event_message(event: Event) -> Message | None:
    """The chat message an event carries, if any (legacy CHAT_MESSAGE included)."""
    if isinstance(event, NewMessageEvent | NewChatbotMessageEvent | LegacyChatMessage):
        return event.message
    return None
