"""Entries: every kind of the relay's timeline, and what a console may post."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Final, Literal

from pydantic import ConfigDict, Discriminator, Field, StrictStr, Tag, TypeAdapter

from kenar_core.protocol.base import MAX_NAME, MAX_NOTE, MAX_REF, _Wire

# --- entries -------------------------------------------------------------------------------


class _Data(_Wire):
    """An entry's `data`: the keys its kind uses (others are dropped)."""

    # Whether a key set to null is written out as null (the doc's "null" fields) or left out.
    keep_nulls: ClassVar[bool] = True

    def wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=not self.keep_nulls)


class UnknownData(_Data):
    reason: StrictStr


class AccessRevocationData(_Data):
    user_id: StrictStr | None = None


class ButtonPressedData(_Data):
    source: StrictStr | None = None
    post_token: StrictStr | None = None
    conversation_id: StrictStr | None = None
    user_side: StrictStr | None = None
    extra_data: dict[str, Any] = Field(default_factory=dict)
    provider_data: dict[str, Any] = Field(default_factory=dict)
    completion_url: StrictStr | None = None
    user_id: StrictStr | None = None
    api_version: Literal[1, 2] = 2
    url: StrictStr | None = None


class ReplyData(_Data):
    keep_nulls: ClassVar[bool] = False  # `ref` is there when the console sent one
    conversation_type: Annotated[Literal["POST", "BOT"], Field(description="POST or BOT")] = "POST"
    # The exact send-message body sent to Kenar; the relay checks it against kenar_api's
    # SendMessageBody / ChatbotMessageBody (this layer does not know Kenar's models).
    body: Annotated[dict[str, Any], Field(description="a JSON object")]
    ref: Annotated[StrictStr | None, Field(max_length=MAX_REF, description="a short string")] = None


class NoteData(_Data):
    text: Annotated[
        StrictStr,
        Field(
            min_length=1,
            max_length=MAX_NOTE,
            pattern=r"\S",
            description=f"1 to {MAX_NOTE} characters",
        ),
    ]


class AssignmentData(_Data):
    assignee: Annotated[
        StrictStr | None,
        Field(
            min_length=1,
            max_length=MAX_NAME,
            pattern=r"\S",
            description="a name or null",
        ),
    ] = None
    by: StrictStr | None = None  # set by the relay to the poster's name


class _Entry(_Wire):
    """The keys every entry has (a missing key means null)."""

    received_at: StrictStr | None = None
    conversation_id: StrictStr | None = None
    post_token: StrictStr | None = None
    event_type: StrictStr | None = None
    raw: Any = None
    author: StrictStr | None = None
    token: StrictStr | None = None

    def wire(self) -> dict[str, Any]:
        """The entry as the JSON object the store keeps: every key, `raw` only when set,
        `data` dumped; the values under `data`/`raw` are the objects given (no deep copy)."""
        data = self.data  # type: ignore[attr-defined]
        entry: dict[str, Any] = {
            "kind": self.kind,  # type: ignore[attr-defined]
            "conversation_id": self.conversation_id,
            "post_token": self.post_token,
            "event_type": self.event_type,
            "data": data.wire() if isinstance(data, _Data) else data,
            "author": self.author,
        }
        if self.raw is not None:
            entry["raw"] = self.raw
        if self.token is not None:
            entry["token"] = self.token
        if self.received_at is not None:
            entry["received_at"] = self.received_at
        return entry


class MessageEntry(_Entry):
    kind: Literal["message"] = "message"
    data: dict[str, Any]  # kenar_api's Message.wire(): read with kenar_api.messages


class PostUpdateEntry(_Entry):
    kind: Literal["post_update"] = "post_update"
    data: dict[str, Any]  # Divar's post update: {type, post: {token, ...}}


class AccessRevocationEntry(_Entry):
    kind: Literal["access_revocation"] = "access_revocation"
    data: AccessRevocationData


class PaymentEntry(_Entry):
    kind: Literal["payment"] = "payment"
    data: dict[str, Any]  # Divar's transaction object


class UnknownEntry(_Entry):
    kind: Literal["unknown"] = "unknown"
    data: UnknownData


class ButtonPressedEntry(_Entry):
    kind: Literal["button_pressed"] = "button_pressed"
    data: ButtonPressedData


class ReplyEntry(_Entry):
    kind: Literal["reply"] = "reply"
    data: ReplyData


class NoteEntry(_Entry):
    kind: Literal["note"] = "note"
    data: NoteData


class AssignmentEntry(_Entry):
    kind: Literal["assignment"] = "assignment"
    data: AssignmentData


class OtherEntry(_Entry):
    """An entry kind this version does not know: kept, shown as it came."""

    model_config = ConfigDict(strict=True, frozen=True, extra="allow")
    kind: StrictStr
    data: dict[str, Any] = Field(default_factory=dict)


_ENTRIES: dict[str, type[_Entry]] = {
    "message": MessageEntry,
    "post_update": PostUpdateEntry,
    "access_revocation": AccessRevocationEntry,
    "payment": PaymentEntry,
    "unknown": UnknownEntry,
    "button_pressed": ButtonPressedEntry,
    "reply": ReplyEntry,
    "note": NoteEntry,
    "assignment": AssignmentEntry,
}


def _entry_tag(value: Any) -> str | None:
    kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
    if not isinstance(kind, str):
        return None
    return kind if kind in _ENTRIES else "other"


Entry = Annotated[
    Annotated[MessageEntry, Tag("message")]
    | Annotated[PostUpdateEntry, Tag("post_update")]
    | Annotated[AccessRevocationEntry, Tag("access_revocation")]
    | Annotated[PaymentEntry, Tag("payment")]
    | Annotated[UnknownEntry, Tag("unknown")]
    | Annotated[ButtonPressedEntry, Tag("button_pressed")]
    | Annotated[ReplyEntry, Tag("reply")]
    | Annotated[NoteEntry, Tag("note")]
    | Annotated[AssignmentEntry, Tag("assignment")]
    | Annotated[OtherEntry, Tag("other")],
    Discriminator(_entry_tag),
]
ENTRY: TypeAdapter[Entry] = TypeAdapter(Entry)

# What a console may post: `kind` defaults to reply; only CONSOLE_KINDS.
PostedEntry = Annotated[ReplyEntry | NoteEntry | AssignmentEntry, Field(discriminator="kind")]
POSTED_ENTRY: TypeAdapter[PostedEntry] = TypeAdapter(PostedEntry)
POSTED_ENTRIES: Final[dict[str, type[_Entry]]] = {
    "reply": ReplyEntry,
    "note": NoteEntry,
    "assignment": AssignmentEntry,
}
ENTRY_KINDS: Final = tuple(_ENTRIES)
