"""Jump to a post: type to filter (Persian-aware), Enter selects its first conversation."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from kenar_tui.dialogs.picker import FilterPicker
from kenar_tui.text import display, fold, format_wait
from kenar_tui.text.formats import format_price
from kenar_tui.text.sanitize import clean_text


class PostPickerScreen(FilterPicker[Any, tuple[str | None]]):
    """The inbox's posts by title and price; answers (the post's token,) or None."""

    DEFAULT_CSS = """
    PostPickerScreen { align: center top; }
    PostPickerScreen > Vertical {
        width: 80; max-width: 95%; height: 70%; margin-top: 2;
        border: round $accent; background: $surface;
    }
    PostPickerScreen OptionList { height: 1fr; border: none; }
    """

    # Its own ids from before FilterPicker (a user's keymap names them): Down moves into the list.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="posts.close"),
        Binding("down", "to_list", "Move into the posts", id="posts.list", show=False),
    ]

    def __init__(self, posts: list[Any], *, bidi: bool) -> None:
        super().__init__()
        self.posts = posts
        self.bidi = bidi

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Input(placeholder="post title or token")
            yield OptionList()

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self.refill("")

    def ranked(self, query: str) -> list[Any]:
        wanted = fold(query)
        return [
            p
            for p in self.posts
            if not wanted or wanted in fold(f"{p.title or ''} {p.token or ''}")
        ]

    def option(self, choice: Any, index: int) -> Option:
        title = display(choice.title or choice.token or "(no post)", bidi=self.bidi)
        waiting = (
            f" · {choice.unanswered} waiting, longest {format_wait(choice.longest_wait_s or 0)}"
            if choice.unanswered
            else ""
        )
        count = len(choice.conversations)
        price = self._price(getattr(choice, "price", None))
        # Content from parts, not markup: titles and tokens come from Divar.
        detail = f"{price}{clean_text(choice.token or '')} · {count} chats{waiting}"
        return Option(Content.assemble(title, " ", (detail, "dim")))

    def picked(self, choice: Any) -> None:
        self.dismiss((choice.token,))

    def _price(self, price: int | None) -> str:
        shown = getattr(self.app, "format_price", format_price)(price)
        return f"{shown} · " if shown else ""
