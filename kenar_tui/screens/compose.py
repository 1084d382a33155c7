"""ButtonComposerScreen: a reply's text and both button grids, checked before anything leaves.

The seller's grid (`sender_buttons`) and the buyer's (`receiver_buttons`) sit side by side,
or one at a time with a toggle on terminals narrower than 100 columns. Sending builds the
body Kenar's models accept (SendMessageBody, or ChatbotMessageBody for BOT conversations);
whatever they refuse is shown at the field or button it is about and nothing is returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.screen import ModalScreen
from textual.widgets import Footer, Static, TextArea

from kenar_core.errors import ConfigError
from kenar_tui.button_drafts import ButtonDraft, GridDraft, Problem, ReplyBody, Side, compose_body
from kenar_tui.dialogs.button_editor import ButtonEditorScreen
from kenar_tui.dialogs.name_prompt import NamePromptScreen
from kenar_tui.dialogs.preview import PreviewScreen
from kenar_tui.dialogs.template_picker import TemplatePickerScreen
from kenar_tui.templates import FilledTemplate, Template, default_templates_path, save_template
from kenar_tui.widgets.button_grid import ButtonGridEditor
from kenar_tui.widgets.rtl import bidi_of, shown

ComposerResult = ReplyBody | None
NARROW_WIDTH = 100
SIDES: tuple[Side, Side] = ("sender", "receiver")

_SIDE_NAMES = {"sender": "the seller's grid", "receiver": "the buyer's grid"}


class ButtonComposerScreen(ModalScreen[ComposerResult]):
    """Compose a reply with button grids; the result is the body to send, or None."""

    DEFAULT_CSS = """
    ButtonComposerScreen > #composer { width: 100%; height: 100%; background: $surface; }
    ButtonComposerScreen #composer-title { padding: 0 1; text-style: bold; }
    ButtonComposerScreen #text { height: 6; }
    ButtonComposerScreen .problem { color: $error; text-style: bold; padding: 0 1; height: auto; }
    ButtonComposerScreen #composer-status { color: $text-muted; padding: 0 1; height: auto; }
    ButtonComposerScreen #grids { height: auto; }
    ButtonComposerScreen #grids ButtonGridEditor { width: 1fr; }
    ButtonComposerScreen.-narrow ButtonGridEditor.-other-side { display: none; }
    ButtonComposerScreen ButtonGridEditor.-unused { display: none; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "send", "send", id="compose.send"),
        Binding("f2", "preview", "preview", id="compose.preview"),
        Binding("f3", "save_template", "as template", id="compose.save_template"),
        Binding("f4", "switch_side", "other grid", id="compose.switch_side"),
        Binding("f5", "use_template", "templates", id="compose.use_template"),
        Binding("escape", "cancel", "cancel", id="compose.cancel"),
    ]

    def __init__(
        self,
        text: str = "",
        *,
        conversation_type: str = "POST",
        sender: GridDraft | None = None,
        receiver: GridDraft | None = None,
        templates_path: Path | None = None,
        template_context: Mapping[str, str] | None = None,
        title: str = "",
    ) -> None:
        super().__init__()
        self.conversation_type = conversation_type
        self._text = text
        self._sender = sender.copy() if sender else GridDraft()
        self._receiver = receiver.copy() if receiver else GridDraft()
        self._templates_path = templates_path
        self.template_context = dict(template_context or {})
        self._title = title or f"compose a reply ({conversation_type} conversation)"
        self._side: Side = "receiver"
        self._template_name = ""

    @classmethod
    def from_template(cls, filled: FilledTemplate, **options: Any) -> ButtonComposerScreen:
        """A composer holding a filled template's text and grids, to adjust before sending."""
        return cls(filled.text, sender=filled.sender, receiver=filled.receiver, **options)

    @property
    def templates_path(self) -> Path:
        """The templates file: as given, else in the app's config_dir, else platformdirs'."""
        if self._templates_path is not None:
            return self._templates_path
        settings = getattr(self.app, "settings", None)
        config_dir = getattr(settings, "config_dir", None)
        return default_templates_path(config_dir if isinstance(config_dir, Path) else None)

    @property
    def is_bot(self) -> bool:
        return self.conversation_type == "BOT"

    def compose(self) -> ComposeResult:
        with Vertical(id="composer"):
            yield Static(shown(self._title, bidi=bidi_of(self)), id="composer-title", markup=False)
            yield TextArea(self._text, id="text", soft_wrap=True)
            yield Static(classes="problem", id="text-problem")
            with Horizontal(id="grids"):
                yield ButtonGridEditor(
                    self._sender,
                    side="sender",
                    title="the seller sees · sender_buttons",
                    id="sender-grid",
                    classes="-unused" if self.is_bot and self._sender.is_empty else None,
                )
                receiver_title = (
                    "the user sees · buttons"
                    if self.is_bot
                    else "the buyer sees · receiver_buttons"
                )
                yield ButtonGridEditor(
                    self._receiver, side="receiver", title=receiver_title, id="receiver-grid"
                )
            yield Static(id="composer-status")
        yield Footer()

    def on_mount(self) -> None:
        self._layout(self.size.width)
        self.query_one("#text", TextArea).focus()

    # -- layout ------------------------------------------------------------------------

    def grid(self, side: Side) -> ButtonGridEditor:
        return self.query_one(f"#{side}-grid", ButtonGridEditor)

    @property
    def narrow(self) -> bool:
        return self.has_class("-narrow")

    def _layout(self, width: int) -> None:
        self.set_class(width < NARROW_WIDTH, "-narrow")
        for side in SIDES:
            self.grid(side).set_class(side != self._side, "-other-side")
        self.refresh_bindings()

    def on_resize(self, event: Resize) -> None:
        self._layout(event.size.width)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "switch_side":
            return self.narrow and not self.is_bot
        return True

    def _show_side(self, side: Side) -> None:
        self._side = side
        self._layout(self.size.width)

    def action_switch_side(self) -> None:
        self._show_side("sender" if self._side == "receiver" else "receiver")
        self.grid(self._side).focus()
        self._status(f"showing {_SIDE_NAMES[self._side]}")

    # -- checking ----------------------------------------------------------------------

    @property
    def text(self) -> str:
        return self.query_one("#text", TextArea).text

    def _status(self, message: str) -> None:
        self.query_one("#composer-status", Static).update(Text(message))

    def _show_problem(self, problem: Problem | None) -> None:
        text_problem = problem.message if problem and problem.side is None else ""
        self.query_one("#text-problem", Static).update(Text(text_problem))
        for side in SIDES:
            mine = problem if problem is not None and problem.side == side else None
            self.grid(side).show_problem(mine)
        if problem is None:
            return
        self.app.bell()
        if problem.side is None:
            self.query_one("#text", TextArea).focus()
        else:
            grid = self.grid(problem.side)
            grid.remove_class("-unused")
            self._show_side(problem.side)
            grid.focus()

    def check(self) -> ReplyBody | None:
        """The body to send, or None after showing why not."""
        result = compose_body(
            self.text,
            self.grid("sender").draft,
            self.grid("receiver").draft,
            conversation_type=self.conversation_type,
        )
        if isinstance(result, Problem):
            self._show_problem(result)
            return None
        self._show_problem(None)
        return result

    # -- actions -----------------------------------------------------------------------

    def action_send(self) -> None:
        body = self.check()
        if body is not None:
            self.dismiss(body)

    def action_preview(self) -> None:
        body = self.check()
        if body is not None:
            self.app.push_screen(PreviewScreen(body))

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_save_template(self) -> None:
        def named(name: str | None) -> None:
            if not name:
                return
            template = Template.from_message(
                name, self.text, self.grid("sender").draft, self.grid("receiver").draft
            )
            try:
                save_template(self.templates_path, template)
            except (ConfigError, OSError) as exc:
                self._status(f"not saved: {exc}")
                self.notify(str(exc), title="template not saved", severity="error")
                return
            self._template_name = name
            self._status(f"saved as template «{name}» in {self.templates_path}")

        self.app.push_screen(
            NamePromptScreen(
                "save this message as a template named:",
                value=self._template_name,
                note="a template with the same name is replaced",
            ),
            named,
        )

    def action_use_template(self) -> None:
        def chosen(filled: FilledTemplate | None) -> None:
            if filled is not None:
                self.load(filled)

        self.app.push_screen(
            TemplatePickerScreen(self.templates_path, self.template_context), chosen
        )

    def load(self, filled: FilledTemplate) -> None:
        """Replace the text and both grids with a filled template's."""
        self.query_one("#text", TextArea).text = filled.text
        sides: tuple[tuple[Side, GridDraft], ...] = (
            ("sender", filled.sender),
            ("receiver", filled.receiver),
        )
        for side, draft in sides:
            grid = self.grid(side)
            grid.draft = draft.copy()
            grid.cursor = (0, 0)
            if not draft.is_empty:
                grid.remove_class("-unused")
            grid.redraw()
        self._template_name = filled.name
        self._show_problem(None)
        self._status(f"template «{filled.name}»")

    # -- button editing ----------------------------------------------------------------

    @on(ButtonGridEditor.EditRequested)
    def _edit_button(self, event: ButtonGridEditor.EditRequested) -> None:
        event.stop()
        verb = "new button" if event.is_new else "edit button"
        title = f"{verb} · {_SIDE_NAMES[event.editor.side]}, row {event.row + 1}"

        def edited(button: ButtonDraft | None) -> None:
            if button is not None:
                event.editor.apply_edit(event, button)

        post_token = self.template_context.get("post_token", "")
        editor = ButtonEditorScreen(event.button, title=title, post_token=post_token)
        self.app.push_screen(editor, edited)

    @on(TextArea.Changed, "#text")
    def _text_changed(self) -> None:
        self.query_one("#text-problem", Static).update("")
