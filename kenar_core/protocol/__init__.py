"""The relay ↔ console wire protocol (docs/protocol.md) as pydantic models, in one package.

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

The models live in `base` (limits, the common model), `frames`, `entries` and `problems`
(validation errors as sentences); import them from here.
"""

from kenar_core.protocol.base import (
    CONSOLE_KINDS,
    MAX_ID,
    MAX_INSTANCE,
    MAX_NAME,
    MAX_NOTE,
    MAX_REF,
    MAX_STATE,
    MIN_STATE,
    PRESENCE_STATES,
    RELAY_KINDS,
    PresenceState,
    Seq,
)
from kenar_core.protocol.entries import (
    ENTRY,
    ENTRY_KINDS,
    POSTED_ENTRIES,
    POSTED_ENTRY,
    AccessRevocationData,
    AccessRevocationEntry,
    AssignmentData,
    AssignmentEntry,
    ButtonPressedData,
    ButtonPressedEntry,
    Entry,
    MessageEntry,
    NoteData,
    NoteEntry,
    OtherEntry,
    PaymentEntry,
    PostedEntry,
    PostUpdateEntry,
    ReplyData,
    ReplyEntry,
    UnknownData,
    UnknownEntry,
)
from kenar_core.protocol.frames import (
    CONSOLE_FRAME,
    CONSOLE_FRAMES,
    RELAY_FRAME,
    RELAY_FRAME_TYPES,
    AckFrame,
    ConsoleFrame,
    EntryFrame,
    ErrorFrame,
    GapFrame,
    HelloFrame,
    LiveFrame,
    OAuthFrame,
    OAuthStateFrame,
    PostedFrame,
    PostFailedFrame,
    PostFrame,
    PresenceFrame,
    PresenceNoticeFrame,
    RelayFrame,
    UnknownRelayFrame,
    WelcomeFrame,
)
from kenar_core.protocol.problems import (
    problem,
)

__all__ = [
    "CONSOLE_FRAME",
    "CONSOLE_FRAMES",
    "CONSOLE_KINDS",
    "ENTRY",
    "ENTRY_KINDS",
    "MAX_ID",
    "MAX_INSTANCE",
    "MAX_NAME",
    "MAX_NOTE",
    "MAX_REF",
    "MAX_STATE",
    "MIN_STATE",
    "POSTED_ENTRIES",
    "POSTED_ENTRY",
    "PRESENCE_STATES",
    "RELAY_FRAME",
    "RELAY_FRAME_TYPES",
    "RELAY_KINDS",
    "AccessRevocationData",
    "AccessRevocationEntry",
    "AckFrame",
    "AssignmentData",
    "AssignmentEntry",
    "ButtonPressedData",
    "ButtonPressedEntry",
    "ConsoleFrame",
    "Entry",
    "EntryFrame",
    "ErrorFrame",
    "GapFrame",
    "HelloFrame",
    "LiveFrame",
    "MessageEntry",
    "NoteData",
    "NoteEntry",
    "OAuthFrame",
    "OAuthStateFrame",
    "OtherEntry",
    "PaymentEntry",
    "PostFailedFrame",
    "PostFrame",
    "PostUpdateEntry",
    "PostedEntry",
    "PostedFrame",
    "PresenceFrame",
    "PresenceNoticeFrame",
    "PresenceState",
    "RelayFrame",
    "ReplyData",
    "ReplyEntry",
    "Seq",
    "UnknownData",
    "UnknownEntry",
    "UnknownRelayFrame",
    "WelcomeFrame",
    "problem",
]
