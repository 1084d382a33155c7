"""Who is looking at or typing in which conversation: ephemeral, never in the timeline.

Each console connection has at most one presence (a conversation and a state). A change is
published on the bus (relay/bus.py) so every replica learns it; each replica keeps its own
book and tells its connected consoles, except the one the presence belongs to. A presence
ends when its connection closes (a clearing frame, state "idle") or when it is not refreshed
within the TTL (each replica sweeps its book and clears expired ones itself, which also
covers a replica that died without saying goodbye).

Frame to consoles: {"type": "presence", "operator", "conversation_id", "state", "expires_in"}.

Presence is state, not a log, so nothing about it queues up:
each console's outgoing presence is a `PresenceOutbox` holding the newest notice per
teammate connection (a newer one replaces the one still waiting), and what one connection
may announce is rate-limited by its `PresenceAnnouncer` (past the rate only its newest state
is kept and published when the rate allows). A burst of changes from one console can
therefore neither fill another console's control queue nor get it disconnected.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from kenar_core.lifecycle import stop_task
from kenar_core.protocol import PresenceNoticeFrame
from relay.bus import Bus

DEFAULT_TTL = 30.0
# What one connection may announce: a person switching conversations quickly stays well
# inside this; past it only the newest state is kept (PresenceAnnouncer).
ANNOUNCE_BURST = 20
ANNOUNCE_PER_SECOND = 10.0
STATES = ("viewing", "replying", "idle")
MAX_CONVERSATION_ID = 200


@dataclass(slots=True)
class Presence:
    connection: str  # "<replica>:<n>", unique across replicas
    operator: str
    conversation_id: str
    state: str
    expires_at: float


@dataclass(frozen=True, slots=True)
class PresenceNotice:
    """One change to tell consoles about: `origin`'s presence is now `state` on `conversation_id`.

    Kept as data until it is written, so a console's outbox can replace a waiting notice
    with a newer one of the same origin, and `expires_in` is counted when it is sent.
    """

    origin: str  # the connection the presence belongs to
    operator: str
    conversation_id: str
    state: str
    expires_at: float

    def frame(self, now: float) -> str:
        expires_in = 0.0 if self.state == "idle" else self.expires_at - now
        return presence_frame(self.operator, self.conversation_id, self.state, expires_in)


Deliver = Callable[[PresenceNotice], None]


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

    def join(self, connection: str, deliver: Deliver) -> list[PresenceNotice]:
        """Start telling `connection` about presence; returns the current snapshot."""
        self._listeners[connection] = deliver
        self._start_sweeper()
        now = self._clock()
        return [
            PresenceNotice(p.connection, p.operator, p.conversation_id, p.state, p.expires_at)
            for p in self._present.values()
            if p.connection != connection and p.expires_at > now
        ]

    def now(self) -> float:
        """The book's clock (what `PresenceNotice.expires_at` is measured on)."""
        return self._clock()

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
        notice = PresenceNotice(origin, operator, cid, state, self._clock() + expires_in)
        for connection, deliver in list(self._listeners.items()):
            if connection != origin:
                deliver(notice)

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


class PresenceOutbox:
    """One console's presence notices waiting to be written: the newest per teammate connection.

    A newer notice of the same origin replaces the waiting one, so this holds at most one
    notice per connection that has a presence (bounded by the relay's connection caps), however
    fast teammates change. When written, it is compared with what this console was last told
    about that origin: a move from one conversation to another, even one whose steps were
    replaced here, still clears the old conversation first, and a clearing of something this
    console was never told is not sent at all.
    """

    def __init__(self) -> None:
        self._waiting: dict[str, PresenceNotice] = {}
        self._told: dict[str, PresenceNotice] = {}  # origin -> the live presence last written

    def __bool__(self) -> bool:
        return bool(self._waiting)

    def put(self, notice: PresenceNotice) -> None:
        self._waiting.pop(notice.origin, None)  # re-inserted last: origins keep their order
        self._waiting[notice.origin] = notice

    def take(self, now: float) -> list[str]:
        """The frames to write now, in order; what was waiting is gone."""
        frames: list[str] = []
        waiting, self._waiting = self._waiting, {}
        for origin, notice in waiting.items():
            told = self._told.get(origin)
            if told is not None and told.conversation_id != notice.conversation_id:
                frames.append(presence_frame(told.operator, told.conversation_id, "idle", 0))
                del self._told[origin]
                told = None
            if notice.state == "idle":
                if told is not None:
                    frames.append(notice.frame(now))
                    del self._told[origin]
                continue
            frames.append(notice.frame(now))
            self._told[origin] = notice
        return frames


class PresenceAnnouncer:
    """What one connection may announce: `burst` changes at once, then `per_second`.

    Past the rate the newest state is held and published as soon as the rate allows; states
    it replaces are dropped (presence is state: only the newest matters), and each burst is
    logged once, as one INFO line when it starts. The connection is never closed for it.
    """

    def __init__(
        self,
        publish: Callable[[str, str], Awaitable[None]],
        *,
        logger: logging.Logger,
        name: str,
        burst: int = ANNOUNCE_BURST,
        per_second: float = ANNOUNCE_PER_SECOND,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._publish = publish
        self._log = logger
        self._name = name
        self._burst = burst
        self._rate = per_second
        self._clock = clock
        self._tokens = float(burst)
        self._at = clock()
        self._held: tuple[str, str] | None = None
        self._limited = False  # in a burst: logged once, until the allowance is whole again
        self._later: asyncio.Task[None] | None = None

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
        self._at = now
        if self._tokens >= self._burst:
            self._limited = False

    async def announce(self, cid: str, state: str) -> None:
        self._refill()
        if self._held is None and self._tokens >= 1:
            self._tokens -= 1
            await self._publish(cid, state)
            return
        self._held = (cid, state)  # replaces the one held before: only the newest matters
        if not self._limited:
            self._limited = True
            self._log.info(
                "presence burst name=%s: more than %d changes at once, "
                "only the newest is published, at most %g a second",
                self._name,
                self._burst,
                self._rate,
            )
        if self._later is None:
            self._later = asyncio.create_task(self._publish_held(), name="relay-presence-held")

    async def _publish_held(self) -> None:
        try:
            while self._held is not None:
                self._refill()
                if self._tokens < 1:
                    await asyncio.sleep((1 - self._tokens) / self._rate)
                    continue
                self._tokens -= 1
                cid, state = self._held
                self._held = None
                await self._publish(cid, state)
        finally:
            self._later = None

    async def aclose(self) -> None:
        """Stop publishing held states (the connection is gone; its presence is cleared)."""
        self._held = None
        if self._later is not None:
            await stop_task(self._later)
