"""Search across every stored message (Persian-aware: the Inbox folds both sides)."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from kenar_tui.dialogs.picker import FilterPicker
from kenar_tui.text import display
from kenar_tui.widgets.input_preview import InputPreview

DEBOUNCE_S = 0.2


class SearchScreen(FilterPicker[Any, tuple[str, int]]):
    """Type to search; Enter or a click opens the hit's conversation at that message.

    Answers (conversation id, position in its history) or None. The store is searched
    once typing pauses (DEBOUNCE_S), and at once on Enter.
    """

    DEFAULT_CSS = """
    SearchScreen { align: center top; }
    SearchScreen > Vertical {
        width: 90%; max-width: 120; height: 80%; margin-top: 2;
        border: round $accent; background: $surface;
    }
    SearchScreen OptionList { height: 1fr; border: none; }
    SearchScreen #search-count { height: 1; color: $text-muted; padding: 0 1; }
    """

    # Its own ids from before FilterPicker (a user's keymap names them): Down moves into the list.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Close the search", id="search.close"),
        Binding("down", "to_list", "Move into the results", id="search.results", show=False),
    ]

    def __init__(self, inbox: Any, *, bidi: bool, query: str = "") -> None:
        super().__init__()
        self.inbox = inbox
        self.bidi = bidi
        self.query_text = query
        # asyncio's timer, not Textual's: a one-shot Textual timer whose task starts late
        # never fires (docs/performance.md, "Why nothing was drawn before"), and the search
        # would wait for Enter.
        self._timer: asyncio.TimerHandle | None = None

    @property
    def hits(self) -> list[Any]:
        """The hits shown, in the Inbox's order."""
        return list(self.choices_shown)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Input(self.query_text, placeholder="search every message (فارسی، English, ۱۲۳)")
            yield InputPreview(limit=None, id="search-preview")
            yield Static("", id="search-count")
            yield OptionList()

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        if self.query_text:
            self.run_search()

    def run_search(self) -> None:
        self.refill(self.query_one(Input).value.strip())

    def typed(self, event: Input.Changed) -> None:
        """Show the text as typed and search when typing pauses (each key would cost a query)."""
        self.query_one(InputPreview).show_text(event.value)
        self._cancel_timer()
        self._timer = asyncio.get_running_loop().call_later(
            DEBOUNCE_S, self.call_next, self._paused
        )

    def _paused(self) -> None:
        self._timer = None
        if self.is_attached:  # the dialog may have closed while the timer ran
            self.run_search()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def on_unmount(self) -> None:
        self._cancel_timer()

    def submitted(self) -> None:
        """Enter searches what is typed now (a pause may not have come yet), then opens a hit."""
        self._cancel_timer()
        self.run_search()
        if self.choices_shown:
            super().submitted()

    def ranked(self, query: str) -> list[Any]:
        return list(self.inbox.search(query)) if query else []

    def option(self, choice: Any, index: int) -> Option:
        conv = self.inbox.conversation(choice.cid)
        where = (conv.post_title or conv.post_token or "") if conv else ""
        snippet = display(choice.snippet.replace("\n", " "), bidi=self.bidi)
        place = display(where, bidi=self.bidi)
        # Content, not markup: snippets and titles are other people's text.
        return Option(Content.assemble(snippet, "\n", (f"{place} · {choice.cid[:12]}", "dim")))

    def filtered(self, query: str) -> None:
        found = len(self.choices_shown)
        count = f"{found} match{'' if found == 1 else 'es'}" if query else ""
        self.query_one("#search-count", Static).update(count)

    def picked(self, choice: Any) -> None:
        self.dismiss((choice.cid, choice.position))
