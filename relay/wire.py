"""Entry frames encoded once for every console, and written to a console's socket in batches.

The hub fans the same entry out to every console. Its frame text
(`{"type":"entry","seq":..,"entry":..}`) is made once per entry by string concatenation (the
stored payload is already the entry's JSON text), and, because a server's websocket frames
are not masked, its wire bytes are the same for every console that did not negotiate
compression: `EntryFrame.wire` is built once and written to each of them.

`FrameWriter` is the fast path for those consoles: it writes a whole batch of ready frames
with one `transport.write` on uvicorn's websockets-sansio connection instead of one ASGI
`websocket.send` (and one syscall) per frame; the profile of a 100,000-entry catch-up had
a third of the relay's time in that per-frame path. ASGI offers no way to write several
messages at once, so this reaches the server's protocol object; where that is not uvicorn's
websockets-sansio connection (its module, or the attributes used here, moved), or the console
negotiated permessage-deflate (every frame then is compressed per connection),
`FrameWriter.attach` returns None and the session sends through Starlette as before
(tests/relay/test_flow_control.py fails if the fast path stops attaching).

Flow control reads only asyncio's public transport API: a write waits while
`transport.get_write_buffer_size()` is at or above `HIGH_WATER`, never trusting uvicorn's own
"writable" flag (on some versions it was never cleared). So a console that does not read holds
at most HIGH_WATER bytes plus one batch in the relay's memory; its catch-up then stalls, and
the websocket ping times out and closes it.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterable, Mapping
from typing import Any

from websockets.frames import Frame, Opcode
from websockets.protocol import State

try:  # uvicorn's websockets-sansio connection (uvicorn >= 0.35); elsewhere: ASGI sends only
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
except ImportError:  # pragma: no cover - depends on the installed uvicorn
    WebSocketsSansIOProtocol = None  # type: ignore[assignment,misc]

from relay.store import StoredEntry

# Where relay.server's middleware leaves the server's own ASGI `send` in a websocket scope.
RAW_SEND_SCOPE_KEY = "kenar_relay.raw_send"

# Bytes the transport may hold for one console before writes wait (asyncio's default mark).
HIGH_WATER = 64 * 1024
# How often a waiting write looks at the buffer again (no public event says it drained):
# first soon (a reading console drains in well under a millisecond on a LAN), then less and
# less often, so a console that stopped reading costs ~50 wake-ups a second.
DRAIN_POLL_FIRST = 0.0005
DRAIN_POLL_MAX = 0.02
# What attach needs of uvicorn's protocol object; any of them gone means: ASGI sends only.
_PROTOCOL_ATTRIBUTES = ("transport", "conn", "disconnected", "close_sent")


class ConsoleGone(ConnectionError):
    """The console's connection closed while frames were waiting to be written."""


def entry_text(seq: int, payload: str) -> str:
    """The `entry` frame's JSON text; `payload` is the entry's JSON text, used as it is."""
    return f'{{"type":"entry","seq":{seq},"entry":{payload}}}'


def text_frame(text: str) -> bytes:
    """`text` as one final, unmasked websocket text frame, header included (a server's frames
    are not masked: RFC 6455 §5.1), framed by websockets as its own connections frame it."""
    data = text.encode()
    return _text_header(len(data)) + data


@functools.lru_cache(maxsize=4096)
def _text_header(size: int) -> bytes:
    """The header websockets writes before `size` bytes of text.

    It depends on the length only; `Frame.serialize` costs as much again as the rest of a
    catch-up frame's encoding, so it runs once per length and the header is reused (4,096
    lengths at most, the least recently used dropped first: well under a MiB).
    """
    frame = Frame(Opcode.TEXT, bytes(size)).serialize(mask=False, extensions=())
    return frame[: len(frame) - size]


class EntryFrame:
    """One committed entry as every console receives it: text made once, wire bytes once."""

    __slots__ = ("_wire", "received_at_us", "seq", "text")

    def __init__(self, stored: StoredEntry) -> None:
        self.seq = stored.seq
        self.received_at_us = stored.received_at_us
        self.text = entry_text(stored.seq, stored.payload)
        self._wire: bytes | None = None

    @property
    def wire(self) -> bytes:
        if self._wire is None:
            self._wire = text_frame(self.text)
        return self._wire


class FrameWriter:
    """Writes ready text frames straight to one uncompressed uvicorn websocket connection."""

    def __init__(self, protocol: Any, *, high_water: int = HIGH_WATER) -> None:
        self._protocol = protocol
        self._transport: asyncio.WriteTransport = protocol.transport
        self._high_water = high_water

    @classmethod
    def attach(cls, scope: Mapping[str, Any]) -> FrameWriter | None:
        """The writer for this websocket's connection, or None where only ASGI sends can do."""
        send = scope.get(RAW_SEND_SCOPE_KEY)
        protocol = getattr(send, "__self__", None)
        if WebSocketsSansIOProtocol is None or not isinstance(protocol, WebSocketsSansIOProtocol):
            return None
        if not all(hasattr(protocol, name) for name in _PROTOCOL_ATTRIBUTES):
            return None
        transport = protocol.transport
        if not hasattr(transport, "get_write_buffer_size"):
            return None
        if getattr(protocol.conn, "extensions", None):  # permessage-deflate: per connection
            return None
        return cls(protocol)

    @property
    def open(self) -> bool:
        """Whether frames may still be written (no close sent or received, socket alive)."""
        protocol = self._protocol
        return not (
            protocol.disconnected
            or protocol.close_sent
            or protocol.conn.state is not State.OPEN
            or self._transport.is_closing()
        )

    @property
    def buffered(self) -> int:
        """Bytes written but not yet taken by the socket (asyncio's public transport API)."""
        return self._transport.get_write_buffer_size()

    @property
    def ready(self) -> bool:
        """Open, and its buffer under the high-water mark: a write now would not wait."""
        return self.open and self.buffered < self._high_water

    def write_now(self, frames: Iterable[bytes]) -> None:
        """Write without waiting for the buffer to drain; callers check `ready` first."""
        if not self.open:
            raise ConsoleGone("the console's connection is closed")
        self._transport.write(b"".join(frames))

    async def write(self, frames: Iterable[bytes]) -> None:
        """Write the frames in one go, once the connection's buffer is below its mark.

        Waits as long as the console does not read: the ping timeout closes it, and then
        this raises ConsoleGone (an OSError, as a failed socket write would be).
        """
        data = b"".join(frames)  # made now: a generator must not see a later batch's state
        # No public event says the transport drained (uvicorn's own flag is private state).
        pause = DRAIN_POLL_FIRST
        while self.open and self.buffered >= self._high_water:
            await asyncio.sleep(pause)
            pause = min(pause * 2, DRAIN_POLL_MAX)
        self.write_now((data,))
