"""Entry frames encoded once for every console, and written to a console's socket in batches.

The hub fans the same entry out to every console. Its frame text
(`{"type":"entry","seq":..,"entry":..}`) is made once per entry by string concatenation (the
stored payload is already the entry's JSON text), and, because a server's websocket frames
are not masked, its wire bytes are the same for every console that did not negotiate
compression: `EntryFrame.wire` is built once and written to each of them.

`FrameWriter` is the fast path for those consoles: it writes a whole batch of ready frames
with one `transport.write` on uvicorn's websockets-sansio connection instead of one ASGI
`websocket.send` (and one syscall) per frame; the profile of a 100,000-entry catch-up had
a third of the relay's time in that per-frame path. It honours the connection's flow
control (waits while the transport is paused) and stops at its close. ASGI offers no way to
write several messages at once, so this reaches the server's protocol object; where that is
not uvicorn's websockets-sansio connection, or the console negotiated permessage-deflate
(every frame then is compressed per connection), `FrameWriter.attach` returns None and the
session sends through Starlette as before.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from typing import Any

from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

from relay.store import StoredEntry

# Where relay.server's middleware leaves the server's own ASGI `send` in a websocket scope.
RAW_SEND_SCOPE_KEY = "kenar_relay.raw_send"

_FIN_TEXT = 0x81


def entry_text(seq: int, payload: str) -> str:
    """The `entry` frame's JSON text; `payload` is the entry's JSON text, used as it is."""
    return f'{{"type":"entry","seq":{seq},"entry":{payload}}}'


def text_frame(text: str) -> bytes:
    """`text` as one final, unmasked websocket text frame (RFC 6455 §5.2), header included."""
    data = text.encode()
    size = len(data)
    if size < 126:
        return bytes((_FIN_TEXT, size)) + data
    if size < 1 << 16:
        return struct.pack("!BBH", _FIN_TEXT, 126, size) + data
    return struct.pack("!BBQ", _FIN_TEXT, 127, size) + data


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

    def __init__(self, protocol: WebSocketsSansIOProtocol) -> None:
        self._protocol = protocol

    @classmethod
    def attach(cls, scope: Mapping[str, Any]) -> FrameWriter | None:
        """The writer for this websocket's connection, or None where only ASGI sends can do."""
        send = scope.get(RAW_SEND_SCOPE_KEY)
        protocol = getattr(send, "__self__", None)
        if not isinstance(protocol, WebSocketsSansIOProtocol):
            return None
        if protocol.conn.extensions:  # permessage-deflate: frames differ per connection
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
            or protocol.transport.is_closing()
        )

    @property
    def ready(self) -> bool:
        """Open, and its buffer under the high-water mark: a write now would not wait."""
        return self._protocol.writable.is_set() and self.open

    def write_now(self, frames: Iterable[bytes]) -> None:
        """Write without waiting for the buffer to drain; callers check `ready` first."""
        if not self.open:
            raise ClientDisconnected()
        self._protocol.transport.write(b"".join(frames))

    async def write(self, frames: Iterable[bytes]) -> None:
        """Write the frames in one go, after the connection's buffer drained below its mark."""
        await self._protocol.writable.wait()
        self.write_now(frames)
