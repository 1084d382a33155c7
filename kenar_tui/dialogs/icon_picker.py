"""IconPickerScreen: find one of the spec's 822 icon names by typing a few letters."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from kenar_api.icons import icon_hint, icon_names
from kenar_tui.dialogs.picker import FilterPicker
from kenar_tui.fuzzy import rank


class IconPickerScreen(FilterPicker[str, str]):
    """Fuzzy search over icon names with readable hints; Enter picks, Escape cancels."""

    DEFAULT_CSS = """
    IconPickerScreen { align: center middle; }
    IconPickerScreen > #icon-picker {
        width: 64; height: 80%; border: thick $accent; background: $surface; padding: 0 1;
    }
    IconPickerScreen #icon-list { height: 1fr; }
    IconPickerScreen #icon-count { color: $text-muted; }
    """

    BINDING_PREFIX = "icon_picker"

    def __init__(self, query: str = "") -> None:
        super().__init__()
        self._query = query

    def compose(self) -> ComposeResult:
        with Vertical(id="icon-picker"):
            yield Static("[b]choose an icon[/b]  (Enter picks)")
            yield Input(
                self._query, placeholder="type part of a name: car, call, map…", id="icon-search"
            )
            yield Static(id="icon-count")
            yield OptionList(id="icon-list")
        yield Footer()

    def on_mount(self) -> None:
        self.refill(self._query)
        self.query_one("#icon-search", Input).focus()

    @property
    def matches(self) -> list[str]:
        """The icon names shown, best match first."""
        return list(self.choices_shown)

    def ranked(self, query: str) -> list[str]:
        return rank(query, icon_names(), key=str)

    def option(self, choice: str, index: int) -> Option:
        return Option(Text.assemble((choice, "bold"), "  ", (icon_hint(choice), "dim")), id=choice)

    def filtered(self, query: str) -> None:
        total = len(icon_names())
        count = f"{len(self.choices_shown)} of {total} icons"
        self.query_one("#icon-count", Static).update(count if query else f"{total} icons")

    def picked(self, choice: str) -> None:
        self.dismiss(choice)
