"""Jump to a post: type to filter, Enter selects its first conversation."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from kenar_tui.text import display, fold, format_wait
from kenar_tui.text.formats import format_price
from kenar_tui.text.sanitize import clean_text


class PostPickerScreen(ModalScreen[tuple[str | None] | None]):
    """The posts, filtered as you type (Persian-aware)."""

    DEFAULT_CSS = """
    PostPickerScreen { align: center top; }
    PostPickerScreen > Vertical {
        width: 80; max-width: 95%; height: 70%; margin-top: 2;
        border: round $accent; background: $surface;
    }
    PostPickerScreen OptionList { height: 1fr; border: none; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Cancel", id="posts.close"),
        Binding("down", "to_list", "Move into the posts", id="posts.list", show=False),
    ]

    def __init__(self, posts: list[Any], *, bidi: bool) -> None:
        super().__init__()
        self.posts = posts
        self.bidi = bidi
        self.shown: list[Any] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Input(placeholder="post title or token")
            yield OptionList()

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self._fill("")

    def _fill(self, query: str) -> None:
        wanted = fold(query)
        self.shown = [
            p
            for p in self.posts
            if not wanted or wanted in fold(f"{p.title or ''} {p.token or ''}")
        ]
        options = []
        for i, post in enumerate(self.shown):
            title = display(post.title or post.token or "(no post)", bidi=self.bidi)
            waiting = (
                f" · {post.unanswered} waiting, longest {format_wait(post.longest_wait_s or 0)}"
                if post.unanswered
                else ""
            )
            count = len(post.conversations)
            price = self._price(getattr(post, "price", None))
            # Content from parts, not markup: titles and tokens come from Divar.
            detail = f"{price}{clean_text(post.token or '')} · {count} chats{waiting}"
            options.append(Option(Content.assemble(title, " ", (detail, "dim")), id=str(i)))
        listing = self.query_one(OptionList)
        listing.clear_options()
        listing.add_options(options)

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        if self.shown:
            self.dismiss((self.shown[0].token,))

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss((self.shown[int(event.option.id or 0)].token,))

    def _price(self, price: int | None) -> str:
        shown = getattr(self.app, "format_price", format_price)(price)
        return f"{shown} · " if shown else ""

    def action_to_list(self) -> None:
        if self.shown:
            listing = self.query_one(OptionList)
            listing.focus()
            listing.highlighted = 0

    def action_close(self) -> None:
        self.dismiss(None)
