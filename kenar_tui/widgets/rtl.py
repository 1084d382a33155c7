"""The one place Persian text is prepared for drawing in the composer, pickers and preview.

`kenar_tui.text.display` reshapes and reorders right-to-left runs for terminals without bidi
support; the app's `Settings.bidi` turns that off for terminals that do their own.
"""

from __future__ import annotations

from textual.dom import DOMNode

from kenar_tui.text import display


def bidi_of(node: DOMNode) -> bool:
    """The app's bidi setting (on when the app has no settings, as in tests)."""
    try:
        settings = getattr(node.app, "settings", None)
    except Exception:  # no active app: drawing outside one, e.g. in a unit test
        return True
    return bool(getattr(settings, "bidi", True))


def shown(text: str, *, bidi: bool = True) -> str:
    """`text` as the terminal should draw it (never used for text being edited)."""
    return display(text, bidi=bidi)
