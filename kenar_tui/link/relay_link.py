"""`RelayLink`: one websocket to the relay, kept open for as long as the console runs.

It says `hello` with the last seq the console holds, hands entries on in seq order exactly
once (a seq at or below the last one delivered is dropped, so a reconnect's overlap is
harmless), and when the connection fails it reports why in plain words and reconnects after
an exponential, jittered back-off capped at `backoff_cap` seconds. What it says when something
goes wrong is worded in failures.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import ValidationError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, InvalidURI, WebSocketException

from kenar_core.backoff import retry_delay
from kenar_core.errors import LoginError, RelayUnavailable
from kenar_core.lifecycle import AsyncResource, stop_task, wait_stopped
from kenar_core.protocol import (
    RELAY_FRAME,
    AckFrame,
    EntryFrame,
    ErrorFrame,
    GapFrame,
    HelloFrame,
    LiveFrame,
    OAuthFrame,
    OAuthStateFrame,
    PostedFrame,
    PostFrame,
    PresenceFrame,
    PresenceNoticeFrame,
    RelayFrame,
    WelcomeFrame,
)
from kenar_core.redaction import quiet_wire_logs
from kenar_tui.auth.relay_callback import relay_ws_url
from kenar_tui.link.events import LinkEntry, LinkEvent, LinkGap, LinkLive, LinkPresence, LinkState
from kenar_tui.link.failures import (
    PERMANENT_REFUSALS,
    TOKEN_REFUSED,
    Refused,
    close_reason,
    describe_failure,
    public_url,
    rule_broken,
)

ACK_EVERY = 200  # entries between acknowledgements
# Frames from the relay waiting for the console to take them, at most. When full, the link
# stops reading its socket until the console catches up (TCP pushes back; a relay that gives
# up on us closes with 1013 and we resume from the cache's last seq): never unbounded memory.
EVENT_QUEUE = 10_000
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_CLOSED = object()


class RelayLink(AsyncResource):
    """`async with RelayLink(url, token, since=...) as link:`; read `link.events()`."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        since: Callable[[], int] = lambda: 0,
        operator: str | None = None,
        instance: str | None = None,
        logger: logging.Logger | None = None,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        open_timeout: float = 10.0,
        post_timeout: float = 15.0,
        ping_interval: float = 20.0,
        rand: Callable[[], float] = random.random,
    ) -> None:
        # wss://relay.example.com (as docs/deploy.md writes it) means its /ws endpoint.
        url = relay_ws_url(url)
        parts = urlsplit(url)
        self.url = url
        self.public_url = public_url(url)
        self._token = token
        self._since = since
        self.operator = operator
        self.instance = instance  # this console's cache, so the relay counts its acks apart
        self.log = logger or logging.getLogger("kenar_tui.link")
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.open_timeout = open_timeout
        self.post_timeout = post_timeout
        self.ping_interval = ping_interval
        self._rand = rand
        self._proxy: Literal[True] | None = None if parts.hostname in LOOPBACK else True
        self._events: asyncio.Queue[object] = asyncio.Queue()
        self._room = asyncio.Semaphore(EVENT_QUEUE)  # taken per relay frame queued, see EVENT_QUEUE
        self._online = asyncio.Event()
        self._ws: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._posts: dict[str, asyncio.Future[int]] = {}
        self._oauth: dict[str, asyncio.Future[str]] = {}
        self._last_delivered = 0
        self._last_acked = 0
        self._unacked = 0
        self._closed = False
        self.state: LinkState = LinkState("offline", "not connected yet")
        self.head = 0
        self.oldest = 0
        self.relay_version: str | None = None
        self.welcome_operator: str | None = None  # the name the relay says we post as

    def __repr__(self) -> str:
        return f"RelayLink({self.public_url!r}, state={self.state.state!r})"

    # --- lifetime --------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        self.start()
        return self

    def start(self) -> None:
        """Begin connecting (and reconnecting) in the background."""
        if self._task is None and not self._closed:
            self._last_delivered = self._since()
            self._task = asyncio.create_task(self._run(), name="relay-link")

    async def aclose(self) -> None:
        """Disconnect and stop; `events()` ends. Calling it again does nothing."""
        if self._closed:
            return
        self._closed = True
        if self._task is not None:
            await stop_task(self._task)
        self._fail_pending("the console is closing the relay link")
        for future in self._oauth.values():
            if not future.done():
                future.set_exception(RelayUnavailable("the relay link was closed"))
        self._events.put_nowait(_CLOSED)
        self.log.info("relay link closed")

    @property
    def online(self) -> bool:
        return self._online.is_set()

    async def wait_online(self) -> None:
        """Return once connected and welcomed (wrap in `asyncio.timeout` to bound it)."""
        await self._online.wait()

    async def stopped(self) -> None:
        """Returns once the link has stopped trying: its token was refused, or it was closed."""
        if self._task is not None:
            await wait_stopped(self._task, shield=True)

    async def events(self) -> AsyncIterator[LinkEvent]:
        """Connection changes and timeline entries, in order, until the link is closed."""
        while True:
            event = await self._events.get()
            if event is _CLOSED:
                return
            if not isinstance(event, LinkState):
                self._room.release()
            assert isinstance(event, LinkState | LinkEntry | LinkGap | LinkLive | LinkPresence)
            yield event

    # --- requests --------------------------------------------------------------------------

    async def post(self, entry: dict[str, Any], ref: str | None = None) -> int:
        """Append `entry` to the timeline; returns its seq once the relay stored it."""
        ws = self._ws
        if ws is None or not self.online:
            raise RelayUnavailable(f"not connected to the relay at {self.public_url}")
        ref = ref or uuid.uuid4().hex
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._posts[ref] = future
        try:
            await ws.send(PostFrame(ref=ref, entry=entry).json_text())
            async with asyncio.timeout(self.post_timeout):  # keeps the caller's cancel (3.11)
                return await future
        except TimeoutError:
            raise RelayUnavailable(
                f"the relay did not confirm the post within {self.post_timeout:.0f} s"
            ) from None
        except ConnectionClosed:
            raise RelayUnavailable("the connection to the relay dropped while posting") from None
        finally:
            self._posts.pop(ref, None)

    async def oauth_code(self, state: str, timeout: float = 300) -> str:  # noqa: ASYNC109
        """Wait for the OAuth code the relay receives for `state` (LoginError when refused)."""
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._oauth[state] = future
        try:
            if self.online:
                await self._send(OAuthStateFrame(state=state))
            # Otherwise it is announced on the next welcome.
            async with asyncio.timeout(timeout):  # keeps the caller's cancel (3.11)
                return await future
        except TimeoutError:
            raise LoginError(
                f"no login answer came back through the relay within {timeout:.0f} s"
            ) from None
        finally:
            self._oauth.pop(state, None)

    async def presence(self, conversation_id: str, state: str) -> None:
        """Tell teammates this console is viewing, replying in or idle on a conversation.

        Ephemeral: skipped while offline (the console announces itself again once live).
        """
        if not self.online:
            return
        try:
            frame = PresenceFrame.model_validate(
                {"conversation_id": conversation_id, "state": state}
            )
        except ValidationError as exc:  # the relay would close on it: say so, stay connected
            self.log.warning("presence not sent: %s", rule_broken(exc))
            return
        await self._send(frame)

    async def ack(self, seq: int) -> None:
        """Tell the relay everything up to `seq` is stored here (skipped when offline)."""
        if seq > self._last_acked and self.online:
            await self._send(AckFrame(seq=seq))
            self._last_acked = seq

    # --- the connection loop ---------------------------------------------------------------

    async def _run(self) -> None:
        attempt = 0
        while not self._closed:
            self._set_state(LinkState("connecting", f"connecting to {self.public_url}"))
            try:
                welcomed = await self._session()
                reason = welcomed[1]
                if welcomed[0]:
                    attempt = 0
            except Refused as exc:
                self.log.warning("%s", exc)
                self._set_state(LinkState("refused", str(exc)))
                return
            except (OSError, TimeoutError, WebSocketException) as exc:
                if isinstance(exc, InvalidStatus) and exc.response.status_code == 401:
                    # Retrying a wrong token only fills the relay's log: stop and say so.
                    self.log.warning("relay refused the console token (HTTP 401)")
                    self._set_state(LinkState("refused", TOKEN_REFUSED))
                    return
                if isinstance(exc, InvalidURI):
                    reason = "the relay URL is invalid"
                else:
                    reason = describe_failure(exc, self.url)
            except Exception as exc:  # never let the link die silently: say so and retry
                self.log.exception("relay link failed unexpectedly")
                reason = f"unexpected error ({type(exc).__name__})"
            finally:
                self._ws = None
                self._online.clear()
                self._fail_pending("the connection to the relay dropped before it confirmed")
            delay = retry_delay(
                attempt, base=self.backoff_base, cap=self.backoff_cap, rand=self._rand
            )
            attempt += 1
            shown = f"{delay:.0f} s" if delay >= 1 else f"{delay:.1f} s"
            self._set_state(
                LinkState(
                    "offline",
                    f"relay unreachable at {self.public_url}: {reason}; retrying in {shown}",
                    retry_in=delay,
                )
            )
            await asyncio.sleep(delay)

    async def _session(self) -> tuple[bool, str]:
        """One connection, until it ends: (whether the relay welcomed us, why it ended)."""
        welcomed = False
        async with connect(
            self.url,
            additional_headers={"Authorization": f"Bearer {self._token}"},
            open_timeout=self.open_timeout,
            ping_interval=self.ping_interval,
            ping_timeout=self.ping_interval,
            close_timeout=2,
            max_size=16 * 1024 * 1024,
            proxy=self._proxy,
            user_agent_header="kenar-tui",
            # websockets dumps request headers (the relay token) at DEBUG: dropped.
            logger=quiet_wire_logs("websockets.client"),
        ) as ws:
            self._ws = ws
            since = max(self._since(), self._last_delivered)
            hello = HelloFrame(
                since=since, operator=self.operator or None, instance=self.instance or None
            )
            await ws.send(hello.json_text())
            try:
                async for raw in ws:
                    try:
                        frame = RELAY_FRAME.validate_json(raw)
                    except ValidationError as exc:
                        # A frame this version cannot read is skipped, never fatal; the
                        # log names the rule, not the frame's content (it may be chat text).
                        self.log.warning(
                            "relay sent a frame the protocol does not allow: %s", rule_broken(exc)
                        )
                        continue
                    if isinstance(frame, WelcomeFrame):
                        welcomed = True
                    await self._handle(frame)
            except ConnectionClosed:
                pass
            code = ws.close_code
            reason = ws.close_reason or ""
        if code == 1008 and reason in PERMANENT_REFUSALS:
            # The same token and name would be refused again: retrying only fills the logs.
            raise Refused(f"the relay refused this console: {PERMANENT_REFUSALS[reason]}")
        return welcomed, close_reason(code, reason)

    async def _handle(self, frame: RelayFrame) -> None:
        if isinstance(frame, EntryFrame):  # first: nearly every frame is one
            seq, entry = frame.seq, frame.entry
            if seq <= self._last_delivered:
                return
            self._last_delivered = seq
            await self._queue_frame(LinkEntry(seq, entry))
            self._unacked += 1
            if self._unacked >= ACK_EVERY:
                self._unacked = 0
                await self.ack(self._since())
        elif isinstance(frame, WelcomeFrame):
            self.head, self.oldest = frame.head, frame.oldest
            self.relay_version = frame.relay or None
            self.welcome_operator = frame.operator or None
            self._online.set()
            self._set_state(LinkState("online", f"connected to {self.public_url}", head=frame.head))
            for state in list(self._oauth):
                await self._send(OAuthStateFrame(state=state))
        elif isinstance(frame, GapFrame):
            await self._queue_frame(LinkGap(frame.since, frame.oldest))
        elif isinstance(frame, LiveFrame):
            await self._queue_frame(LinkLive(frame.seq))
            await self.ack(self._since())
        elif isinstance(frame, PostedFrame):
            future = self._posts.get(frame.ref)
            if future is not None and not future.done():
                future.set_result(frame.seq)
        elif isinstance(frame, OAuthFrame):
            waiting = self._oauth.get(frame.state)
            if waiting is not None and not waiting.done():
                if frame.code:
                    waiting.set_result(frame.code)
                else:
                    error = frame.error or "no code came back"
                    waiting.set_exception(
                        LoginError(f"login refused: Divar did not grant access ({error})")
                    )
        elif isinstance(frame, PresenceNoticeFrame):
            await self._queue_frame(
                LinkPresence(
                    frame.operator, frame.conversation_id, frame.state, float(frame.expires_in)
                )
            )
        elif isinstance(frame, ErrorFrame):
            self.log.warning("relay error: %s", frame.message)
        else:  # post_failed (the post times out, equally safe) or a type added later
            self.log.info("relay sent a frame this console does not act on: %r", frame.type[:40])

    async def _queue_frame(self, event: LinkEvent) -> None:
        await self._room.acquire()  # waits, not reading the socket, while EVENT_QUEUE frames wait
        self._events.put_nowait(event)

    async def _send(self, frame: OAuthStateFrame | PresenceFrame | AckFrame) -> None:
        ws = self._ws
        if ws is None:
            return
        with contextlib.suppress(ConnectionClosed):
            await ws.send(frame.json_text())

    def _set_state(self, state: LinkState) -> None:
        self.state = state
        self.log.info("relay link %s: %s", state.state, state.detail)
        self._events.put_nowait(state)

    def _fail_pending(self, why: str) -> None:
        for future in self._posts.values():
            if not future.done():
                future.set_exception(RelayUnavailable(why))
