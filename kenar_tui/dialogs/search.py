"""Search across every stored message (Persian-aware: the Inbox folds both sides)."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from kenar_tui.text import display
from kenar_tui.widgets.input_preview import InputPreview

DEBOUNCE_S = 0.2


class SearchScreen(ModalScreen[tuple[str, int] | None]):
    """Type to search; Enter or a click opens the hit's conversation at that message.

    Answers (conversation id, position in its history) or None.
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

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close the search", id="search.close"),
        Binding("down", "to_results", "Move into the results", id="search.results", show=False),
    ]

    def __init__(self, inbox: Any, *, bidi: bool, query: str = "") -> None:
        super().__init__()
        self.inbox = inbox
        self.bidi = bidi
        self.query_text = query
        self.hits: list[Any] = []
        self._timer: Timer | None = None

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

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self.query_one(InputPreview).show_text(event.value)
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE_S, self.run_search)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.run_search()
        if self.hits:
            self.dismiss((self.hits[0].cid, self.hits[0].position))

    def run_search(self) -> None:
        query = self.query_one(Input).value.strip()
        results = self.query_one(OptionList)
        results.clear_options()
        self.hits = list(self.inbox.search(query)) if query else []
        options = []
        for i, hit in enumerate(self.hits):
            conv = self.inbox.conversation(hit.cid)
            where = (conv.post_title or conv.post_token or "") if conv else ""
            snippet = display(hit.snippet.replace("\n", " "), bidi=self.bidi)
            place = display(where, bidi=self.bidi)
            # Content, not markup: snippets and titles are other people's text.
            prompt = Content.assemble(snippet, "\n", (f"{place} · {hit.cid[:12]}", "dim"))
            options.append(Option(prompt, id=str(i)))
        results.add_options(options)
        count = self.query_one("#search-count", Static)
        found = len(self.hits)
        count.update(f"{found} match{'' if found == 1 else 'es'}" if query else "")

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        hit = self.hits[int(event.option.id or 0)]
        self.dismiss((hit.cid, hit.position))

    def action_to_results(self) -> None:
        results = self.query_one(OptionList)
        if self.hits:
            results.focus()
            results.highlighted = 0

    def action_close(self) -> None:
        self.dismiss(None)
