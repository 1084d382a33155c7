"""TemplatePickerScreen: choose a reply template by fuzzy search or by its number (1–9).

The chosen template comes back filled from the conversation's context (post title, post
token, conversation id, the buyer's last message), ready to adjust in the composer. A
templates file that does not parse is reported here, with its file and line, and nothing
else stops.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from kenar_tui.errors import ConfigError
from kenar_tui.fuzzy import rank
from kenar_tui.templates import FilledTemplate, Template, ensure_templates_file, load_templates
from kenar_tui.widgets.rtl import bidi_of, shown

_NUMBERS = "123456789"


class TemplatePickerScreen(ModalScreen[FilledTemplate | None]):
    """Templates from `path` (created from the examples on first use), filled from `context`."""

    DEFAULT_CSS = """
    TemplatePickerScreen { align: center middle; }
    TemplatePickerScreen > #template-picker {
        width: 90%; height: 80%; border: thick $accent; background: $surface; padding: 0 1;
    }
    TemplatePickerScreen #template-list { height: 1fr; }
    TemplatePickerScreen .problem { color: $error; text-style: bold; height: auto; }
    TemplatePickerScreen .note { color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "cancel", id="template_picker.cancel"),
        Binding("down", "highlight(1)", "next", show=False, id="template_picker.next"),
        Binding("up", "highlight(-1)", "previous", show=False, id="template_picker.previous"),
    ]

    def __init__(self, path: Path, context: Mapping[str, str]) -> None:
        super().__init__()
        self.path = path
        self.context = dict(context)
        self.templates: list[Template] = []
        self._matches: list[Template] = []
        self._query = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="template-picker"):
            yield Static("[b]reply templates[/b]  type to search · 1–9 picks · Enter picks")
            yield Input(placeholder="search templates", id="template-search")
            yield Static(classes="problem", id="template-problem")
            yield OptionList(id="template-list")
            yield Static(f"edit them in {self.path}", classes="note", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.reload()
        self.query_one("#template-search", Input).focus()

    @property
    def problem(self) -> str:
        return str(self.query_one("#template-problem", Static).content)

    def reload(self) -> None:
        """Read the templates file again; a broken file shows its error and no templates."""
        try:
            ensure_templates_file(self.path)
            self.templates = load_templates(self.path)
            self._say("")
        except ConfigError as exc:
            self.templates = []
            self._say(str(exc))
        except OSError as exc:
            self.templates = []
            self._say(f"{self.path}: cannot be created ({exc.strerror})")
        self._refill(self._query)

    def _say(self, message: str) -> None:
        self.query_one("#template-problem", Static).update(Text(message))

    def _refill(self, query: str) -> None:
        self._query = query
        self._matches = rank(query, self.templates, key=lambda t: f"{t.name} {t.text}")
        options = []
        bidi = bidi_of(self)
        for number, template in enumerate(self._matches, start=1):
            first_line = next((line for line in template.text.splitlines() if line.strip()), "")
            label = f"{number} " if number <= len(_NUMBERS) else "  "
            options.append(
                Option(
                    Text.assemble(
                        (label, "bold"),
                        (shown(template.name, bidi=bidi), "bold"),
                        "  ",
                        (shown(first_line, bidi=bidi)[:60], "dim"),
                    )
                )
            )
        listing = self.query_one("#template-list", OptionList)
        listing.clear_options()
        listing.add_options(options)
        if options:
            listing.highlighted = 0

    def pick(self, template: Template) -> None:
        try:
            filled = template.fill(self.context)
        except ConfigError as exc:
            self._say(str(exc))
            self.app.bell()
            return
        self.dismiss(filled)

    @on(Input.Changed, "#template-search")
    def _search(self, event: Input.Changed) -> None:
        value = event.value
        if not self._query and len(value) == 1 and value in _NUMBERS:
            number = int(value)
            if number <= len(self._matches):
                self.pick(self._matches[number - 1])
            else:
                self.app.bell()
                event.input.value = ""
            return
        self._refill(value)

    @on(Input.Submitted, "#template-search")
    def _pick_highlighted(self) -> None:
        listing = self.query_one("#template-list", OptionList)
        if listing.highlighted is None:
            self.app.bell()
            return
        self.pick(self._matches[listing.highlighted])

    @on(OptionList.OptionSelected, "#template-list")
    def _pick_selected(self, event: OptionList.OptionSelected) -> None:
        self.pick(self._matches[event.option_index])

    def action_highlight(self, delta: int) -> None:
        listing = self.query_one("#template-list", OptionList)
        if delta > 0:
            listing.action_cursor_down()
        else:
            listing.action_cursor_up()

    def action_cancel(self) -> None:
        self.dismiss(None)
