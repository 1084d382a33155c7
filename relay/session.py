"""One console's websocket, from `hello` to close (the protocol is in docs/protocol.md).

Backlog then live, without a gap or a repeat: the backlog is streamed from the store in
batches; then the console subscribes to the hub and reads the store once more from the last
`seq` sent, which covers whatever committed in between; live entries at or below the last
`seq` sent are skipped. One task writes to the socket (the sender); the reader only queues
control frames for it, so frames never interleave. Entry frames go out a batch at a time
(a backlog batch, or whatever the hub queued since the last wake-up) in one socket write
when the connection allows it (relay.wire.FrameWriter), else one ASGI send each.

The backlog, and the `gap` frames for entries removed before or while it is read, are
relay/catchup.py. Presence is state, not a log (relay/presence.py): teammates' notices wait in
a `PresenceOutbox` that keeps the newest per teammate connection, beside the control queue,
never in it; and what this console announces passes its `PresenceAnnouncer` (a rate limit).

A console is not trusted (docs/security.md): it posts and announces presence as its token's
name; its acknowledgements count only up to what this connection sent; control frames
waiting for it are bounded (`control_queue`, then 1013); a token has at most
`max_consoles_per_token` connections at once (HTTP 429 past it), and the relay at most
`max_consoles` (HTTP 503 past it).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from kenar_core.protocol import (
    AckFrame,
    ConsoleFrame,
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
)
from relay.catchup import Catchup
from relay.context import RelayContext
from relay.errors import SessionClosed as _Close
from relay.errors import StoreError, TooManyInstances
from relay.hello import CLOSE_POLICY, CLOSE_TRY_AGAIN, read_hello, receive_frame, refusal
from relay.hub import Queued, Subscription
from relay.oauth import CLAIM_TTL_S, claim_name
from relay.posts import PostRefused, console_entry
from relay.presence import PresenceAnnouncer, PresenceNotice, PresenceOutbox
from relay.tokens import Identity
from relay.wire import EntryFrame, FrameWriter


class ConsoleSession:
    def __init__(self, ws: WebSocket, ctx: RelayContext, *, identity: Identity) -> None:
        self._ws = ws
        self._ctx = ctx
        self.identity = identity
        self._token_name = identity.name
        self.instance = ""
        self._log = ctx.logger
        self._control: deque[str] = deque()
        self._control_full = False
        self._wake = asyncio.Event()
        self._closing: _Close | None = None
        self._closed = asyncio.Event()
        self._stop = asyncio.Event()
        self.operator = identity.name
        self.acked = 0
        self.sent_seq = 0  # the highest seq this connection has sent (or the hello's cursor)
        self.connection = ctx.presence.connection_id()
        self._last_presence: tuple[str, str, float] | None = None
        self._presence_out = PresenceOutbox()
        self._announcer = PresenceAnnouncer(self._announce, logger=self._log, name=self._token_name)
        self._catchup: Catchup | None = None
        self._writer: FrameWriter | None = None
        self._idle = False  # the sender is parked waiting for work (see _write_direct)
        self._live_last = 0

    async def run(self) -> None:
        ctx = self._ctx
        refused = refusal(ctx, self._token_name)
        if refused is not None:
            await self._ws.send_denial_response(refused)
            return
        # Counted from here, before the upgrade's first await: concurrent upgrades cannot
        # all pass the caps above at once.
        ctx.hub.join(self, self.close, token=self._token_name)
        work: asyncio.Task[None] | None = None
        stop = asyncio.create_task(self._stop.wait())
        try:
            await self._ws.accept()
            self._writer = FrameWriter.attach(self._ws.scope)
            self._log.info("console connected name=%s", self._token_name)
            work = asyncio.create_task(self._work())
            await asyncio.wait({work, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            tasks = [task for task in (work, stop) if task is not None]
            for task in tasks:
                task.cancel()
            outcome, *_ = await asyncio.gather(*tasks, return_exceptions=True)
            if work is not None and isinstance(outcome, BaseException):
                exc = outcome
                if isinstance(exc, _Close):
                    self._closing = self._closing or exc
                elif not isinstance(exc, WebSocketDisconnect | OSError | asyncio.CancelledError):
                    self._log.error(
                        "console session failed error=%s", type(exc).__name__, exc_info=exc
                    )
            ctx.hub.leave(self)
            for state in ctx.oauth.forget(self):
                await ctx.bus.release(claim_name(state))
            await self._announcer.aclose()
            await ctx.presence.leave(self.connection)
            await self._finish()
            ctx.acks.save(lazily=False)  # what this console acknowledged outlives a restart
            self._log.info("console gone name=%s acked=%d", self._token_name, self.acked)

    async def _work(self) -> None:
        await self._hello()
        sender = asyncio.create_task(self._send_timeline())
        reader = asyncio.create_task(self._read_frames())
        try:
            await asyncio.wait({sender, reader}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sender, reader):
                task.cancel()
            closing: _Close | None = None
            for exc in await asyncio.gather(sender, reader, return_exceptions=True):
                if isinstance(exc, _Close) and closing is None:
                    closing = exc
                elif isinstance(exc, Exception) and not isinstance(
                    exc, _Close | WebSocketDisconnect | OSError
                ):
                    self._log.error(
                        "console session failed error=%s", type(exc).__name__, exc_info=exc
                    )
        if closing is not None:
            raise closing

    async def close(self, code: int, reason: str) -> None:
        """Close from outside (shutdown): stop the work, send the close frame, wait for the end."""
        self._closing = self._closing or _Close(code, reason)
        self._stop.set()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(3):
                await self._closed.wait()

    async def _finish(self) -> None:
        close = self._closing
        try:
            async with asyncio.timeout(3):
                if close is not None:
                    if close.error:
                        await self._ws.send_text(ErrorFrame(message=close.error).json_text())
                    await self._ws.close(close.code, close.reason)
                else:
                    await self._ws.close(1000)
        except (TimeoutError, WebSocketDisconnect, OSError, RuntimeError):
            pass
        finally:
            self._closed.set()

    # --- receiving ----------------------------------------------------------------------------

    async def _receive_frame(self) -> ConsoleFrame:
        return await receive_frame(self._ws, max_depth=self._ctx.config.max_json_depth)

    async def _hello(self) -> int:
        ctx = self._ctx
        try:
            async with asyncio.timeout(ctx.config.hello_timeout):
                frame = await self._receive_frame()
        except TimeoutError:
            raise _Close(CLOSE_POLICY, "no hello", "the first frame must be hello") from None
        hello = read_hello(frame, token_name=self._token_name)
        since, self.instance = hello.since, hello.instance
        try:
            ctx.acks.register(self._token_name, self.instance)
        except TooManyInstances as exc:
            raise _Close(CLOSE_POLICY, "too many console instances", str(exc)) from None
        self._catchup = Catchup(
            ctx.store,
            self._ws,
            self._writer,
            on_sent=self._catching_up,
            between_batches=self._flush_control,
        )
        await self._catchup.start(since, operator=self.operator)
        self.sent_seq = self._catchup.sent
        return self.sent_seq

    def _catching_up(self, seq: int) -> None:
        self.sent_seq = seq

    async def _read_frames(self) -> None:
        while True:
            frame = await self._receive_frame()
            if isinstance(frame, PostFrame):
                await self._post(frame)
            elif isinstance(frame, OAuthStateFrame):
                await self._oauth_state(frame)
            elif isinstance(frame, PresenceFrame):
                await self._presence(frame)
            elif isinstance(frame, AckFrame):
                # Only what this connection sent can have been stored by the console.
                self.acked = max(self.acked, min(frame.seq, self.sent_seq))
                self._ctx.acks.record(self._token_name, self.instance, self.acked)
            else:
                assert isinstance(frame, HelloFrame)
                raise _Close(CLOSE_POLICY, "bad frame", "hello is sent once, first")

    def _queue(self, text: str) -> None:
        if self._control_full:
            return
        if len(self._control) >= self._ctx.config.control_queue:
            # The console does not read: drop what waits, and close it (1013) from the sender.
            self._control_full = True
            self._control.clear()
            self._ctx.metrics.count_cut_off()
        else:
            self._control.append(text)
        self._wake.set()

    async def _post(self, frame: PostFrame) -> None:
        ref = frame.ref
        try:
            entry = console_entry(frame.entry, token_name=self._token_name)
        except PostRefused as exc:
            raise _Close(CLOSE_POLICY, "bad frame", f"post refused: {exc}") from None
        try:
            appended = await self._ctx.store.append(entry, dedupe=f"post:{self._token_name}:{ref}")
        except StoreError:
            self._ctx.metrics.count_store_failure()
            message = "the relay could not store the entry; post it again later"
            self._queue(PostFailedFrame(ref=ref, message=message).json_text())
            return
        if not appended.duplicate:
            self._ctx.metrics.count_stored()
        self._queue(PostedFrame(ref=ref, seq=appended.seq).json_text())

    def _hand_oauth(self, frame: dict[str, Any]) -> None:
        """An `oauth` frame from the callback (maybe another replica's) to this console."""
        self._queue(OAuthFrame.model_validate(frame).json_text())

    async def _oauth_state(self, frame: OAuthStateFrame) -> None:
        state = frame.state
        owner = f"{self._token_name}/{self.instance}"
        answer = self._ctx.oauth.announce(self, state, self._hand_oauth, owner_key=owner)
        if answer == "too_many":
            raise _Close(CLOSE_POLICY, "bad frame", "too many logins waiting on one connection")
        # Replicas: the callback may land on another one, which looks for this claim; the
        # first console to announce a live state keeps it (docs/security.md).
        if answer == "taken" or not await self._ctx.bus.claim(
            claim_name(state), CLAIM_TTL_S, owner
        ):
            if answer == "ok":
                self._ctx.oauth.forget_state(self, state)
            self._log.info("oauth state refused reason=taken name=%s", self._token_name)
            refused = "another console is waiting for this login; start it again"
            self._queue(OAuthFrame(state=state, error=refused).json_text())

    async def _presence(self, frame: PresenceFrame) -> None:
        cid, state = frame.conversation_id, frame.state
        now = time.monotonic()
        last = self._last_presence
        if last is not None and last[:2] == (cid, state) and now - last[2] < 1.0:
            return  # a repeat within a second says nothing new; spare the other replicas
        self._last_presence = (cid, state, now)
        await self._announcer.announce(cid, state)

    async def _announce(self, cid: str, state: str) -> None:
        await self._ctx.presence.update(self.connection, self.operator, cid, state)

    def _queue_presence(self, notice: PresenceNotice) -> None:
        """A teammate's presence changed: it replaces any notice of theirs still waiting."""
        self._presence_out.put(notice)
        self._wake.set()

    # --- sending ------------------------------------------------------------------------------

    async def _flush_control(self) -> None:
        if self._control_full:
            raise _Close(CLOSE_TRY_AGAIN, "too slow reading: reconnect and resume")
        while self._control:
            await self._ws.send_text(self._control.popleft())
        while self._presence_out:
            for text in self._presence_out.take(self._ctx.presence.now()):
                await self._ws.send_text(text)

    async def _send_timeline(self) -> None:
        ctx = self._ctx
        catchup = self._catchup
        assert catchup is not None  # made by _hello
        await catchup.stream()
        subscription = ctx.hub.subscribe(self._wake)
        try:
            position = await catchup.stream()  # what committed before the subscription
            await self._ws.send_text(LiveFrame(seq=catchup.sent).json_text())
            for notice in ctx.presence.join(self.connection, self._queue_presence):
                self._queue_presence(notice)
            await self._send_live(subscription, position)
        finally:
            ctx.hub.unsubscribe(subscription)

    async def _send_frames(self, frames: list[EntryFrame]) -> None:
        if self._writer is not None:
            await self._writer.write(frame.wire for frame in frames)
            return
        for frame in frames:
            await self._ws.send_text(frame.text)

    async def _send_live(self, subscription: Subscription, last: int) -> None:
        self._live_last = last
        if self._writer is not None:
            subscription.direct = self._write_direct
        try:
            while True:
                self._wake.clear()
                await self._flush_control()
                if subscription.cut_off:
                    raise _Close(
                        CLOSE_TRY_AGAIN, "too slow: reconnect and resume from your last seq"
                    )
                entries = subscription.take()
                await self._send_queued(entries)
                if (
                    not entries
                    and not self._control
                    and not self._presence_out
                    and not subscription.cut_off
                ):
                    self._idle = True
                    try:
                        await self._wake.wait()
                    finally:
                        self._idle = False
        finally:
            subscription.direct = None

    async def _send_queued(self, items: list[Queued]) -> None:
        """The hub's queue in order; a LiveGap is a `gap` if this console lacks its entries."""
        fresh: list[EntryFrame] = []
        for item in [*items, None]:
            if isinstance(item, EntryFrame):
                if item.seq > self._live_last:
                    fresh.append(item)
                continue
            if fresh:
                await self._send_frames(fresh)
                self._sent(fresh)
                fresh = []
            if item is not None and item.oldest > self._live_last + 1:
                gap = GapFrame(since=self._live_last, oldest=item.oldest)
                await self._ws.send_text(gap.json_text())

    def _write_direct(self, frames: list[EntryFrame]) -> bool:
        """The hub's shortcut: write now if this sender is parked with nothing pending."""
        writer = self._writer
        if (
            not self._idle
            or self._control
            or self._presence_out
            or writer is None
            or not writer.ready
        ):
            return False
        fresh = [frame for frame in frames if frame.seq > self._live_last]
        if fresh:
            try:
                writer.write_now(frame.wire for frame in fresh)
            except OSError:
                return False  # queued instead; the sender meets the closed socket itself
            self._sent(fresh)
        return True

    def _sent(self, frames: list[EntryFrame]) -> None:
        self._live_last = self.sent_seq = frames[-1].seq
        now = time.time()
        observe = self._ctx.metrics.observe_lag
        for frame in frames:
            observe(now - frame.received_at_us / 1e6)
