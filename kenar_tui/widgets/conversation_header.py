"""The line above the history: the post, the conversation type and whether we can send."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widget import Widget

from kenar_tui.text import display


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
        self, *, bidi: bool, login_hint: str = "kenar-tui login", id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.bidi = bidi
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

    def _team(self) -> str:
        # Teammates come first: "Sara is replying" is what must not be missed.
        parts = []
        if self.presence:
            shown = self.presence.replace("[", "\\[")  # names already prepared for display
            parts.append(f"[b $warning]◉ {shown}[/]")
        if self.assignee:
            shown = display(self.assignee, bidi=self.bidi).replace("[", "\\[")
            parts.append(f"[$secondary]→ {shown}[/]")
        return " · ".join(parts) + (" · " if parts else "")

    def render(self) -> str:
        conv = self.summary
        if conv is None:
            return "[dim]No conversation selected · Ctrl+O opens one by its id[/]"
        clipped = Text(conv.post_title or conv.post_token or "(no post)", no_wrap=True)
        clipped.truncate(32, overflow="ellipsis")  # keep room for the type and "can send"
        title = display(clipped.plain, bidi=self.bidi)
        send = (
            "[$success]✓ can send[/]"
            if self.can_send
            else f"[$error]✗ read only ({self.login_hint.replace('[', '')})[/]"
        )
        title = title.replace("[", "\\[")
        token = f" [dim]{conv.post_token}[/]" if conv.post_token else ""
        # What matters most first: narrow terminals cut the end of the line.
        return f"{self._team()}{send} · {conv.type} · [b]{title}[/]{token} [dim]{conv.id[:8]}[/]"
