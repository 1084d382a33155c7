"""TemplatePickerScreen: choose a reply template by fuzzy search or by its number (1–9).

The chosen template comes back filled from the conversation's context (post title, post
token, conversation id, the buyer's last message), ready to adjust in the composer. A
templates file that does not parse is reported here, with its file and line, and nothing
else stops.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from kenar_core.errors import ConfigError
from kenar_tui.dialogs.picker import FilterPicker
from kenar_tui.fuzzy import rank
from kenar_tui.templates import FilledTemplate, Template, ensure_templates_file, load_templates
from kenar_tui.widgets.rtl import bidi_of, shown

_NUMBERS = "123456789"


class TemplatePickerScreen(FilterPicker[Template, FilledTemplate]):
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

    BINDING_PREFIX = "template_picker"

    def __init__(self, path: Path, context: Mapping[str, str]) -> None:
        super().__init__()
        self.path = path
        self.context = dict(context)
        self.templates: list[Template] = []
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
        self.refill(self._query)

    def _say(self, message: str) -> None:
        self.query_one("#template-problem", Static).update(Text(message))

    def ranked(self, query: str) -> list[Template]:
        self._query = query
        return rank(query, self.templates, key=lambda t: f"{t.name} {t.text}")

    def option(self, choice: Template, index: int) -> Option:
        first_line = next((line for line in choice.text.splitlines() if line.strip()), "")
        number = index + 1
        label = f"{number} " if number <= len(_NUMBERS) else "  "
        bidi = bidi_of(self)
        return Option(
            Text.assemble(
                (label, "bold"),
                (shown(choice.name, bidi=bidi), "bold"),
                "  ",
                (shown(first_line, bidi=bidi)[:60], "dim"),
            )
        )

    def picked(self, template: Template) -> None:
        try:
            filled = template.fill(self.context)
        except ConfigError as exc:
            self._say(str(exc))
            self.app.bell()
            return
        self.dismiss(filled)

    def typed(self, event: Input.Changed) -> None:
        """1–9 typed into an empty box picks that template; anything else filters."""
        value = event.value
        if not self._query and len(value) == 1 and value in _NUMBERS:
            number = int(value)
            if number <= len(self.choices_shown):
                self.picked(self.choices_shown[number - 1])
            else:
                self.app.bell()
                event.input.value = ""
            return
        self.refill(value)
