"""Desktop notifications by terminal escape sequence (OSC 777 or OSC 9), where supported."""

from __future__ import annotations

from collections.abc import Mapping

from kenar_tui.text.sanitize import one_line

# Terminals known to understand OSC 9 (iTerm2's form) rather than OSC 777 (urxvt, foot,
# WezTerm, Ghostty, VTE-based terminals with the notify patch).
_OSC9 = ("iTerm.app", "WarpTerminal", "ghostty")


def _clean(text: str, limit: int) -> str:
    # The shared cleaner turns BEL, ESC and C1 (which would end or start a sequence) into
    # visible symbols; 777 separates fields with ';'; what is left must be printable.
    kept = "".join(ch for ch in one_line(text) if ch.isprintable() and ch != ";")
    return kept[:limit]


def desktop_notification(title: str, body: str, environ: Mapping[str, str]) -> str:
    """The escape sequence that asks this terminal for a desktop notification."""
    program = environ.get("TERM_PROGRAM", "")
    if program in _OSC9:
        return f"\x1b]9;{_clean(title, 60)}: {_clean(body, 200)}\x07"
    return f"\x1b]777;notify;{_clean(title, 60)};{_clean(body, 200)}\x07"
