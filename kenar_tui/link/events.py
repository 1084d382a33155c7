"""What the relay link reports to the console, in the order it happens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class LinkState:
    """The connection changed: `detail` is a sentence for the status bar."""

    # "refused": the relay turned the token down; the link stops until it is fixed.
    state: Literal["connecting", "online", "offline", "refused"]
    detail: str
    retry_in: float | None = None  # seconds until the next attempt, when offline
    # When online: the relay's last seq as its welcome said. Entries up to it are the
    # backlog, which the console catches up on before it is live (controllers/live_feed.py).
    head: int = 0


@dataclass(frozen=True, slots=True)
class LinkEntry:
    """One timeline entry, in seq order, each seq once."""

    seq: int
    entry: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LinkGap:
    """The relay purged entries after `since` and before `oldest` (its retention)."""

    since: int
    oldest: int


@dataclass(frozen=True, slots=True)
class LinkLive:
    """The backlog is delivered; what follows is live."""

    seq: int


@dataclass(frozen=True, slots=True)
class LinkPresence:
    """A teammate's presence changed (ephemeral; never in the timeline)."""

    operator: str
    conversation_id: str
    state: str  # viewing | replying | idle
    expires_in: float

    def frame(self) -> dict[str, Any]:
        return {
            "type": "presence",
            "operator": self.operator,
            "conversation_id": self.conversation_id,
            "state": self.state,
            "expires_in": self.expires_in,
        }


LinkEvent = LinkState | LinkEntry | LinkGap | LinkLive | LinkPresence
