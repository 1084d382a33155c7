"""When marked messages reach the terminal, and when key presses are answered (bench/screen.py).

Off unless the environment names a file (KENAR_TUI_DRAW_LOG) and a message-id prefix
(KENAR_TUI_DRAW_MARK): then the history view reports each marked message the first time it
lays it out, and each cursor key it handles, and the app stamps them with the wall clock
(`time.time_ns()`, one clock for every process on the machine) right after Textual has
written the frame holding them to the terminal (`App.post_display_hook`). Only message ids
carrying the benchmark's prefix are written, never any text; the file is created 0600.
"""

from __future__ import annotations

import os
import time
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from kenar_core.files import create_private_file

FILE_ENV = "KENAR_TUI_DRAW_LOG"
MARK_ENV = "KENAR_TUI_DRAW_MARK"
# Ids already stamped, so a message redrawn later is not drawn "again"; the oldest are
# forgotten past this many (a benchmark marks far fewer in the window it looks at).
REMEMBERED = 200_000


class DrawLog:
    """Marked message ids and key presses, stamped when the frame showing them is written."""

    def __init__(self, path: Path, mark: str) -> None:
        self.mark = mark
        create_private_file(path)
        self._out: IO[str] = path.open("a", encoding="ascii")
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._pending: list[str] = []
        self._keys = 0

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> DrawLog | None:
        env = os.environ if environ is None else environ
        path, mark = env.get(FILE_ENV), env.get(MARK_ENV)
        if not path or not mark:
            return None
        return cls(Path(path), mark)

    def laid_out(self, message_id: str | None) -> None:
        """The history laid this message out for the next frame."""
        if not message_id or not message_id.startswith(self.mark) or message_id in self._seen:
            return
        self._seen[message_id] = None
        if len(self._seen) > REMEMBERED:
            self._seen.popitem(last=False)
        self._pending.append(message_id)

    def key_handled(self) -> None:
        """A key press changed what the next frame shows."""
        self._keys += 1

    def drawn(self) -> None:
        """A frame was written to the terminal: stamp what it carried."""
        if not self._pending and not self._keys:
            return
        now = time.time_ns()
        lines = [f"draw {message_id} {now}\n" for message_id in self._pending]
        lines += [f"key {now}\n"] * self._keys
        self._pending.clear()
        self._keys = 0
        self._out.writelines(lines)
        self._out.flush()

    def close(self) -> None:
        self._out.close()
