"""`AckBook`: how far each named console token has acknowledged the timeline.

A console sends `ack {seq}` once it has durably stored everything up to `seq`
(docs/protocol.md). With `purge_acknowledged` on, the relay deletes entries that every
registered token has acknowledged: the floor is the smallest of the tokens' acknowledgements,
and a registered token that never acknowledged holds the floor at 0 (nothing is deleted for
it). Per token the highest `seq` counts, whichever of that person's consoles sent it.

Kept in memory only: after a restart nothing is deleted by acknowledgement until every
registered console has acknowledged again, which errs on the side of keeping entries
(retention by age still applies).
"""

from __future__ import annotations

from collections.abc import Iterable


class AckBook:
    def __init__(self) -> None:
        self._acked: dict[str, int] = {}

    def record(self, name: str, seq: int) -> None:
        """`name`'s console has stored everything up to `seq`."""
        if seq > self._acked.get(name, 0):
            self._acked[name] = seq

    def acked(self, name: str) -> int:
        return self._acked.get(name, 0)

    def floor(self, registered: Iterable[str]) -> int:
        """The highest `seq` every one of `registered` has acknowledged (0 if none, or empty)."""
        names = set(registered)
        if not names:
            return 0
        return min(self._acked.get(name, 0) for name in names)

    def __repr__(self) -> str:
        return f"AckBook({len(self._acked)} tokens)"
