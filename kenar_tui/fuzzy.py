"""A small fuzzy ranking for pickers: whole words first, then prefixes, then subsequences.

Cheap enough to re-rank the 822 icon names on every keystroke. `_` and spaces are the same,
so "car insp" finds CAR_INSPECTION; text is folded with `kenar_tui.text.fold` (case, ی/ي,
ک/ك, digits, ZWNJ) so Persian matches however it was typed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from kenar_tui.text import fold

T = TypeVar("T")


def normalise(text: str) -> str:
    return " ".join(fold(text.replace("_", " ")).split())


def _subsequence_gaps(token: str, candidate: str) -> int | None:
    """How many characters are skipped matching `token` as a subsequence, or None."""
    gaps, position = 0, 0
    for ch in token:
        found = candidate.find(ch, position)
        if found < 0:
            return None
        gaps += found - position if position else 0
        position = found + 1
    return gaps


def score(query: str, candidate: str) -> float | None:
    """Higher is better; None when some query word is not in `candidate` at all."""
    tokens = normalise(query).split()
    text = normalise(candidate)
    if not tokens:
        return 0.0
    total = 0.0
    for token in tokens:
        at = text.find(token)
        if at >= 0:
            word_start = at == 0 or text[at - 1] == " "
            total += 100.0 + (50.0 if word_start else 0.0) + (30.0 if at == 0 else 0.0)
            continue
        gaps = _subsequence_gaps(token, text)
        if gaps is None:
            return None
        total += max(1.0, 40.0 - gaps)
    return total - len(text) * 0.1


def rank(query: str, items: Sequence[T], key: Callable[[T], str]) -> list[T]:
    """The items that match, best first; ties keep their original order."""
    scored: list[tuple[float, int, T]] = []
    for index, item in enumerate(items):
        value = score(query, key(item))
        if value is not None:
            scored.append((-value, index, item))
    scored.sort(key=lambda entry: (entry[0], entry[1]))
    return [item for _, _, item in scored]
