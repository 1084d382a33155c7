"""Drawing a button grid as rows of boxed buttons, shared by the grid editor and the preview.

Each button is a box with its caption above its action marker (↗ a direct link, ⇄ a server
link through the relay, ▤ a post's page, ✎ a post's manage page) and its icon's readable hint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.text import Text

from kenar_api.buttons import MAX_BUTTONS_PER_ROW
from kenar_api.icons import icon_hint, is_icon
from kenar_tui.button_drafts import ButtonDraft
from kenar_tui.widgets.rtl import shown

DIRECT_MARKER = "↗"
SERVER_MARKER = "⇄"
POST_MARKER = "▤"
MANAGE_MARKER = "✎"
MARKERS = {"server": SERVER_MARKER, "post": POST_MARKER, "post_manage": MANAGE_MARKER}


def legend(boxes: Sequence[Box]) -> str:
    """What the markers mean, under a drawn grid; the post markers only when used."""
    parts = [f"{DIRECT_MARKER} opens a link", f"{SERVER_MARKER} asks the relay where to go"]
    used = {box.marker for box in boxes}
    if POST_MARKER in used:
        parts.append(f"{POST_MARKER} the post's page")
    if MANAGE_MARKER in used:
        parts.append(f"{MANAGE_MARKER} its manage page")
    return "  ".join(parts)


BOX_HEIGHT = 4
_GAP = 1


@dataclass(frozen=True)
class Box:
    caption: str
    hint: str
    marker: str


def box_of(button: ButtonDraft, *, bidi: bool = True) -> Box:
    caption = shown(button.caption, bidi=bidi) if button.caption.strip() else "(no caption)"
    if not button.icon:
        hint = "(no icon)"
    elif is_icon(button.icon):
        hint = icon_hint(button.icon)
    else:
        hint = f"? {button.icon}"
    marker = MARKERS.get(button.kind, DIRECT_MARKER)
    return Box(caption, hint, marker)


def _fit(text: str, width: int) -> str:
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, max(0, width - 1)) + "…"


def box_width(total: int) -> int:
    """The width of one box when a row of the widest kind must fit in `total` cells."""
    return max(8, (total - _GAP * (MAX_BUTTONS_PER_ROW - 1)) // MAX_BUTTONS_PER_ROW)


def draw_row(
    boxes: Sequence[Box],
    width: int,
    *,
    cursor: int | None = None,
    flagged: int | None = None,
) -> Text:
    """Four lines: the boxes of one row side by side; `cursor` and `flagged` are highlighted."""
    inner = box_width(width) - 2
    lines = [Text() for _ in range(BOX_HEIGHT)]
    for index, box in enumerate(boxes):
        style = ""
        if index == flagged:
            style = "bold red"
        if index == cursor:
            style = "reverse bold" + (" red" if index == flagged else "")
        if index:
            for line in lines:
                line.append(" " * _GAP)
        label = _fit(box.caption, inner)
        lines[0].append("╭" + "─" * inner + "╮", style)
        lines[1].append("│" + label + "│", style)
        lines[2].append("│", style)
        lines[2].append(_fit(f"{box.marker} {box.hint}", inner), style + " dim" if style else "dim")
        lines[2].append("│", style)
        lines[3].append("╰" + "─" * inner + "╯", style)
    return Text("\n").join(lines)
