"""Right-to-left text for terminals that do not apply the bidirectional algorithm.

Most terminals print characters in memory order and do not join Arabic-script letters, so
Persian comes out reversed and in isolated forms. `display` reshapes (joins letters into
their contextual forms) and reorders each line into visual order. Lines without any
right-to-left character are returned untouched, so Latin text, code and URLs never change.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import arabic_reshaper
from bidi import get_display

_RESHAPER = arabic_reshaper.ArabicReshaper(
    configuration={"delete_harakat": False, "support_ligatures": True}
)


def has_rtl(text: str) -> bool:
    """Whether any character is strongly right-to-left (Arabic script, Hebrew, ...)."""
    return any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text)


@lru_cache(maxsize=4096)
def _display_line(line: str) -> str:
    if not has_rtl(line):
        return line
    return str(get_display(_RESHAPER.reshape(line)))


def display(text: str, *, bidi: bool = True) -> str:
    """`text` in visual order for a terminal, line by line; unchanged when `bidi` is False."""
    if not bidi or not text:
        return text
    return "\n".join(_display_line(line) for line in text.split("\n"))
