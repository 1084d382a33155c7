"""Posts and their conversations, as one scrolling list drawn line by line.

A post is a one-line header (title, unanswered buyers, longest wait); each conversation takes
two lines (the last message; its time, wait and unread count). Only the lines on screen are
rendered, so 2,000 conversations cost what 20 do.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from kenar_tui.text import display, format_wait
from kenar_tui.text.fit import fit_title
from kenar_tui.text.formats import format_price

TITLE_CELLS_WITH_PRICE = 12  # a narrower list row shows the title alone
MAX_DRAWN = 1024  # lines kept by what they show; all dropped past this (a screenful is ~50)


@dataclass(frozen=True)
class Row:
    """One entry of the list: a post header (cid None) or a conversation."""

    post: Any
    conversation: Any | None

    @property
    def height(self) -> int:
        return 1 if self.conversation is None else 2


class ConversationList(ScrollView, can_focus=True):
    """Every post and conversation; unanswered first, then most recent (the Inbox's order)."""

    DEFAULT_CSS = """
    ConversationList {
        width: 36;
        height: 1fr;
        border: round $panel-lighten-2;
        border-title-align: left;
        scrollbar-size-vertical: 1;
    }
    ConversationList:focus { border: round $accent; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "move(1)", "Next conversation in the list", id="list.down", show=False),
        Binding("up,k", "move(-1)", "Previous conversation in the list", id="list.up", show=False),
        Binding("pagedown", "move(10)", "Ten conversations down", id="list.page_down", show=False),
        Binding("pageup", "move(-10)", "Ten conversations up", id="list.page_up", show=False),
        Binding("enter", "choose", "Reply to this conversation", id="list.choose", show=False),
    ]

    @dataclass
    class Highlighted(Message):
        """The cursor moved onto a conversation."""

        cid: str

    @dataclass
    class Chosen(Message):
        """Enter (or a click) on a conversation: the user wants to answer it."""

        cid: str

    def __init__(
        self,
        *,
        bidi: bool,
        now: Callable[[], datetime],
        format_time: Callable[[datetime], str],
        palette: dict[str, str],
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.bidi = bidi
        self.now = now
        self.format_time = format_time
        self.palette = palette
        self.rows: list[Row] = []
        self.starts: list[int] = []  # first line of each row
        self.selected: str | None = None
        self._cache: dict[tuple[int, int], Strip] = {}
        # The same line drawn again (a list reordered by a new message moves most rows, it
        # changes few): its strip by what it shows, so only changed lines are rendered anew.
        self._drawn: dict[tuple[Any, ...], Strip] = {}
        # Team mode: "✎ Sara" / "◉ Reza" per conversation, and "mine" / "→ Sara".
        self.presence_marks: dict[str, str] = {}
        self.assignee_labels: dict[str, str] = {}

    def set_team(self, presence: dict[str, str], assignees: dict[str, str]) -> None:
        """Show who is in which conversation and whose it is; redraws only on a change."""
        if presence != self.presence_marks or assignees != self.assignee_labels:
            self.presence_marks, self.assignee_labels = presence, assignees
            self._cache.clear()
            self.refresh()

    def update_posts(self, posts: list[Any]) -> None:
        """Replace the content with the Inbox's current posts (already ordered)."""
        rows: list[Row] = []
        for post in posts:
            rows.append(Row(post, None))
            rows.extend(Row(post, conv) for conv in post.conversations)
        self.rows = rows
        starts, line = [], 0
        for row in rows:
            starts.append(line)
            line += row.height
        self.starts = starts
        self._cache.clear()
        self.virtual_size = Size(self.size.width, line)
        waiting = sum(p.unanswered for p in posts)
        self.border_title = f"Posts · {waiting} waiting" if waiting else "Posts"
        self.refresh()

    @property
    def conversation_ids(self) -> list[str]:
        return [row.conversation.id for row in self.rows if row.conversation is not None]

    def select(self, cid: str | None, *, scroll: bool = True) -> None:
        previous, self.selected = self.selected, cid
        top = self.scroll_offset.y
        if scroll and cid is not None:
            for i, row in enumerate(self.rows):
                if row.conversation is not None and row.conversation.id == cid:
                    region = Region(0, self.starts[i], self.size.width, row.height)
                    self.scroll_to_region(region, animate=False, immediate=True)
                    break
        if self.scroll_offset.y != top:
            self._cache.clear()
            self.refresh()
            return
        if previous == cid:
            return  # already drawn so (the arrow key selects before the screen shows it)
        # The list did not move: only the rows that were and are selected are drawn again
        # (a whole refresh re-renders every line through Textual's styles, twice the cost
        # of the rest of a conversation switch).
        for i, row in enumerate(self.rows):
            if row.conversation is not None and row.conversation.id in (previous, cid):
                lines = range(self.starts[i], self.starts[i] + row.height)
                for key in [key for key in self._cache if key[0] in lines]:
                    del self._cache[key]
                self.refresh_lines(self.starts[i], row.height)

    # --- drawing ---------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        line = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        index = bisect_right(self.starts, line) - 1
        if index < 0 or line >= self.starts[index] + self.rows[index].height:
            return Strip.blank(width)
        key = (line, width)
        strip = self._cache.get(key)
        if strip is None:
            row = self.rows[index]
            text = self._row_line(row, line - self.starts[index], width)
            selected = row.conversation is not None and row.conversation.id == self.selected
            focus = self.has_focus
            shows = (text.plain, tuple(text.spans), str(text.style), width, selected, focus)
            strip = self._drawn.get(shows)
            if strip is None:
                strip = self._draw(text, width, selected, focus)
                if len(self._drawn) > MAX_DRAWN:
                    self._drawn.clear()
                self._drawn[shows] = strip
            self._cache[key] = strip
        return strip

    def _draw(self, text: Text, width: int, selected: bool, focus: bool) -> Strip:
        strip = Strip(list(text.render(self.app.console))).crop_extend(0, width, None)
        if selected:
            # Textual's own cursor colours: a solid bar while the list has the focus, a muted
            # one otherwise ("boost" was all but invisible in the default theme).
            cursor = "block-cursor-background" if focus else "primary-muted"
            strip = strip.apply_style(Style(bgcolor=self.palette.get(cursor), bold=focus))
        return strip

    def visible_text(self) -> list[str]:
        """The lines on screen as plain text."""
        return [
            self.render_line(y).text.rstrip() for y in range(self.scrollable_content_region.height)
        ]

    def _color(self, name: str) -> str:
        return self.palette.get(name, "default")

    def _row_line(self, row: Row, part: int, width: int) -> Text:
        post = row.post
        if row.conversation is None:
            stats = ""
            if post.unanswered:
                stats = f" {post.unanswered} waiting · {format_wait(post.longest_wait_s or 0)}"
            # The price, when known, if the title keeps at least TITLE_CELLS_WITH_PRICE cells.
            price = getattr(self.app, "format_price", format_price)(post.price)
            room = max(width - len(stats) - 1, 4)
            with_price = room - len(price) - 3
            if not (post.title and price and with_price >= TITLE_CELLS_WITH_PRICE):
                price, with_price = "", room
            title = self._clip(post.title or post.token or "(no post)", with_price)
            text = Text(title, style=f"bold {self._color('primary')}", no_wrap=True)
            if price:
                text.append(" · ", style="dim")
                text.append(display(price, bidi=self.bidi), style=self._color("success"))
            if stats:
                text.pad_right(max(width - text.cell_len - len(stats), 1))
                text.append(stats, style=self._color("warning"))
            text.truncate(width, overflow="ellipsis")
            return text
        conv = row.conversation
        unread = conv.unread > 0
        if part == 0:
            dot = "●" if unread else ("○" if not conv.answered else " ")
            preview = self._clip((conv.last_preview or "").replace("\n", " "), width - 3)
            text = Text(f" {dot} ", style=self._color("accent"), no_wrap=True)
            text.append(preview, style="bold" if unread else "")
            text.truncate(width, overflow="ellipsis")
            return text
        parts: list[tuple[str, str]] = []
        if conv.last_at is not None:
            parts.append((self.format_time(conv.last_at), "dim"))
        if conv.waiting_since is not None:
            waited = max((self.now() - conv.waiting_since).total_seconds(), 0)
            parts.append((f"waits {format_wait(waited)}", self._color("warning")))
        if conv.type == "BOT":
            parts.append(("bot", self._color("secondary")))
        if unread:
            parts.append((f"{conv.unread} new", f"bold {self._color('accent')}"))
        if conv.id in self.assignee_labels:
            # Labels and marks come with their names already prepared for display (bidi).
            parts.append((self.assignee_labels[conv.id], self._color("secondary")))
        if conv.id in self.presence_marks:
            parts.append((self.presence_marks[conv.id], f"bold {self._color('warning')}"))
        text = Text("   ", no_wrap=True)
        for i, (words, style) in enumerate(parts):
            if i:
                text.append(" · ", style="dim")
            text.append(words, style=style)
        text.truncate(width, overflow="ellipsis")
        return text

    def _clip(self, text: str, width: int) -> str:
        """Shorten in logical order first, so an RTL text keeps its beginning, then reorder."""
        return display(fit_title(text, max(width, 1)), bidi=self.bidi)  # no half Latin words

    def on_focus(self) -> None:
        self._cache.clear()
        self.refresh()

    def on_blur(self) -> None:
        self._cache.clear()
        self.refresh()

    # --- movement --------------------------------------------------------------------------

    def _position(self) -> int:
        ids = self.conversation_ids
        return ids.index(self.selected) if self.selected in ids else -1

    def step(self, delta: int) -> str | None:
        """Move the selection by `delta` conversations (wrapping), return the new id."""
        ids = self.conversation_ids
        if not ids:
            return None
        position = self._position()
        if position < 0:
            target = 0 if delta > 0 else len(ids) - 1
        else:
            target = max(0, min(len(ids) - 1, position + delta))
            if abs(delta) == 1:
                target = (position + delta) % len(ids)
        self.select(ids[target])
        self.post_message(self.Highlighted(ids[target]))
        return ids[target]

    def action_move(self, delta: int) -> None:
        self.step(delta)

    def action_choose(self) -> None:
        if self.selected:
            self.post_message(self.Chosen(self.selected))

    def on_click(self, event: events.Click) -> None:
        line = self.scroll_offset.y + event.y
        index = bisect_right(self.starts, line) - 1
        if 0 <= index < len(self.rows):
            row = self.rows[index]
            if row.conversation is None and row.post.conversations:
                row = Row(row.post, row.post.conversations[0])
            if row.conversation is not None:
                self.select(row.conversation.id, scroll=False)
                self.post_message(self.Highlighted(row.conversation.id))
                if event.chain > 1:
                    self.post_message(self.Chosen(row.conversation.id))

    def jump_to_post(self, token: str | None) -> str | None:
        """Select the first conversation of a post; return its id."""
        for row in self.rows:
            if row.conversation is not None and row.post.token == token:
                self.select(row.conversation.id)
                self.post_message(self.Highlighted(row.conversation.id))
                return str(row.conversation.id)
        return None
