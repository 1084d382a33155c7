"""`AckBook`: how far each console INSTANCE has acknowledged the timeline.

A console sends `ack {seq}` once it has durably stored everything up to `seq`
(docs/protocol.md). Two consoles may share one token (a laptop and a desktop), so
acknowledgements are kept per instance: the `instance` id a console sends in `hello` (one per
local cache), under its token's name. With `purge_acknowledged` on, the relay deletes entries
every registered instance has acknowledged: the floor is the smallest acknowledgement among
the instances of tokens that are still valid, and a token that never connected holds the
floor at 0 (nothing is deleted for it).

Instances are registered durably (`acks.json` in the data directory, 0600) the first time
they say hello, before anything is sent to them, so a restart never forgets a console that
may still hold less than the others. Acknowledgements are saved lazily (at most every few
seconds, and on close): losing the newest ones only keeps entries longer. An instance not
seen for longer than the retention period is forgotten (what it missed is gone by age
anyway), and each token may register at most `MAX_INSTANCES_PER_TOKEN` instances.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from kenar_core.files import write_atomically
from relay.errors import TooManyInstances

MAX_INSTANCES_PER_TOKEN = 16
MAX_INSTANCE_ID = 64
DEFAULT_INSTANCE = "default"  # a console that sends no `instance`: one per token
SAVE_EVERY_S = 5.0


@dataclass(slots=True)
class InstanceAck:
    token: str
    acked: int
    seen: float  # wall-clock seconds, for forgetting instances gone for good


class AckBook:
    """Acknowledgements per (token name, instance id); `path=None` keeps them in memory only."""

    def __init__(self, path: Path | None = None, *, clock: Callable[[], float] = time.time) -> None:
        self._path = path
        self._clock = clock
        self._acks: dict[tuple[str, str], InstanceAck] = {}
        self._dirty = False
        self._saved_at = 0.0
        if path is not None:
            self._read(path)

    def _read(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError):
            return  # an unreadable book deletes nothing early: every instance re-registers
        rows = data.get("instances", []) if isinstance(data, dict) else []
        for row in rows if isinstance(rows, list) else []:
            if not isinstance(row, dict):
                continue
            token, instance = row.get("token"), row.get("instance")
            acked, seen = row.get("acked", 0), row.get("seen", 0.0)
            if isinstance(token, str) and isinstance(instance, str) and isinstance(acked, int):
                seen_at = float(seen) if isinstance(seen, int | float) else 0.0
                self._acks[(token, instance)] = InstanceAck(token, acked, seen_at)

    def register(self, token: str, instance: str) -> None:
        """`instance` of `token` said hello: known from now on (saved at once when new)."""
        key = (token, instance)
        found = self._acks.get(key)
        if found is not None:
            found.seen = self._clock()
            self._dirty = True
            return
        mine = sum(1 for name, _ in self._acks if name == token)
        if mine >= MAX_INSTANCES_PER_TOKEN:
            raise TooManyInstances(
                f"the token {token} has {mine} console instances registered already"
            )
        self._acks[key] = InstanceAck(token, 0, self._clock())
        self.save(force=True)

    def record(self, token: str, instance: str, seq: int) -> None:
        """That instance has stored everything up to `seq` (already clamped by its session)."""
        found = self._acks.get((token, instance))
        if found is None:
            return  # not registered (revoked meanwhile, or forgotten): counts for nothing
        if seq > found.acked:
            found.acked = seq
            found.seen = self._clock()
            self._dirty = True
            self.save()

    def acked(self, token: str, instance: str = DEFAULT_INSTANCE) -> int:
        found = self._acks.get((token, instance))
        return found.acked if found is not None else 0

    def floor(self, registered: Iterable[str]) -> int:
        """The highest `seq` every instance of every name in `registered` acknowledged.

        0 when `registered` is empty or one of its names has no instance yet.
        """
        names = set(registered)
        if not names:
            return 0
        lowest: dict[str, int] = {}
        for (token, _), ack in self._acks.items():
            if token in names:
                lowest[token] = min(lowest.get(token, ack.acked), ack.acked)
        if set(lowest) != names:
            return 0
        return min(lowest.values())

    def forget_older_than(self, age_s: float) -> int:
        """Drop instances not seen for `age_s` seconds; returns how many."""
        cutoff = self._clock() - age_s
        gone = [key for key, ack in self._acks.items() if ack.seen < cutoff]
        for key in gone:
            del self._acks[key]
        if gone:
            self.save(force=True)
        return len(gone)

    def forget_token(self, token: str) -> None:
        """A revoked token's instances no longer hold the floor."""
        gone = [key for key in self._acks if key[0] == token]
        for key in gone:
            del self._acks[key]
        if gone:
            self.save(force=True)

    def save(self, *, force: bool = False, lazily: bool = True) -> None:
        """Write the book (0600, atomically) if it changed (or `force`); at most every few
        seconds while `lazily`."""
        if self._path is None or not (self._dirty or force):
            return
        now = time.monotonic()
        if lazily and not force and now - self._saved_at < SAVE_EVERY_S:
            return
        rows = [
            {"token": token, "instance": instance, "acked": ack.acked, "seen": ack.seen}
            for (token, instance), ack in sorted(self._acks.items())
        ]
        write_atomically(self._path, json.dumps({"instances": rows}, ensure_ascii=False))
        self._dirty = False
        self._saved_at = now

    def __repr__(self) -> str:
        return f"AckBook({len(self._acks)} instances)"
