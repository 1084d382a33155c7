"""The relay ↔ console wire protocol (docs/protocol.md) as pydantic models, in one place.

Every frame either side sends and every entry kind of the timeline is a model here; the relay
parses its consoles' frames with `CONSOLE_FRAME`, the console's link parses the relay's with
`RELAY_FRAME`, and both build what they send from the models. tests/test_protocol_doc.py
checks docs/protocol.md against this module both ways, and validates its examples.

Fields are strict (an `int` is a JSON integer, never `true` or `"5"`), and each field's
`description` is the rule it follows, worded to finish the sentence "<frame>.<field> must be
...": `problem()` turns a validation error into that sentence for the `error` frame.

Frames and entries from the other side may carry keys this version does not know (later
versions add some): they are ignored. A frame type or entry kind the console does not know is
kept as `UnknownRelayFrame` / `OtherEntry` rather than refused (docs/protocol.md: "Clients must
ignore frame types they do not know"); the relay refuses console frames it does not know.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Final, Literal, TypeGuard

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictInt,
    StrictStr,
    Tag,
    TypeAdapter,
    ValidationError,
)

# --- limits the protocol states ------------------------------------------------------------

MAX_REF: Final = 200
MAX_ID: Final = 200  # conversation ids, post tokens
MIN_STATE, MAX_STATE = 8, 512  # OAuth `state`
MAX_INSTANCE: Final = 64
MAX_NAME: Final = 64  # operator names, assignees
MAX_NOTE: Final = 4096
PRESENCE_STATES: Final = ("viewing", "replying", "idle")
# Entry kinds only the relay makes; a console may post only CONSOLE_KINDS.
RELAY_KINDS: Final = frozenset(
    {"message", "post_update", "access_revocation", "payment", "unknown", "button_pressed"}
)
CONSOLE_KINDS: Final = frozenset({"reply", "note", "assignment"})

Seq = Annotated[StrictInt, Field(ge=0, description="an integer >= 0")]
PresenceState = Annotated[
    Literal["viewing", "replying", "idle"], Field(description="viewing, replying or idle")
]


class _Wire(BaseModel):
    """A JSON object on the wire: unknown keys ignored, values strict, models immutable."""

    model_config = ConfigDict(strict=True, frozen=True, extra="ignore")

    def json_text(self) -> str:
        """The compact JSON text of this frame, without the optional keys left unset."""
        return self.model_dump_json(exclude_none=True)


# --- frames from the console ---------------------------------------------------------------


class HelloFrame(_Wire):
    type: Literal["hello"] = "hello"
    since: Seq
    operator: Annotated[
        StrictStr | None,
        Field(
            min_length=1,
            max_length=MAX_NAME,
            pattern=r"\S",
            description="a short name",
        ),
    ] = None
    instance: Annotated[
        StrictStr | None,
        Field(
            pattern=rf"^[A-Za-z0-9_\-]{{1,{MAX_INSTANCE}}}$",
            description=f"1 to {MAX_INSTANCE} letters, digits, '-' or '_'",
        ),
    ] = None


class PostFrame(_Wire):
    type: Literal["post"] = "post"
    ref: Annotated[
        StrictStr,
        Field(min_length=1, max_length=MAX_REF, description="a non-empty string of 1-200"),
    ]
    # Checked per kind with `posted_entry` (the relay names which rule a post breaks).
    entry: Annotated[dict[str, Any], Field(description="a JSON object")]


class OAuthStateFrame(_Wire):
    type: Literal["oauth_state"] = "oauth_state"
    state: Annotated[
        StrictStr,
        Field(min_length=MIN_STATE, max_length=MAX_STATE, description="8 to 512 characters"),
    ]


class PresenceFrame(_Wire):
    """A console's own presence (the relay's `presence` to teammates is `PresenceNoticeFrame`)."""

    type: Literal["presence"] = "presence"
    conversation_id: Annotated[
        StrictStr, Field(min_length=1, max_length=MAX_ID, description="a short id")
    ]
    state: PresenceState


class AckFrame(_Wire):
    type: Literal["ack"] = "ack"
    seq: Seq


ConsoleFrame = Annotated[
    HelloFrame | PostFrame | OAuthStateFrame | PresenceFrame | AckFrame, Field(discriminator="type")
]
CONSOLE_FRAME: TypeAdapter[ConsoleFrame] = TypeAdapter(ConsoleFrame)

# --- frames from the relay -----------------------------------------------------------------


class WelcomeFrame(_Wire):
    type: Literal["welcome"] = "welcome"
    head: Seq
    oldest: Seq
    relay: StrictStr
    operator: StrictStr


class GapFrame(_Wire):
    type: Literal["gap"] = "gap"
    since: Seq
    oldest: Seq


class EntryFrame(_Wire):
    """One timeline entry. `entry` stays the JSON object (the console stores it as it came);
    `ENTRY.validate_python(frame.entry)` reads it as an `Entry`. The relay sends these
    pre-encoded (relay/wire.py), never through this model: it is the hot path."""

    type: Literal["entry"] = "entry"
    seq: Seq
    entry: Annotated[dict[str, Any], Field(description="a JSON object")]


class LiveFrame(_Wire):
    type: Literal["live"] = "live"
    seq: Seq


class PostedFrame(_Wire):
    type: Literal["posted"] = "posted"
    ref: StrictStr
    seq: Seq


class PostFailedFrame(_Wire):
    type: Literal["post_failed"] = "post_failed"
    ref: StrictStr
    message: StrictStr


class OAuthFrame(_Wire):
    """The OAuth redirect for an announced `state`: a `code`, or an `error` (refused)."""

    type: Literal["oauth"] = "oauth"
    state: StrictStr
    code: StrictStr | None = None
    error: StrictStr | None = None


class PresenceNoticeFrame(_Wire):
    """A teammate's presence, as the relay tells the other consoles."""

    type: Literal["presence"] = "presence"
    operator: StrictStr
    conversation_id: StrictStr
    state: PresenceState
    expires_in: Annotated[StrictInt | float, Field(ge=0, description="seconds >= 0")]


class ErrorFrame(_Wire):
    type: Literal["error"] = "error"
    message: StrictStr


class UnknownRelayFrame(_Wire):
    """A frame type this version does not know: the console ignores it."""

    model_config = ConfigDict(strict=True, frozen=True, extra="allow")
    type: StrictStr


_RELAY_FRAMES: dict[str, type[_Wire]] = {
    "welcome": WelcomeFrame,
    "gap": GapFrame,
    "entry": EntryFrame,
    "live": LiveFrame,
    "posted": PostedFrame,
    "post_failed": PostFailedFrame,
    "oauth": OAuthFrame,
    "presence": PresenceNoticeFrame,
    "error": ErrorFrame,
}


def _relay_frame_tag(value: Any) -> str | None:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    if not isinstance(kind, str):
        return None
    return kind if kind in _RELAY_FRAMES else "other"


RelayFrame = Annotated[
    Annotated[WelcomeFrame, Tag("welcome")]
    | Annotated[GapFrame, Tag("gap")]
    | Annotated[EntryFrame, Tag("entry")]
    | Annotated[LiveFrame, Tag("live")]
    | Annotated[PostedFrame, Tag("posted")]
    | Annotated[PostFailedFrame, Tag("post_failed")]
    | Annotated[OAuthFrame, Tag("oauth")]
    | Annotated[PresenceNoticeFrame, Tag("presence")]
    | Annotated[ErrorFrame, Tag("error")]
    | Annotated[UnknownRelayFrame, Tag("other")],
    Discriminator(_relay_frame_tag),
]
RELAY_FRAME: TypeAdapter[RelayFrame] = TypeAdapter(RelayFrame)

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
    extra_data: dict[str, Any] = {}
    provider_data: dict[str, Any] = {}
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
    data: dict[str, Any] = {}


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

# Names for the doc check and for anyone enumerating the protocol.
RELAY_FRAME_TYPES: Final = tuple(_RELAY_FRAMES)
ENTRY_KINDS: Final = tuple(_ENTRIES)


def problem(exc: ValidationError, where: str, model: type[BaseModel] | None = None) -> str:
    """The first rule `exc` reports as a sentence: "<where>.<field> must be <rule>".

    `model` is the model that was meant (the frame's or entry's by its tag), whose field
    descriptions say the rule; without one, pydantic's own words are used.
    """
    error = exc.errors(include_url=False)[0]
    names = [str(part) for part in error["loc"]]
    fields = _fields(model, names)
    field = ".".join([where, *fields]) if fields else where
    rule = _rule(model, fields)
    if error["type"] == "missing":
        return f"{field} is needed"
    if rule is not None:
        return f"{field} must be {rule}"
    return f"{field}: {error['msg'][:1].lower()}{error['msg'][1:]}"


def _fields(model: type[BaseModel] | None, names: list[str]) -> list[str]:
    """`names` without the union tags pydantic puts in a location."""
    if model is None:
        return [name for name in names if not name.isidentifier() or name not in _TAGS]
    kept: list[str] = []
    for name in names:
        if model is not None and name in model.model_fields:
            kept.append(name)
            annotation = model.model_fields[name].annotation
            model = annotation if _is_model(annotation) else None
        elif model is None:
            kept.append(name)
    return kept


def _rule(model: type[BaseModel] | None, fields: list[str]) -> str | None:
    """The `description` of the field the error is about, when the models give one."""
    for name in fields:
        if model is None or name not in model.model_fields:
            return None
        info = model.model_fields[name]
        if _is_model(info.annotation):
            model = info.annotation
            continue
        return info.description
    return None


def _is_model(annotation: object) -> TypeGuard[type[BaseModel]]:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


CONSOLE_FRAMES: Final[dict[str, type[_Wire]]] = {
    "hello": HelloFrame,
    "post": PostFrame,
    "oauth_state": OAuthStateFrame,
    "presence": PresenceFrame,
    "ack": AckFrame,
}
POSTED_ENTRIES: Final[dict[str, type[_Entry]]] = {
    "reply": ReplyEntry,
    "note": NoteEntry,
    "assignment": AssignmentEntry,
}
_TAGS = frozenset({*_RELAY_FRAMES, *_ENTRIES, *CONSOLE_FRAMES, "other"})
