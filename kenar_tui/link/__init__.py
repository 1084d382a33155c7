"""The console's side of the relay protocol (docs/protocol.md): `RelayLink`."""

from kenar_core.backoff import retry_delay
from kenar_tui.link.events import (
    LinkEntry,
    LinkEvent,
    LinkGap,
    LinkLive,
    LinkPresence,
    LinkState,
)
from kenar_tui.link.relay_link import RelayLink

__all__ = [
    "LinkEntry",
    "LinkEvent",
    "LinkGap",
    "LinkLive",
    "LinkPresence",
    "LinkState",
    "RelayLink",
    "retry_delay",
]
