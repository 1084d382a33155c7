"""A console's backlog: `welcome`, then every stored entry after its cursor, and a `gap`
wherever entries it lacks are gone (docs/protocol.md, *The conversation* and *Cursors*).

Entries can vanish while a catch-up runs: retention purges, acknowledged purges and a
trimmed Redis stream all remove the oldest entries, and a catch-up of a large backlog to a
slow console takes long enough for them to. A console sent what is left after such a hole,
without being told, would believe it holds everything. So the position the console is
accounted for (`position`: every `seq` up to it was sent, or reported gone by a `gap`) is
compared with each batch read: when the batch starts past `position + 1` and the store's
oldest kept entry is past `position + 1` too (the entries in between were removed, not just
never stored), a `gap` naming the missing range goes out before the batch. The same check
runs when the store has nothing more to read (everything after `position` may be gone).
Seqs a failed Redis append burnt are no hole: the oldest kept entry is then still at or
before `position + 1`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

from starlette.websockets import WebSocket

from kenar_core import __version__
from kenar_core.protocol import GapFrame, WelcomeFrame
from relay.errors import SessionClosed, StoreError
from relay.hello import CLOSE_TRY_AGAIN
from relay.store import Store, StoredEntry
from relay.wire import FrameWriter, entry_text, text_frame

# Entries read from the store at once (and written to the console in one go).
CATCHUP_BATCH = 500


class Catchup:
    """The backlog of one connection; `start` once, then `stream` (again after subscribing)."""

    def __init__(
        self,
        store: Store,
        ws: WebSocket,
        writer: FrameWriter | None,
        *,
        on_sent: Callable[[int], None],
        between_batches: Callable[[], Awaitable[None]],
    ) -> None:
        self._store = store
        self._ws = ws
        self._writer = writer
        self._on_sent = on_sent
        self._between_batches = between_batches
        self.position = 0  # every seq up to here was sent, or reported gone by a `gap`
        self.sent = 0  # the highest seq sent, or the effective cursor of `hello`
        self.gaps = 0  # how many `gap` frames this connection was sent

    async def start(self, since: int, *, operator: str) -> None:
        """`welcome`, and a `gap` when entries after `since` were purged already."""
        try:
            head = await self._store.head()
            oldest = await self._store.oldest()
        except StoreError:
            raise SessionClosed(CLOSE_TRY_AGAIN, "store unavailable", None) from None
        since = min(since, head)  # a cursor past the head means "only what is new"
        self.position = self.sent = since
        welcome = WelcomeFrame(head=head, oldest=oldest, relay=__version__, operator=operator)
        await self._ws.send_text(welcome.json_text())
        resume_at = oldest if oldest else head + 1
        if since < head and resume_at > since + 1:
            await self._gap(resume_at)

    async def stream(self) -> int:
        """Every stored entry after `position`, oldest first; returns the new `position`."""
        try:
            reading = self._store.read(self.position, batch=CATCHUP_BATCH)
            async with contextlib.aclosing(reading) as batches:
                async for batch in batches:
                    if batch[0].seq > self.position + 1:
                        await self._hole_before(batch[0].seq)
                    await self._send_batch(batch)
                    self.position = self.sent = batch[-1].seq
                    self._on_sent(self.sent)
                    await self._between_batches()
            await self._hole_at_end()
        except StoreError:
            raise SessionClosed(CLOSE_TRY_AGAIN, "store unavailable; resume later") from None
        return self.position

    async def _hole_before(self, first: int) -> None:
        """The batch starts at `first`, past `position + 1`: a `gap` if the entries were removed."""
        oldest = await self._store.oldest()
        # Removal takes the oldest entries first: if the oldest kept one is past position + 1,
        # that entry (and every one up to `first`) is gone. 0: the store was emptied meanwhile.
        if oldest == 0 or oldest > self.position + 1:
            await self._gap(first)

    async def _hole_at_end(self) -> None:
        """Nothing more to read: entries up to the head that were removed get their `gap` now."""
        head = await self._store.head()
        if head <= self.position:
            return
        oldest = await self._store.oldest()
        resume_at = oldest if oldest else head + 1
        if resume_at > self.position + 1:
            await self._gap(resume_at)

    async def _gap(self, resume_at: int) -> None:
        await self._ws.send_text(GapFrame(since=self.position, oldest=resume_at).json_text())
        self.position = resume_at - 1
        self.gaps += 1

    async def _send_batch(self, batch: list[StoredEntry]) -> None:
        # The payload is already the entry's JSON text: no decode and re-encode per frame.
        if self._writer is not None:
            await self._writer.write(
                text_frame(entry_text(stored.seq, stored.payload)) for stored in batch
            )
            return
        for stored in batch:
            await self._ws.send_text(entry_text(stored.seq, stored.payload))
