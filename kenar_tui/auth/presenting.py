"""Showing an authorize URL to a person: a browser when there is a display, a QR code for a phone.

The `kenar-tui login` command and the console's login screen make the same choices here.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import webbrowser

import segno


def has_display() -> bool:
    """Whether a graphical browser can open; over SSH a text browser would take the terminal."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def open_in_browser(url: str) -> bool:
    """Open `url` in a graphical browser when there is a display; whether one opened."""
    if not has_display():
        return False
    with contextlib.suppress(webbrowser.Error):
        return bool(webbrowser.open(url))
    return False


def qr_text(url: str) -> str | None:
    """`url` as a QR code in block characters (two rows a line); None when it is too long."""
    try:
        code = segno.make(url, error="l", micro=False)
    except segno.DataOverflowError:
        return None
    out = io.StringIO()
    code.terminal(out=out, compact=True)
    return out.getvalue().rstrip("\n")


def text_size(text: str) -> tuple[int, int]:
    """(columns, lines) a block of text needs."""
    lines = text.splitlines() or [""]
    return max(len(line) for line in lines), len(lines)
