"""The base of every wire model and the limits docs/protocol.md states."""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

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
