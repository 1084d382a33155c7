"""A timeline entry read once, typed: what `EntryApplier` needs of each entry.

The relay sends entries as JSON objects (docs/protocol.md, `kenar_core.protocol.Entry`); the
console stores each as it came. Validating every one with the protocol's models would cost
the batch path (a backlog of thousands) and refuse entries the console shows today, so the
applier reads each through this view, built once per entry with the same tolerant rules:
a missing or empty key is None, `data` is always an object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kenar_tui.history import as_dict


def _id(value: object) -> str | None:
    """A conversation id or post token as text; empty or missing is None."""
    if isinstance(value, str):
        return value or None
    return str(value) if value else None


@dataclass(frozen=True, slots=True)
class EntryView:
    """One entry's common keys (`kenar_core.protocol.entries._Entry`) and its `data`."""

    wire: dict[str, Any]  # the entry as stored, shown and handed to notices
    kind: str
    conversation_id: str | None
    post_token: str | None
    data: dict[str, Any]
    received_at: object
    raw: object

    @classmethod
    def of(cls, entry: dict[str, Any], kind: str) -> EntryView:
        return cls(
            wire=entry,
            kind=kind,
            conversation_id=_id(entry.get("conversation_id")),
            post_token=_id(entry.get("post_token")),
            data=as_dict(entry.get("data")),
            received_at=entry.get("received_at"),
            raw=entry.get("raw"),
        )

    @property
    def conversation(self) -> str | None:
        """The entry's conversation, or the one its `data` names (button presses, notes)."""
        return self.conversation_id or _id(self.data.get("conversation_id"))

    @property
    def post(self) -> str | None:
        """The entry's post token, or the one its `data` names."""
        return self.post_token or _id(self.data.get("post_token"))
