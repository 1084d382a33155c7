"""Who is looking at or typing in which conversation: ephemeral, never in the timeline.

Each console connection has at most one presence (a conversation and a state). A change is
published on the bus (relay/bus.py) so every replica learns it; each replica keeps its own
book and tells its connected consoles, except the one the presence belongs to. A presence
ends when its connection closes (a clearing frame, state "idle") or when it is not refreshed
within the TTL (each replica sweeps its book and clears expired ones itself, which also
covers a replica that died without saying goodbye).

Frame to consoles: {"type": "presence", "operator", "conversation_id", "state", "expires_in"}.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kenar_core.lifecycle import stop_task
from kenar_core.protocol import PresenceNoticeFrame
from relay.bus import Bus

DEFAULT_TTL = 30.0
STATES = ("viewing", "replying", "idle")
MAX_CONVERSATION_ID = 200

Deliver = Callable[[str], None]


@dataclass(slots=True)
class Presence:
    connection: str  # "<replica>:<n>", unique across replicas
    operator: str
    conversation_id: str
    state: str
    expires_at: float


def presence_frame(operator: str, cid: str, state: str, expires_in: float) -> str:
    """The `presence` frame telling consoles of a teammate (`state` is one of STATES)."""
    notice = {
        "operator": operator,
        "conversation_id": cid,
        "state": state,
        "expires_in": max(math.ceil(expires_in), 0),
    }
    return PresenceNoticeFrame.model_validate(notice).json_text()


class PresenceBook:
    """This replica's view of every console's presence, fed by the bus."""

    def __init__(
        self,
        bus: Bus,
        *,
        logger: logging.Logger | None = None,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bus = bus
        self._log = logger or logging.getLogger("kenar_relay.presence")
        self.ttl = ttl
        self._clock = clock
        self._present: dict[str, Presence] = {}
        self._listeners: dict[str, Deliver] = {}
        # What this replica's own consoles last announced, known before the bus echoes it
        # back: a console that leaves at once must still be cleared everywhere.
        self._announced: dict[str, tuple[str, str]] = {}
        self._numbers = itertools.count(1)
        self._sweeper: asyncio.Task[None] | None = None
        self._closed = False
        bus.subscribe(self._on_bus)

    def connection_id(self) -> str:
        return f"{self._bus.replica}:{next(self._numbers)}"

    # --- a console's side ------------------------------------------------------------------

    def join(self, connection: str, deliver: Deliver) -> list[str]:
        """Start telling `connection` about presence; returns the current snapshot's frames."""
        self._listeners[connection] = deliver
        self._start_sweeper()
        now = self._clock()
        return [
            presence_frame(p.operator, p.conversation_id, p.state, p.expires_at - now)
            for p in self._present.values()
            if p.connection != connection and p.expires_at > now
        ]

    async def update(self, connection: str, operator: str, cid: str, state: str) -> None:
        """The console says it is viewing, replying in, or idle on `cid`."""
        if state == "idle":
            self._announced.pop(connection, None)
        else:
            self._announced[connection] = (operator, cid)
        await self._bus.publish(
            {
                "t": "presence",
                "connection": connection,
                "operator": operator,
                "conversation_id": cid,
                "state": state,
                "ttl": self.ttl,
            }
        )

    async def leave(self, connection: str) -> None:
        """The connection closed: stop telling it, and clear its presence everywhere."""
        self._listeners.pop(connection, None)
        mine = self._announced.get(connection)
        if mine is not None:
            await self.update(connection, mine[0], mine[1], "idle")

    # --- every replica ---------------------------------------------------------------------

    def _on_bus(self, message: dict[str, Any]) -> None:
        if message.get("t") != "presence":
            return
        connection = message.get("connection")
        operator = message.get("operator")
        cid = message.get("conversation_id")
        state = message.get("state")
        ttl = message.get("ttl")
        if not (
            isinstance(connection, str)
            and isinstance(operator, str)
            and isinstance(cid, str)
            and state in STATES
            and isinstance(ttl, int | float)
        ):
            return
        before = self._present.get(connection)
        if before is not None and before.conversation_id != cid:
            self._tell(before.connection, before.operator, before.conversation_id, "idle", 0)
        if state == "idle":
            self._present.pop(connection, None)
            if before is not None:
                self._tell(connection, operator, cid, "idle", 0)
            return
        self._present[connection] = Presence(connection, operator, cid, state, self._clock() + ttl)
        self._tell(connection, operator, cid, state, ttl)

    def _tell(self, origin: str, operator: str, cid: str, state: str, expires_in: float) -> None:
        frame = presence_frame(operator, cid, state, expires_in)
        for connection, deliver in list(self._listeners.items()):
            if connection != origin:
                deliver(frame)

    def sweep(self) -> int:
        """Clear every presence not refreshed within its TTL; returns how many."""
        now = self._clock()
        expired = [p for p in self._present.values() if p.expires_at <= now]
        for presence in expired:
            del self._present[presence.connection]
            self._tell(presence.connection, presence.operator, presence.conversation_id, "idle", 0)
        return len(expired)

    def _start_sweeper(self) -> None:
        if self._sweeper is None and not self._closed:
            self._sweeper = asyncio.create_task(self._sweep_loop(), name="relay-presence")

    async def _sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(max(self.ttl / 6, 0.5))
            self.sweep()

    @property
    def count(self) -> int:
        return len(self._present)

    async def aclose(self) -> None:
        self._closed = True
        self._listeners.clear()
        if self._sweeper is not None:
            await stop_task(self._sweeper)
            self._sweeper = None
