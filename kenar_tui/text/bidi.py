"""Right-to-left text for terminals that do not apply the bidirectional algorithm.

Most terminals print characters in memory order and do not join Arabic-script letters, so
Persian comes out reversed and in isolated forms. `display` reshapes (joins letters into
their contextual forms) and reorders each line into visual order. Lines without any
right-to-left character are returned untouched, so Latin text, code and URLs never change.

The reordering is python-bidi's own implementation of the algorithm (`bidi.algorithm`) run
step by step, because the Rust-backed `bidi.get_display` skips two rules a terminal needs:
L4 (a bracket or quote inside right-to-left text is drawn mirrored, so `قیمت (25,000)` does not
read `)25,000(`) and L3 (a combining mark such as tanwin ً or hamza ٔ stays after its letter
once the run is reversed, or the terminal would put it on the neighbouring letter).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Any

import arabic_reshaper
from bidi import algorithm as uba
from bidi import get_base_level, get_display

from kenar_tui.text.sanitize import clean_text

_RESHAPER = arabic_reshaper.ArabicReshaper(
    configuration={"delete_harakat": False, "support_ligatures": True}
)


def has_rtl(text: str) -> bool:
    """Whether any character is strongly right-to-left (Arabic script, Hebrew, ...)."""
    return any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text)


def is_rtl(text: str) -> bool:
    """Whether `text` reads right to left as a paragraph (its first strong letter; rule P2)."""
    return bool(text) and get_base_level(text) == 1


def _marks_after_letters(chars: list[dict[str, Any]]) -> None:
    """Rule L3: in a reversed (odd-level) run, move each combining mark back after its base."""
    i = 0
    while i < len(chars):
        start = i
        while i < len(chars) and chars[i]["level"] % 2 and unicodedata.combining(chars[i]["ch"]):
            i += 1
        if i > start and i < len(chars) and chars[i]["level"] % 2:
            chars[start : i + 1] = [chars[i], *chars[start:i]]
        i += 1


def _needs_l3_l4(line: str) -> bool:
    """Whether a line has a mirrored character (brackets, quotes, <>) or a combining mark."""
    return any(unicodedata.mirrored(ch) or unicodedata.combining(ch) for ch in line)


def visual(line: str, *, rtl: bool | None = None) -> str:
    """One line (no newline) in visual order with brackets mirrored and marks on their letters.

    `rtl` forces the paragraph direction (a wrapped piece of a right-to-left paragraph is
    still right to left); None takes it from the line's first strong letter.
    """
    level = get_base_level(line) if rtl is None else int(rtl)
    if not _needs_l3_l4(line):
        # Nothing to mirror or re-attach: the Rust implementation, a hundred times faster.
        return str(get_display(line, base_dir=("L", "R")[level]))
    storage = uba.get_empty_storage()
    storage["base_level"] = level
    storage["base_dir"] = ("L", "R")[level]
    uba.get_embedding_levels(line, storage)
    uba.explicit_embed_and_overrides(storage)
    uba.resolve_weak_types(storage)
    uba.resolve_neutral_types(storage, False)
    uba.resolve_implicit_levels(storage, False)
    uba.reorder_resolved_levels(storage, False)
    uba.apply_mirroring(storage, False)
    _marks_after_letters(storage["chars"])
    return "".join(ch["ch"] for ch in storage["chars"])


@lru_cache(maxsize=4096)
def _display_line(line: str, rtl: bool | None) -> str:
    line = clean_text(line)
    if not has_rtl(line):
        return line
    return visual(_RESHAPER.reshape(line), rtl=rtl)


def display(text: str, *, bidi: bool = True, rtl: bool | None = None) -> str:
    """`text` in visual order for a terminal, line by line; only cleaned when `bidi` is False.

    Every string drawn goes through here, so it is also where untrusted text loses its
    control codes (`clean_text`) if it has not already.
    """
    if not text:
        return text
    if not bidi:
        return clean_text(text)
    return "\n".join(_display_line(line, rtl) for line in text.split("\n"))
