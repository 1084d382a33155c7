"""The line above the history: the post, the conversation type and whether we can send."""

from __future__ import annotations

from typing import Any

from textual.content import Content
from textual.widget import Widget

from kenar_tui.text import display
from kenar_tui.text.fit import fit_title
from kenar_tui.text.formats import Digits, format_price
from kenar_tui.text.sanitize import clean_text


class ConversationHeader(Widget):
    """Post title, token, POST or BOT, and "can send" or why not."""

    DEFAULT_CSS = """
    ConversationHeader {
        height: 1;
        padding: 0 1;
        background: $boost;
    }
    """

    def __init__(
        self,
        *,
        bidi: bool,
        digits: Digits = "latin",
        login_hint: str = "kenar-tui login",
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.bidi = bidi
        self.digits: Digits = digits  # the price reads in the digits the rest of the console uses
        # How to get a token, after "read only": the console names its key.
        self.login_hint = login_hint
        self.summary: Any | None = None
        self.can_send = False
        self.presence = ""  # "Sara is replying · Reza is viewing"
        self.assignee: str | None = None

    def show(
        self,
        summary: Any | None,
        *,
        can_send: bool,
        presence: str = "",
        assignee: str | None = None,
    ) -> None:
        self.summary = summary
        self.can_send = can_send
        self.presence = presence
        self.assignee = assignee
        self.refresh()

    def _team(self) -> list[tuple[str, str] | str]:
        # Teammates come first: "Sara is replying" is what must not be missed.
        parts: list[tuple[str, str] | str] = []
        if self.presence:  # names already prepared for display
            parts.append((f"◉ {clean_text(self.presence)}", "bold $warning"))
        if self.assignee:
            parts += [" · "] if parts else []
            parts.append((f"→ {display(self.assignee, bidi=self.bidi)}", "$secondary"))
        return [*parts, " · "] if parts else []

    def render(self) -> Content:
        # Built from parts, never from markup: titles and names are other people's text.
        conv = self.summary
        if conv is None:
            return Content.styled("No conversation selected · Ctrl+O opens one by its id", "dim")
        title = display(
            fit_title(conv.post_title or conv.post_token or "(no post)", 32), bidi=self.bidi
        )  # 32 cells keep room for the type and "can send"
        send = (
            ("✓ can send", "$success")
            if self.can_send
            else (f"✗ read only ({self.login_hint})", "$error")
        )
        token: list[tuple[str, str] | str] = (
            [" ", (clean_text(conv.post_token), "dim")] if conv.post_token else []
        )
        price = format_price(conv.post_price, self.digits)
        if price:  # Persian words: bidi-ordered like the title
            token = [" · ", (display(price, bidi=self.bidi), "$success"), *token]
        # What matters most first: narrow terminals cut the end of the line.
        return Content.assemble(
            *self._team(),
            send,
            f" · {clean_text(str(conv.type))} · ",
            (title, "bold"),
            *token,
            " ",
            (clean_text(conv.id[:8]), "dim"),
        )
