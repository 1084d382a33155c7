"""ButtonEditorScreen: one button's caption, icon and action, checked as the user types.

The action is a direct link, a server link, or a post's page or management page
(docs/widgets/actions/navigation_actions.md), whose post token starts as the conversation's.

Saving asks Kenar's Button model; whatever it refuses is shown under the field it is about.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, RadioButton, RadioSet, Static

from kenar_api.buttons import MAX_CAPTION_LENGTH, check_post_token, check_url
from kenar_api.icons import icon_hint, is_icon
from kenar_tui.button_drafts import ActionKind, ButtonDraft
from kenar_tui.dialogs.icon_picker import IconPickerScreen
from kenar_tui.widgets.input_preview import InputPreview

_PROBLEM_FIELDS = {
    "caption": "#caption-problem",
    "icon": "#icon-problem",
    "action.open_direct_link": "#url-problem",
    "action": "#url-problem",
    "post_token": "#post-problem",
}
_KINDS: dict[str, ActionKind] = {
    "kind-link": "link",
    "kind-server": "server",
    "kind-post": "post",
    "kind-post-manage": "post_manage",
}


class DataRow(Horizontal):
    """One key/value pair of a server link's data."""

    DEFAULT_CSS = """
    DataRow { height: auto; }
    DataRow Input { width: 1fr; }
    """

    def __init__(self, key: str = "", value: str = "") -> None:
        super().__init__()
        self._key, self._value = key, value

    def compose(self) -> ComposeResult:
        yield Input(self._key, placeholder="key", classes="data-key")
        yield Input(self._value, placeholder="value", classes="data-value")

    @property
    def pair(self) -> tuple[str, str]:
        return (
            self.query_one(".data-key", Input).value,
            self.query_one(".data-value", Input).value,
        )


class ButtonEditorScreen(ModalScreen[ButtonDraft | None]):
    """Edit one button; the result is the edited draft, or None when cancelled."""

    DEFAULT_CSS = """
    ButtonEditorScreen { align: center middle; }
    ButtonEditorScreen > #button-editor {
        width: 72; height: auto; max-height: 95%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    ButtonEditorScreen .problem { color: $error; text-style: bold; height: auto; }
    ButtonEditorScreen .note { color: $text-muted; }
    ButtonEditorScreen #icon { width: 100%; }
    ButtonEditorScreen #kind { width: 100%; }
    ButtonEditorScreen #data-rows { height: auto; }
    ButtonEditorScreen .-hidden { display: none; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "save button", id="button_editor.save"),
        Binding("escape", "cancel", "cancel", id="button_editor.cancel"),
        Binding("ctrl+o", "pick_icon", "choose icon", id="button_editor.pick_icon"),
        Binding("ctrl+n", "add_data_row", "add data row", id="button_editor.add_data_row"),
        Binding("ctrl+r", "remove_data_row", "remove data row", id="button_editor.remove_data_row"),
    ]

    def __init__(self, button: ButtonDraft, *, title: str = "button", post_token: str = "") -> None:
        super().__init__()
        self._button = button.copy()
        self._title = title
        # A new post-page button opens the conversation's own post unless told otherwise.
        if not self._button.post_token:
            self._button.post_token = post_token

    def compose(self) -> ComposeResult:
        b = self._button
        with VerticalScroll(id="button-editor"):
            yield Static(Text(self._title, style="bold"))
            yield Label(f"caption (at most {MAX_CAPTION_LENGTH} characters)")
            yield Input(b.caption, placeholder="e.g. رزرو بازدید", id="caption")
            yield InputPreview(limit=MAX_CAPTION_LENGTH, id="caption-preview")  # as it will read
            yield Static(classes="problem", id="caption-problem")
            yield Label("icon")
            yield Button(self._icon_label(), id="icon")
            yield Static(classes="problem", id="icon-problem")
            yield Label("action")
            with RadioSet(id="kind"):
                yield RadioButton("direct link ↗", value=b.kind == "link", id="kind-link")
                yield RadioButton(
                    "server link ⇄ (through the relay)", value=b.kind == "server", id="kind-server"
                )
                yield RadioButton("post's page ▤", value=b.kind == "post", id="kind-post")
                yield RadioButton(
                    "post's manage page ✎ (only its owner sees it)",
                    value=b.kind == "post_manage",
                    id="kind-post-manage",
                )
            with Vertical(id="link-fields"):
                yield Input(b.url, placeholder="https://…", id="url")
                yield Static(classes="problem", id="url-problem")
            with Vertical(id="server-fields"):
                yield Static("data handed to the relay when the button is pressed", classes="note")
                with Vertical(id="data-rows"):
                    for key, value in b.data.items():
                        yield DataRow(key, value)
                yield Static(classes="problem", id="data-problem")
            with Vertical(id="post-fields"):
                yield Input(b.post_token, placeholder="post token, e.g. gZd7omnS", id="post-token")
                yield Static(classes="problem", id="post-problem")
        yield Footer()

    def on_mount(self) -> None:
        self._show_kind()
        self.query_one("#caption", Input).focus()
        self.query_one("#caption-preview", InputPreview).show_text(self._button.caption)

    # -- state ------------------------------------------------------------------------

    def _icon_label(self) -> str:
        icon = self._button.icon
        if not icon:
            return "choose an icon… (Enter)"
        return f"{icon} · {icon_hint(icon)}" if is_icon(icon) else f"{icon} (unknown)"

    def _show_kind(self) -> None:
        kind = self._button.kind
        self.query_one("#link-fields").set_class(kind != "link", "-hidden")
        self.query_one("#server-fields").set_class(kind != "server", "-hidden")
        self.query_one("#post-fields").set_class(kind not in ("post", "post_manage"), "-hidden")

    def _say(self, selector: str, message: str) -> None:
        self.query_one(selector, Static).update(message)

    def _clear_problems(self) -> None:
        for selector in (
            "#caption-problem",
            "#icon-problem",
            "#url-problem",
            "#data-problem",
            "#post-problem",
        ):
            self._say(selector, "")

    def draft(self) -> ButtonDraft:
        """The button as the fields now describe it."""
        b = self._button
        b.caption = self.query_one("#caption", Input).value
        b.url = self.query_one("#url", Input).value
        b.post_token = self.query_one("#post-token", Input).value.strip()
        b.data = {}
        for row in self.query(DataRow):
            key, value = row.pair
            b.data[key] = value
        return b.copy()

    def _data_problem(self) -> str:
        keys = [row.pair[0] for row in self.query(DataRow)]
        if any(not key.strip() for key in keys):
            return "every data row needs a key"
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            return f"the key «{duplicates[0]}» appears twice"
        return ""

    # -- events -----------------------------------------------------------------------

    @on(Input.Changed, "#url")
    def _check_url_as_typed(self, event: Input.Changed) -> None:
        self._say("#url-problem", check_url(event.value) or "")

    @on(Input.Changed, "#post-token")
    def _check_post_token_as_typed(self, event: Input.Changed) -> None:
        self._say("#post-problem", check_post_token(event.value.strip()) or "")

    @on(Input.Changed, "#caption")
    def _caption_typed(self, event: Input.Changed) -> None:
        self._say("#caption-problem", "")
        self.query_one("#caption-preview", InputPreview).show_text(event.value)

    @on(Input.Submitted)
    def _next_field(self) -> None:
        self.focus_next()

    @on(RadioSet.Changed, "#kind")
    def _kind_changed(self, event: RadioSet.Changed) -> None:
        self._button.kind = _KINDS.get(event.pressed.id or "", "link")
        self._show_kind()

    @on(Button.Pressed, "#icon")
    def _icon_pressed(self) -> None:
        self.action_pick_icon()

    def action_pick_icon(self) -> None:
        def picked(icon: str | None) -> None:
            if icon:
                self._button.icon = icon
                self.query_one("#icon", Button).label = self._icon_label()
                self._say("#icon-problem", "")

        self.app.push_screen(IconPickerScreen(), picked)

    def action_add_data_row(self) -> None:
        if self._button.kind != "server":
            self.query_one("#kind-server", RadioButton).value = True
        row = DataRow()
        self.query_one("#data-rows").mount(row)
        self.call_after_refresh(lambda: row.query_one(".data-key", Input).focus())

    def action_remove_data_row(self) -> None:
        focused = self.focused
        for row in self.query(DataRow):
            if focused is not None and focused in row.walk_children():
                row.remove()
                self._say("#data-problem", "")
                return
        self.app.bell()

    def action_save(self) -> None:
        self._clear_problems()
        button = self.draft()
        if button.kind == "server":
            problem = self._data_problem()
            if problem:
                self._say("#data-problem", problem)
                return
        problems = button.problems()
        for exc in problems:
            field = exc.field
            if field == "action" and button.kind in ("post", "post_manage"):
                field = "post_token"
            self._say(_PROBLEM_FIELDS.get(field, "#caption-problem"), str(exc))
        if problems:
            self.app.bell()
            return
        self.dismiss(button)

    def action_cancel(self) -> None:
        self.dismiss(None)
