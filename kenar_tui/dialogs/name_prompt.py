"""NamePromptScreen: ask for a template's name before saving the message as a template."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Static

from kenar_tui.widgets.input_preview import InputPreview


class NamePromptScreen(ModalScreen[str | None]):
    """One line of input; Enter answers the name, Escape answers None."""

    DEFAULT_CSS = """
    NamePromptScreen { align: center middle; }
    NamePromptScreen > #name-prompt {
        width: 60; height: auto; border: thick $accent; background: $surface; padding: 0 1;
    }
    NamePromptScreen .problem { color: $error; text-style: bold; }
    NamePromptScreen .note { color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "cancel", id="name_prompt.cancel")
    ]

    def __init__(self, question: str, *, value: str = "", note: str = "") -> None:
        super().__init__()
        self._question, self._value, self._note = question, value, note

    def compose(self) -> ComposeResult:
        with Vertical(id="name-prompt"):
            yield Static(Text(self._question, style="bold"))
            yield Input(self._value, id="name")
            yield InputPreview(limit=None, id="name-preview")
            yield Static(self._note, classes="note", markup=False)
            yield Static(classes="problem", id="name-problem")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(InputPreview).show_text(self._value)

    @on(Input.Changed, "#name")
    def _typed(self, event: Input.Changed) -> None:
        self.query_one(InputPreview).show_text(event.value)

    @on(Input.Submitted, "#name")
    def _answer(self, event: Input.Submitted) -> None:
        name = event.value.strip()
        if not name:
            self.query_one("#name-problem", Static).update("a name is needed")
            return
        self.dismiss(name)

    def action_cancel(self) -> None:
        self.dismiss(None)
