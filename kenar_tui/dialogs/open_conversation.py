"""Open any conversation by its id, to read it or to write the first message into it."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, RadioButton, RadioSet, Static


class OpenConversationScreen(ModalScreen[tuple[str, str | None, str] | None]):
    """Conversation id, optional post token, POST or BOT; Enter opens."""

    DEFAULT_CSS = """
    OpenConversationScreen { align: center middle; }
    OpenConversationScreen > Vertical {
        width: 70; max-width: 95%; height: auto;
        border: round $accent; background: $surface; padding: 1 2;
    }
    OpenConversationScreen Input { margin-bottom: 1; }
    OpenConversationScreen RadioSet { height: auto; layout: horizontal; }
    OpenConversationScreen #open-error { color: $error; height: auto; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Cancel", id="open.close"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Conversation id")
            yield Input(placeholder="e.g. edbb9499-cccc-4d35-b21f-621fa95f2b3e", id="open-cid")
            yield Label("Post token (optional: picks the token allowed to send)")
            yield Input(placeholder="e.g. gZd7omnS", id="open-post")
            with RadioSet(id="open-type"):
                yield RadioButton("post chat", value=True, id="POST")
                yield RadioButton("chatbot", id="BOT")
            yield Static("", id="open-error")

    def on_mount(self) -> None:
        self.query_one("#open-cid", Input).focus()

    @on(Input.Submitted)
    def _submit(self) -> None:
        cid = self.query_one("#open-cid", Input).value.strip()
        post = self.query_one("#open-post", Input).value.strip() or None
        if not cid:
            self.query_one("#open-error", Static).update("Type the conversation's id.")
            return
        if any(ch.isspace() for ch in cid):
            self.query_one("#open-error", Static).update("A conversation id has no spaces.")
            return
        pressed = self.query_one(RadioSet).pressed_button
        kind = pressed.id if pressed is not None and pressed.id else "POST"
        self.dismiss((cid, post, kind))

    def action_close(self) -> None:
        self.dismiss(None)
