"""Closing a revoked token's open connections within seconds.

`kenar-relay token revoke NAME` rewrites the token file; the relay re-reads it when it changes
(relay/tokens.py), which refuses new connections at once. With the Redis store the tokens live
in Redis (relay/tokens_redis.py): the CLI publishes {"t": "tokens"} on the bus after its write,
which wakes this watcher at once, and each pass re-reads the shared book if it changed, so a
lost message costs at most one `interval`. Each pass closes every open connection whose token
is no longer valid (revoked, or replaced by a new token of the same name) with 1008 "token
revoked". It also tells the other replicas on the bus, which close their connections made with
the same token even before their own copy changes. A revoked name's console instances stop
holding back purge-after-ack (relay/acks.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from kenar_core.lifecycle import stop_task
from relay.acks import AckBook
from relay.bus import Bus
from relay.errors import TokenError
from relay.hub import Hub
from relay.tokens import Identity, TokenReads

REVOKED_REASON = "token revoked"
DEFAULT_INTERVAL_S = 1.0


class RevocationWatch:
    """`async with RevocationWatch(...)`: the watcher task; `check()` runs one pass."""

    def __init__(
        self,
        *,
        tokens: TokenReads,
        hub: Hub,
        bus: Bus,
        acks: AckBook,
        logger: logging.Logger,
        interval: float = DEFAULT_INTERVAL_S,
    ) -> None:
        self._tokens = tokens
        self._hub = hub
        self._bus = bus
        self._acks = acks
        self._log = logger
        self._interval = interval
        self._task: asyncio.Task[None] | None = None
        self._told: set[str] = set()  # digests already published (once each)
        self._closing: set[asyncio.Task[int]] = set()
        self._wake = asyncio.Event()  # set by a "tokens" bus message: re-read now, not later
        bus.subscribe(self._on_bus)

    async def __aenter__(self) -> RevocationWatch:
        self._task = asyncio.create_task(self._loop(), name="relay-revocation")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._task is not None:
            await stop_task(self._task)
            self._task = None

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self._tokens.refresh()  # a shared book's changes; the file's own re-read
                await self.check()
            except Exception:  # the watcher must outlive one bad pass; say what happened
                self._log.exception("revocation check failed")

    async def check(self) -> int:
        """Close the connections of tokens no longer valid; returns how many were closed."""
        revoked: list[object] = []
        digests: dict[str, Identity] = {}
        for session in self._hub.sessions():
            identity = getattr(session, "identity", None)
            if isinstance(identity, Identity) and not self._tokens.holds(identity):
                revoked.append(session)
                digests[identity.digest] = identity
        for digest, identity in digests.items():
            if digest not in self._told:
                self._told.add(digest)
                self._log.info("token revoked, closing its consoles name=%s", identity.name)
                await self._bus.publish({"t": "revoked", "digest": digest})
            with contextlib.suppress(TokenError):
                if not any(info.name == identity.name for info in self._tokens.list()):
                    self._acks.forget_token(identity.name)
        if not revoked:
            return 0
        return await self._hub.close_sessions(revoked, REVOKED_REASON)

    def _on_bus(self, message: dict[str, Any]) -> None:
        if message.get("t") == "tokens":
            self._wake.set()
            return
        if message.get("t") != "revoked" or not isinstance(message.get("digest"), str):
            return
        digest = message["digest"]
        matching = [
            s
            for s in self._hub.sessions()
            if getattr(getattr(s, "identity", None), "digest", None) == digest
        ]
        if matching:
            self._told.add(digest)
            task = asyncio.get_running_loop().create_task(
                self._hub.close_sessions(matching, REVOKED_REASON)
            )
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
