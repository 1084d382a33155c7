"""PreviewScreen: the message as the buyer and as the seller will see it, before it is sent.

Each side sees the text and only *their own* grid (`receiver_buttons` for the buyer,
`sender_buttons` for the seller). The exact JSON body is one key away.
"""

from __future__ import annotations

import json
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from kenar_api.bodies import ChatbotMessageBody
from kenar_tui.button_drafts import ReplyBody
from kenar_tui.widgets.grid_preview import MessagePreview


def wire_json(body: ReplyBody) -> str:
    """The body exactly as sent, pretty-printed with Persian left readable."""
    return json.dumps(body.wire(), ensure_ascii=False, indent=2)


class PreviewScreen(ModalScreen[None]):
    """Both sides of the message; `j` shows the JSON body, Escape goes back."""

    DEFAULT_CSS = """
    PreviewScreen { align: center middle; }
    PreviewScreen > #preview { width: 100%; height: 100%; background: $surface; padding: 0 1; }
    PreviewScreen #sides { height: auto; }
    PreviewScreen #sides MessagePreview { width: 1fr; }
    PreviewScreen #json { height: 1fr; border: round $accent; }
    PreviewScreen .-hidden { display: none; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "back", id="preview.close"),
        Binding("j", "toggle_json", "JSON body", id="preview.toggle_json"),
    ]

    def __init__(self, body: ReplyBody) -> None:
        super().__init__()
        self.body = body

    def compose(self) -> ComposeResult:
        body = self.body
        with Vertical(id="preview"):
            yield Static("[b]preview[/b]  how each side will see this message")
            with Horizontal(id="sides"):
                if isinstance(body, ChatbotMessageBody):
                    yield MessagePreview(
                        "the user sees", body.text_message, body.buttons, id="buyer"
                    )
                    yield MessagePreview("the bot side keeps", body.text_message, None, id="seller")
                else:
                    yield MessagePreview(
                        "the buyer sees", body.message, body.receiver_buttons, id="buyer"
                    )
                    yield MessagePreview(
                        "the seller sees", body.message, body.sender_buttons, id="seller"
                    )
            with VerticalScroll(id="json", classes="-hidden"):
                yield Static(wire_json(body), markup=False, id="json-body")
        yield Footer()

    def action_toggle_json(self) -> None:
        panel = self.query_one("#json")
        panel.toggle_class("-hidden")
        self.query_one("#sides").set_class(not panel.has_class("-hidden"), "-hidden")

    def action_close(self) -> None:
        self.dismiss(None)
