"""Every key binding of the console, generated from the bindings themselves (keymap applied)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

_KEY_NAMES = {"question_mark": "?", "dollar_sign": "$", "slash": "/"}
# Where a typed character is text rather than a command: those keys say so in the table.
TYPING_PLACES = ("everywhere", "main screen")


def binding_rows(
    groups: Iterable[tuple[str, Iterable[BindingType]]], keymap: Mapping[str, str]
) -> list[tuple[str, str, str, str]]:
    """(keys, description, where, id) for every Binding with an id, the keymap applied."""
    rows = []
    for where, bindings in groups:
        for binding in bindings:
            if not isinstance(binding, Binding) or not binding.id:
                continue
            keys = keymap.get(binding.id, binding.key)
            names = [k.strip() for k in keys.split(",")]
            shown = ", ".join(
                _KEY_NAMES.get(k, k)
                + (" (not in the reply box)" if where in TYPING_PLACES and is_typed(k) else "")
                for k in names
            )
            rows.append((shown, binding.description, where, binding.id))
    return rows


def is_typed(key: str) -> bool:
    """True for a key that types a character (a letter, "?"), which the reply box keeps as text."""
    return len(key) == 1 or key in _KEY_NAMES


class HelpScreen(ModalScreen[None]):
    """A table of keys; Escape or q closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > #help-box {
        width: 90%;
        max-width: 110;
        height: 90%;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    HelpScreen #help-title { height: auto; padding: 0 0 1 0; }
    HelpScreen DataTable { height: 1fr; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,f1", "dismiss", "Close the help", id="help.close"),
    ]

    def __init__(self, rows: list[tuple[str, str, str, str]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        from textual.containers import Vertical

        with Vertical(id="help-box"):
            yield Static(
                "[b]Keys[/b] · Alt and Ctrl keys work from the reply box too (on macOS turn on "
                '"Option as Meta"); Ctrl+J adds a line (Shift+Enter only where the terminal '
                "sends it) · change any key in the config file under \\[keymap], "
                'e.g. [i]"conversation.next" = "ctrl+down"[/i] · Ctrl+P: command palette',
                id="help-title",
            )
            table: DataTable[str] = DataTable(zebra_stripes=True, cursor_type="row")
            table.add_columns("Keys", "What it does", "Where", "Id")
            for row in self.rows:
                table.add_row(*row)
            yield table

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(None)
