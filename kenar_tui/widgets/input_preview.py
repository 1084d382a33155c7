"""The line under an input that shows what will be sent, as it will read, and its length.

Inputs edit text in logical order with unjoined letters (the cursor must move through the
characters as stored), so Persian in the reply box cannot be proofread there. This preview
draws the same text reshaped and reordered like the history draws it, with the count
against Kenar's 4,096-character limit. It is hidden while the input is empty.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from kenar_api.bodies import MAX_TEXT_LENGTH
from kenar_tui.text import display
from kenar_tui.widgets.rtl import bidi_of

MAX_PREVIEW_LINES = 3
NEWLINE_MARK = " ⏎ "


def preview_content(text: str, *, bidi: bool, limit: int | None) -> Content:
    """The preview of `text`: its lines in display order, then `n/limit`; over the limit,
    `n/limit too long` in red comes first."""
    lines = text.split("\n")
    shown = [display(line, bidi=bidi) for line in lines[:MAX_PREVIEW_LINES]]
    more = len(lines) - MAX_PREVIEW_LINES
    parts: list[tuple[str, str] | str] = [("reads: ", "dim")]
    over = limit is not None and len(text) > limit
    if over:
        # First, not last: the preview shows at most a few rows, and a long text would push
        # the one thing the seller must see out of view (Enter would only then say it).
        parts.append((f"{len(text):,}/{limit:,} too long  ", "bold $error"))
    for i, line in enumerate(shown):
        if i:
            parts.append((NEWLINE_MARK, "dim"))
        parts.append(line)
    if more > 0:
        parts.append((f"{NEWLINE_MARK}… {more} more line{'s' if more > 1 else ''}", "dim"))
    if limit is not None and not over:
        parts.append((f"  {len(text):,}/{limit:,}", "dim"))
    return Content.assemble(*parts)


class InputPreview(Static):
    """Shaped, ordered preview of an input's text with its character count."""

    DEFAULT_CSS = """
    InputPreview { height: auto; max-height: 4; padding: 0 1; display: none; }
    InputPreview.-shown { display: block; }
    """

    def __init__(self, *, limit: int | None = MAX_TEXT_LENGTH, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.limit = limit
        self._shown: str | None = None

    def show_text(self, text: str) -> None:
        """Draw the preview of `text` (hidden when it is only whitespace)."""
        if text == self._shown:
            return  # an update re-lays out the screen: a conversation switch costs a frame
        self._shown = text
        self.set_class(bool(text.strip()), "-shown")
        self.update(preview_content(text, bidi=bidi_of(self), limit=self.limit))
