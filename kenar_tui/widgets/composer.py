"""The reply box: a multi-line TextArea where Enter sends and Ctrl+J (or Shift+Enter) adds a line.

Terminals send Alt+letter as ESC followed by the letter; Textual turns that into "alt+t" with the
character "t", which a TextArea would type. The box lets such keys pass to the bindings instead,
so every Alt binding works while the user is typing a reply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import TextArea


class Composer(TextArea):
    """Write a reply; Enter sends it, the newline keys break the line, F4 opens $EDITOR."""

    DEFAULT_CSS = """
    Composer {
        height: auto;
        min-height: 3;
        max-height: 8;
        border: round $panel-lighten-2;
        border-title-align: left;
    }
    Composer:focus { border: round $accent; }
    Composer.-disabled { border: round $error 50%; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "send", "Send the reply", id="composer.send", priority=True),
        Binding(
            # Most terminals send Shift+Enter as a plain Enter, and Alt+Enter arrives as Enter too
            # (Textual drops the alt of ESC CR): Ctrl+J is the key that always arrives.
            "ctrl+j,shift+enter",
            "newline",
            "New line in the reply",
            id="composer.newline",
        ),
        Binding("f4,alt+e", "editor", "Write the reply in $EDITOR", id="composer.editor"),
        Binding("f2,alt+g", "buttons", "Add button grids to the reply", id="composer.buttons"),
        Binding("f5,ctrl+t", "templates", "Reply from a template", id="composer.templates"),
        Binding("f6,alt+o", "note", "Save as a private team note", id="composer.note"),
        Binding("f7,alt+u", "attach", "Send a photo or file", id="composer.attach"),
        Binding("escape", "leave", "Leave the reply box", id="composer.leave", show=False),
    ]

    @dataclass
    class Send(Message):
        """The user pressed Enter with this text in the box (F6: as a private note)."""

        composer: Composer
        text: str
        note: bool = False

    @dataclass
    class AttachRequested(Message):
        """F7: pick a photo or file to send (screens/file_picker.py); the draft stays."""

        composer: Composer

    @dataclass
    class EditorRequested(Message):
        """Open $EDITOR with the current text."""

        composer: Composer

    @dataclass
    class ButtonsRequested(Message):
        """Open the button composer on the current text."""

        composer: Composer

    @dataclass
    class TemplatesRequested(Message):
        """Pick a reply template, then adjust it in the button composer."""

        composer: Composer

    @dataclass
    class Left(Message):
        """Escape: give the focus back to the history."""

        composer: Composer

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, soft_wrap=True, show_line_numbers=False, tab_behavior="focus")
        self.border_title = "Reply"

    async def _on_key(self, event: events.Key) -> None:
        # An Alt chord is a command, never text: skip TextArea's insert and let the key
        # bubble to the screen and app bindings (prevent_default is cleared when it bubbles).
        if "alt+" in event.key:
            event.prevent_default()
            return
        await super()._on_key(event)

    def action_send(self) -> None:
        self.post_message(self.Send(self, self.text))

    def action_note(self) -> None:
        self.post_message(self.Send(self, self.text, note=True))

    def action_newline(self) -> None:
        self.insert("\n")

    def action_editor(self) -> None:
        self.post_message(self.EditorRequested(self))

    def action_buttons(self) -> None:
        self.post_message(self.ButtonsRequested(self))

    def action_templates(self) -> None:
        self.post_message(self.TemplatesRequested(self))

    def action_attach(self) -> None:
        self.post_message(self.AttachRequested(self))

    def action_leave(self) -> None:
        self.post_message(self.Left(self))
