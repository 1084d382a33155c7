"""The raw JSON of one entry, as Divar or the relay sent it."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from kenar_tui.text.sanitize import clean_text


class RawJsonScreen(ModalScreen[None]):
    """Read-only, scrollable, copyable JSON."""

    DEFAULT_CSS = """
    RawJsonScreen { align: center middle; }
    RawJsonScreen > Vertical {
        width: 90%; height: 85%;
        border: round $accent; background: $surface;
    }
    RawJsonScreen TextArea { height: 1fr; }
    RawJsonScreen Static { height: 1; color: $text-muted; padding: 0 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close the raw JSON", id="raw.close"),
        Binding("y", "copy_all", "Copy the whole JSON", id="raw.copy"),
    ]

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = clean_text(text)  # entries are cleaned on arrival; this view never trusts it

    def compose(self) -> ComposeResult:
        with Vertical():
            yield TextArea(self.text, language="json", read_only=True, soft_wrap=True)
            yield Static("Escape closes · y copies the whole JSON")

    def action_close(self) -> None:
        self.dismiss(None)

    def action_copy_all(self) -> None:
        self.app.copy_to_clipboard(self.text)
        self.notify("JSON copied to the clipboard")
