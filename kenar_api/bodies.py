"""Bodies we send to Kenar and the bodies it answers with.

Strict in what we send: these models refuse anything the current OpenAPI spec or Kenar's
documented limits would reject, and `wire()` gives the exact JSON that goes out.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator

from kenar_api.buttons import ButtonGrid
from kenar_api.messages import Conversation, Message
from kenar_api.spellings import AcceptsOldSpellings
from kenar_core.errors import ProtocolError

MAX_TEXT_LENGTH = 4096


def _check_text(text: str | None, media_token: str | None, field: str) -> None:
    has_text = bool(text and text.strip())
    if media_token and has_text:
        raise ProtocolError(f"send either {field} or media_token, not both")
    if not media_token and not has_text:
        raise ProtocolError("a message needs some text")
    if text and len(text) > MAX_TEXT_LENGTH:
        raise ProtocolError(
            f"a message has at most {MAX_TEXT_LENGTH} characters; this has {len(text)}"
        )


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def wire(self) -> dict[str, Any]:
        """The exact JSON object sent: no nulls, no empty grids."""
        data = self.model_dump(mode="json", exclude_none=True)
        return {k: v for k, v in data.items() if not (isinstance(v, dict) and v.get("rows") == [])}


class SendMessageBody(_Body):
    """`POST /v2/open-platform/conversations/{id}/messages`: text and two optional grids."""

    type: Literal["TEXT"] = "TEXT"
    message: str = ""
    media_token: str | None = None
    sender_buttons: ButtonGrid | None = None
    receiver_buttons: ButtonGrid | None = None

    @model_validator(mode="after")
    def _check(self) -> SendMessageBody:
        _check_text(self.message, self.media_token, "message")
        return self


class ChatbotMessageBody(_Body):
    """`POST /v1/open-platform/chat/bot/conversations/{id}/messages`."""

    type: Literal["TEXT"] = "TEXT"
    text_message: str = ""
    media_token: str | None = None
    buttons: ButtonGrid | None = None

    @model_validator(mode="after")
    def _check(self) -> ChatbotMessageBody:
        _check_text(self.text_message, self.media_token, "text_message")
        return self


class SubscriptionEventType(StrEnum):
    NEW_MESSAGE_ON_POST = "NEW_MESSAGE_ON_POST"
    POST_UPDATE = "POST_UPDATE"


class SubscriptionRequest(AcceptsOldSpellings, _Body):
    """`POST /v1/open-platform/events/subscriptions`; accepts the guide's `meta_data` spelling."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    event_type: SubscriptionEventType
    event_resource_id: str = ""
    metadata: dict[str, Any] | None = Field(
        default=None, validation_alias=AliasChoices("metadata", "meta_data")
    )


class SendMessageResponse(BaseModel):
    model_config = ConfigDict(extra="allow")
    status: int | None = None
    message: str | None = None


class ChatbotMessageResponse(BaseModel):
    model_config = ConfigDict(extra="allow")
    conversation_id: str | None = None


class ConversationResponse(BaseModel):
    """`GET /v1/open-platform/chat/conversations/{id}`: the conversation and its text messages.

    A message may carry no `conversation` of its own (protobuf JSON leaves it out, or `null`):
    it belongs to the answer's conversation, and is given it.
    """

    model_config = ConfigDict(extra="allow")
    conversation: Conversation  # "required" in the OpenAPI: an answer without it is not one
    messages: list[Message] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _messages_in_their_conversation(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        head = data.get("conversation")
        messages = data.get("messages")
        if not isinstance(messages, list) or not isinstance(head, dict):
            return data if messages is not None else {**data, "messages": []}
        filled = [
            {**m, "conversation": head}
            if isinstance(m, dict) and not (m.get("conversation") or {}).get("id")
            else m
            for m in messages
        ]
        return {**data, "messages": filled}


class UserResponse(BaseModel):
    """`GET /v1/open-platform/users` (docs/oauth/get_user.md): each field only with its scope,
    `user_id` with USER_ID and `phone_number` with USER_PHONE (left out otherwise)."""

    model_config = ConfigDict(extra="allow")
    user_id: str | None = None
    phone_number: str | None = None

    def __repr__(self) -> str:
        # A phone number is personal: never printed.
        return f"UserResponse(user_id={self.user_id!r})"

    __str__ = __repr__


class KenarErrorBody(BaseModel):
    """google.rpc.Status, the shape of every Kenar error."""

    model_config = ConfigDict(extra="allow")
    code: int
    message: str = ""
    details: list[Any] = Field(default_factory=list)


class TokenResponse(BaseModel):
    """What the OAuth token endpoint answers, with the moment it was received."""

    model_config = ConfigDict(extra="allow")
    access_token: str
    expires_in: int = 3600
    scope: str = ""
    token_type: str = "bearer"
    refresh_token: str | None = None
    received_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @property
    def scopes(self) -> list[str]:
        return self.scope.split()

    @property
    def expires_at(self) -> datetime:
        return self.received_at + timedelta(seconds=self.expires_in)

    def __repr__(self) -> str:
        # Never print a token, not even in a traceback.
        return f"TokenResponse(scope={self.scope!r}, expires_in={self.expires_in})"

    __str__ = __repr__
