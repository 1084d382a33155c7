"""Cutting a title to fit a width without breaking a Latin word inside Persian text.

A title such as `فروش Peugeot 206 تمیز` cut at a fixed width could leave `Peu…`; reordered for
right-to-left display the stray half-word lands in the middle of the line and reads as
garbage. The cut is made in logical order (before `display`) and moves back to the start of
a Latin word or number it would split.
"""

from __future__ import annotations

from rich.cells import cell_len

from kenar_tui.text.sanitize import one_line

ELLIPSIS = "…"


def _latin(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch in "-_.'")


def fit_title(text: str, width: int) -> str:
    """`text` on one line in at most `width` cells, ending in … when it was cut."""
    text = one_line(text)
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:width]
    cut, used = 0, 0
    for cut, ch in enumerate(text):  # noqa: B007 - `cut` is the first character that overflows
        used += cell_len(ch)
        if used > width - 1:
            break
    if _latin(text[cut]) and cut > 0 and _latin(text[cut - 1]):
        start = cut
        while start > 0 and _latin(text[start - 1]):
            start -= 1
        if text[:start].strip():  # a word too long for the whole width is still cut
            cut = start
    return text[:cut].rstrip() + ELLIPSIS
