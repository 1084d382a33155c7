"""IconPickerScreen: find one of the spec's 822 icon names by typing a few letters."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from kenar_tui.fuzzy import rank
from kenar_tui.kenar.icons import icon_hint, icon_names


class IconPickerScreen(ModalScreen[str | None]):
    """Fuzzy search over icon names with readable hints; Enter picks, Escape cancels."""

    DEFAULT_CSS = """
    IconPickerScreen { align: center middle; }
    IconPickerScreen > #icon-picker {
        width: 64; height: 80%; border: thick $accent; background: $surface; padding: 0 1;
    }
    IconPickerScreen #icon-list { height: 1fr; }
    IconPickerScreen #icon-count { color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "cancel", id="icon_picker.cancel"),
        Binding("down", "highlight(1)", "next", show=False, id="icon_picker.next"),
        Binding("up", "highlight(-1)", "previous", show=False, id="icon_picker.previous"),
    ]

    def __init__(self, query: str = "") -> None:
        super().__init__()
        self._query = query
        self._matches: list[str] = []

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
        self._refill(self._query)
        self.query_one("#icon-search", Input).focus()

    @property
    def matches(self) -> list[str]:
        """The icon names shown, best match first."""
        return list(self._matches)

    def _refill(self, query: str) -> None:
        names = icon_names()
        self._matches = rank(query, names, key=str)
        options = [
            Option(Text.assemble((name, "bold"), "  ", (icon_hint(name), "dim")), id=name)
            for name in self._matches
        ]
        listing = self.query_one("#icon-list", OptionList)
        listing.clear_options()
        listing.add_options(options)
        if options:
            listing.highlighted = 0
        count = f"{len(self._matches)} of {len(names)} icons"
        self.query_one("#icon-count", Static).update(count if query else f"{len(names)} icons")

    @on(Input.Changed, "#icon-search")
    def _search(self, event: Input.Changed) -> None:
        self._refill(event.value)

    @on(Input.Submitted, "#icon-search")
    def _pick_highlighted(self) -> None:
        listing = self.query_one("#icon-list", OptionList)
        if listing.highlighted is None:
            self.app.bell()
            return
        self.dismiss(self._matches[listing.highlighted])

    @on(OptionList.OptionSelected, "#icon-list")
    def _pick(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_highlight(self, delta: int) -> None:
        listing = self.query_one("#icon-list", OptionList)
        if delta > 0:
            listing.action_cursor_down()
        else:
            listing.action_cursor_up()

    def action_cancel(self) -> None:
        self.dismiss(None)
