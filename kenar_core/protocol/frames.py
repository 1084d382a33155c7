"""Frames: what a console sends the relay, and what the relay sends a console."""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import ConfigDict, Discriminator, Field, StrictInt, StrictStr, Tag, TypeAdapter

from kenar_core.protocol.base import (
    MAX_ID,
    MAX_INSTANCE,
    MAX_NAME,
    MAX_REF,
    MAX_STATE,
    MIN_STATE,
    PresenceState,
    Seq,
    _Wire,
)

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
CONSOLE_FRAMES: Final[dict[str, type[_Wire]]] = {
    "hello": HelloFrame,
    "post": PostFrame,
    "oauth_state": OAuthStateFrame,
    "presence": PresenceFrame,
    "ack": AckFrame,
}
RELAY_FRAME_TYPES: Final = tuple(_RELAY_FRAMES)
