"""MessagePreview: a message as one side of the chat sees it, text above their own grid."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from kenar_api.buttons import ButtonGrid
from kenar_tui.button_drafts import ButtonDraft
from kenar_tui.widgets.button_boxes import Box, box_of, draw_row, legend
from kenar_tui.widgets.rtl import bidi_of, shown


class MessagePreview(Widget):
    """The text bubble and the grid `who` sees under it (None: no buttons for them)."""

    DEFAULT_CSS = """
    MessagePreview {
        height: auto;
        border: round $surface-lighten-2;
        padding: 0 1;
    }
    """

    def __init__(
        self, who: str, text: str, grid: ButtonGrid | None, *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.who = who
        self.text = text
        self.grid = grid

    def render(self) -> Text:
        width = max(30, self.content_region.width or 46)
        out = Text()
        bidi = bidi_of(self)
        out.append(f"{self.who}\n", "bold")
        for line in self.text.splitlines() or [""]:
            out.append(shown(line, bidi=bidi) + "\n")
        if self.grid is None or self.grid.is_empty:
            out.append("\n(no buttons)", "dim italic")
            return out
        drawn: list[Box] = []
        for row in self.grid.rows:
            out.append("\n")
            boxes = [box_of(ButtonDraft.from_button(b), bidi=bidi) for b in row.buttons]
            out.append_text(draw_row(boxes, width))
            drawn += boxes
        out.append(f"\n{legend(drawn)}", "dim")
        return out
