"""Alt+letter pressed twice in quick succession arrives as Alt+letter twice.

A terminal sends Alt+M as ESC m. Textual's xterm parser decides that a lone "ESC m" is Alt+M
only when nothing follows within ESCDELAY (0.1 s). When the next key is another escape
sequence (Alt+M again from key repeat or a quick double press, Alt+T then an arrow, tmux
sending both at once), it gives up on the first one and reissues its bytes as plain keys: "^"
and "m", which the reply box types. Textualize/textual's `_xterm_parser.py` (8.x,
`send_sequence(process_alt=False)`) does this; `KeyParser` decides such a pair as Alt+letter
before the next ESC reaches the parser, the way it would have decided it 0.1 s later.

Two-byte pairs that begin longer sequences (CSI "ESC [", SS3 "ESC O", OSC "ESC ]", DCS
"ESC P", APC, PM, ST) are left alone, as are the pairs Textual maps itself (ESC b / ESC f).

The zero-width non-joiner (نیم‌فاصله, U+200C: Shift+Space on the standard Persian layout)
is typed in most Persian sentences ("می‌فرستم"), and the zero-width joiner (U+200D) in some.
Python calls neither printable, so Textual's boxes dropped them as keys and the seller's
"می‌فرستم" became "میفرستم" (they survived only in a paste). `KeyParser` hands such a key
on as a one-character paste, which every text box inserts where the cursor is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import textual.drivers.linux_driver
from textual import events
from textual._xterm_parser import XTermParser
from textual.message import Message

# ESC and one character that starts no longer sequence (and is not ESC).
_PAIR = r"\x1b[^\x1b\[O\]P_^\\]"
_PAIR_AT_END = re.compile(_PAIR + r"\Z")
PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"
# What the split looks for: a pair followed by ESC, or a bracketed paste's start or end.
_MARKS = re.compile(f"({_PAIR})(?=\x1b)|{re.escape(PASTE_START)}|{re.escape(PASTE_END)}")
# Characters Persian is written with that Python does not call printable: typed, not dropped.
TYPED_JOINERS = frozenset("\u200c\u200d")  # zero-width non-joiner, zero-width joiner


class KeyParser(XTermParser):
    """Textual's xterm parser, deciding ESC+letter before a following ESC."""

    def __init__(self, debug: bool = False) -> None:
        super().__init__(debug)
        self._pair_pending = False  # the last feed ended with an undecided ESC+letter
        self._pasting = False  # inside a bracketed paste: its bytes are text, left alone

    def feed(self, data: str) -> Iterable[Message]:
        return [_as_typed(message) for message in self._feed(data)]

    def _feed(self, data: str) -> Iterable[Message]:
        if self._pair_pending and data.startswith("\x1b") and not self._pasting:
            yield from self._decide_pending()  # ESC m in one read, ESC … in the next
        self._pair_pending = False
        start = 0
        for mark in _MARKS.finditer(data):
            if mark.group() == PASTE_START:
                self._pasting = True
            elif mark.group() == PASTE_END:
                self._pasting = False
            elif not self._pasting:
                yield from super().feed(data[start : mark.end()])
                start = mark.end()
                yield from self._decide_pending()
        if start < len(data) or not data:  # "" is the end of input: pass it on
            yield from super().feed(data[start:])
        self._pair_pending = not self._pasting and bool(_PAIR_AT_END.search(data))

    def _decide_pending(self) -> Iterable[Message]:
        """What ESCDELAY's timeout would decide, now: only when a sequence is undecided
        (the parser waits with a timeout); a pair Textual already mapped needs nothing."""
        if self._timeout_time is not None:
            self._timeout_time = 0.0
            yield from self.tick()


def _as_typed(message: Message) -> Message:
    """A joiner's key as the text it types (a one-character paste); anything else as it is."""
    if isinstance(message, events.Key) and message.character in TYPED_JOINERS:
        return events.Paste(message.character)
    return message


def use_key_parser() -> None:
    """Make Textual's Linux driver read keys with `KeyParser` (idempotent)."""
    textual.drivers.linux_driver.XTermParser = KeyParser  # type: ignore[misc]
