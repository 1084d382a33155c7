"""Desktop notifications by terminal escape sequence (OSC 777 or OSC 9), where supported."""

from __future__ import annotations

from collections.abc import Mapping

# Terminals known to understand OSC 9 (iTerm2's form) rather than OSC 777 (urxvt, foot,
# WezTerm, Ghostty, VTE-based terminals with the notify patch).
_OSC9 = ("iTerm.app", "WarpTerminal", "ghostty")


def _clean(text: str, limit: int) -> str:
    # An escape sequence ends at BEL or ESC, and 777 separates fields with ';'.
    kept = "".join(ch for ch in text if ch.isprintable() and ch not in "\x07\x1b;")
    return kept[:limit]


def desktop_notification(title: str, body: str, environ: Mapping[str, str]) -> str:
    """The escape sequence that asks this terminal for a desktop notification."""
    program = environ.get("TERM_PROGRAM", "")
    if program in _OSC9:
        return f"\x1b]9;{_clean(title, 60)}: {_clean(body, 200)}\x07"
    return f"\x1b]777;notify;{_clean(title, 60)};{_clean(body, 200)}\x07"
