"""The selected conversation's history: a virtual list whose cost follows the screen.

Only the items on screen are fetched (`inbox.history(cid, start, stop)` in small pages) and
laid out; a conversation of 50,000 messages costs what one of 20 does. The view is anchored
either to the top of an item (after scrolling up) or to the bottom of an item (following the
newest message, like every chat), and a cursor marks the item the keys act on.

A buyer's photo is drawn under its label once it has loaded (media/pictures.py): the first
time its message is laid out a worker fetches it from the configured host and decodes it in
a thread; the view is laid out again when it is ready.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from kenar_core.errors import MediaError
from kenar_tui.draw_log import DrawLog
from kenar_tui.media.download import media_of
from kenar_tui.media.pictures import Picture, PictureStore, picture_lines
from kenar_tui.widgets.message_lines import RenderOptions, item_lines

PAGE = 48  # items fetched per page from the inbox
KEEP_PAGES = 6  # pages kept in memory; older ones are dropped
# Laid-out items survive a reload (a new message redraws only itself, not the screenful
# around it) for at most this long, so "today" times turn into dates soon after midnight.
LINES_KEPT_S = 60.0


class HistoryView(Widget, can_focus=True):
    """The messages of one conversation, newest at the bottom."""

    DEFAULT_CSS = """
    HistoryView {
        height: 1fr;
        padding: 0 1;
        border: round $panel-lighten-2;
        border-title-align: left;
        border-subtitle-align: right;
    }
    HistoryView:focus { border: round $accent; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "Previous message", id="history.up", show=False),
        Binding("down,j", "cursor(1)", "Next message", id="history.down", show=False),
        Binding("pageup", "page(-1)", "Scroll history up", id="history.page_up", show=False),
        Binding("pagedown", "page(1)", "Scroll history down", id="history.page_down", show=False),
        Binding("home,g", "edge(-1)", "Oldest message", id="history.first", show=False),
        Binding("end,G", "edge(1)", "Newest message", id="history.last", show=False),
        Binding("o", "open_link", "Open the message's link", id="message.open"),
        Binding("y", "copy", "Copy the message's link, phone or text", id="message.copy"),
        Binding("s", "save_media", "Save the photo or file to Downloads", id="message.save"),
        Binding("v", "raw", "Show the raw JSON", id="message.raw"),
        Binding("p", "reveal", "Show or hide the phone number", id="message.reveal_phone"),
        Binding("r", "retry", "Send a failed reply again", id="message.retry"),
    ]

    @dataclass
    class ItemAction(Message):
        """The user asked to act on an item: action is open, copy, raw or retry."""

        action: str
        item: Any

    def __init__(self, inbox: Any, options: RenderOptions, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.inbox = inbox
        self.options = options
        self.cid: str | None = None
        self.count = 0
        self.cursor = -1
        self.revealed: set[int] = set()
        # anchor: ("bottom", index) shows `index` as the last item; ("top", index, skip) shows
        # `index` first with its first `skip` lines scrolled away.
        self._anchor: tuple[Any, ...] = ("bottom", -1)
        self._pages: dict[int, list[Any]] = {}
        # Laid-out items by (what the item shows, width, selected, revealed).
        self._lines: dict[tuple[Any, ...], list[Strip]] = {}
        self._lines_since = time.monotonic()
        self._frame: list[Strip] | None = None
        self._frame_items: list[int] = []  # the item of each line shown, top to bottom
        self._line_items: list[int] = []  # the same per screen line, -1 for blank lines

    # --- data ------------------------------------------------------------------------------

    def show(self, cid: str | None) -> None:
        """Switch to a conversation (or none), following its newest message."""
        self.cid = cid
        self.revealed.clear()
        self.reload(follow=True)

    def reload(self, *, follow: bool = False) -> None:
        """Re-read the count and drop cached items (new entries, outbox status changes)."""
        at_end = self.following
        self.count = self.inbox.history_count(self.cid) if self.cid else 0
        self._pages.clear()
        # The items are read again; their lines are kept, keyed by what they show.
        if time.monotonic() - self._lines_since > LINES_KEPT_S:
            self._clear_lines()
        if follow or at_end:
            self.cursor = self.count - 1
            self._anchor = ("bottom", self.count - 1)
        else:
            self.cursor = min(self.cursor, self.count - 1)
        self._invalidate()

    @property
    def following(self) -> bool:
        """True while the newest message is at the bottom (new ones keep it in view)."""
        return self._anchor == ("bottom", self.count - 1)

    def item(self, index: int) -> Any | None:
        if not self.cid or not 0 <= index < self.count:
            return None
        page_no = index // PAGE
        page = self._pages.get(page_no)
        if page is None:
            start = page_no * PAGE
            page = list(self.inbox.history(self.cid, start, min(start + PAGE, self.count)))
            if len(self._pages) >= KEEP_PAGES:
                self._pages.pop(next(iter(self._pages)))
            self._pages[page_no] = page
        offset = index - page_no * PAGE
        return page[offset] if offset < len(page) else None

    @property
    def current(self) -> Any | None:
        """The item under the cursor."""
        return self.item(self.cursor)

    # --- layout ----------------------------------------------------------------------------

    def _invalidate(self) -> None:
        self._frame = None
        self.border_subtitle = f"{self.cursor + 1} / {self.count}" if self.count else ""
        self.refresh()

    def _clear_lines(self) -> None:
        self._lines.clear()
        self._lines_since = time.monotonic()

    def _item_strips(self, index: int, width: int) -> list[Strip]:
        item = self.item(index)
        if item is None:
            return []
        selected = index == self.cursor and self.has_focus
        shows = (self.cid, index, item.seq, item.ref, item.status, item.error, item.caption)
        key = (shows, width, selected, index in self.revealed)
        strips = self._lines.get(key)
        if strips is None:
            texts = item_lines(
                item,
                width=width,
                console=self.app.console,
                options=self.options,
                selected=selected,
                revealed=index in self.revealed,
            )
            marker = Style(bgcolor=self.options.palette.get("boost")) if selected else None
            strips = [self._strip(text, width, marker) for text in texts]
            strips += self._picture_strips(item, width)
            draw_log = self._draw_log
            if draw_log is not None and item.message is not None:
                draw_log.laid_out(item.message.id)
            if len(self._lines) > 512:
                self._clear_lines()
            self._lines[key] = strips
        return strips

    @property
    def _draw_log(self) -> DrawLog | None:
        return getattr(self.app, "draw_log", None)

    def _strip(self, text: Text, width: int, marker: Style | None) -> Strip:
        segments = list(text.render(self.app.console))
        strip = Strip(segments).crop_extend(0, width, marker)
        return strip.apply_style(marker) if marker else strip

    def _layout(self) -> list[Strip]:
        height, width = self.size.height, self.size.width
        if self._frame is not None:
            return self._frame
        frame: list[tuple[int, Strip]] = []
        if self.count and height > 0 and width > 0:
            if self._anchor[0] == "top":
                frame = self._fill_down(self._anchor[1], self._anchor[2], width, height)
                if len(frame) < height:  # the end came early: show the newest at the bottom
                    self._anchor = ("bottom", self.count - 1)
            if self._anchor[0] == "bottom":
                frame = self._fill_up(self._anchor[1], width, height)
        self._frame_items = [index for index, _ in frame]
        blank = Strip([Segment(" " * width)], width)
        # Like every chat, a short history sits on the reply box, not under the header.
        pad = max(height - len(frame), 0)
        self._line_items = [-1] * pad + self._frame_items
        self._frame = [blank] * pad + [strip for _, strip in frame]
        return self._frame

    def _fill_up(self, last: int, width: int, height: int) -> list[tuple[int, Strip]]:
        frame: list[tuple[int, Strip]] = []
        index = min(last, self.count - 1)
        while index >= 0 and len(frame) < height:
            strips = self._item_strips(index, width)
            frame[:0] = [(index, s) for s in strips]
            index -= 1
        return frame[-height:]

    def _fill_down(self, first: int, skip: int, width: int, height: int) -> list[tuple[int, Strip]]:
        frame: list[tuple[int, Strip]] = []
        index = max(first, 0)
        while index < self.count and len(frame) < height + skip:
            frame.extend((index, s) for s in self._item_strips(index, width))
            index += 1
        return frame[skip : skip + height]

    # --- pictures ---------------------------------------------------------------------------

    @property
    def pictures(self) -> PictureStore | None:
        store = getattr(self.app, "pictures", None)
        return store if isinstance(store, PictureStore) else None

    def _picture_strips(self, item: Any, width: int) -> list[Strip]:
        """A photo's drawing under its label when loaded; else start loading it (no lines)."""
        media = media_of(getattr(item, "message", None))
        store = self.pictures
        if media is None or media.kind != "IMAGE" or store is None:
            return []
        picture = store.get(media.link)
        if picture is None:
            if store.should_load(media.link):
                self.run_worker(
                    self._load_picture(store, media.link), group="pictures", exit_on_error=False
                )
            return []
        lines = picture_lines(picture, width, self.app.console)
        return [Strip(line).crop_extend(0, width, None) for line in lines]

    async def _load_picture(self, store: PictureStore, link: str) -> None:
        picture: Picture | None = None
        try:
            content = await store.fetch(link)
            picture = await asyncio.to_thread(store.decode_here, content)  # off the UI loop
        except MediaError:
            pass  # the label stays; `s` and `o` say what went wrong
        finally:
            store.done(link, picture)
        if picture is not None:
            self._clear_lines()
            self._invalidate()

    def render_line(self, y: int) -> Strip:
        frame = self._layout()
        return frame[y] if y < len(frame) else Strip.blank(self.size.width)

    def visible_text(self) -> list[str]:
        """The lines on screen as plain text (for tests and screen readers' sake)."""
        return [strip.text.rstrip() for strip in self._layout()]

    def on_resize(self, event: events.Resize) -> None:
        self._clear_lines()
        self._invalidate()

    def on_focus(self) -> None:
        self._invalidate()

    def on_blur(self) -> None:
        self._invalidate()

    # --- movement --------------------------------------------------------------------------

    def _visible(self) -> list[int]:
        self._layout()
        return self._frame_items

    def action_cursor(self, step: int) -> None:
        if not self.count:
            return
        self.cursor = max(0, min(self.count - 1, self.cursor + step))
        visible = self._visible()
        if not visible or self.cursor < visible[0] or (self.cursor == visible[0] and step < 0):
            self._anchor = ("top", self.cursor, 0)
        elif self.cursor >= visible[-1]:
            self._anchor = ("bottom", self.cursor)
        self._invalidate()
        if self._draw_log is not None:
            self._draw_log.key_handled()

    def scroll_lines(self, lines: int) -> None:
        """Scroll by screen lines (mouse wheel, page keys); the cursor stays where it is."""
        visible = self._visible()
        if not visible:
            return
        width = self.size.width
        top = visible[0]
        # Lines of the top item already scrolled away.
        skip = self._anchor[2] if self._anchor[0] == "top" else 0
        if self._anchor[0] == "bottom":
            before = len(self._item_strips(top, width)) - visible.count(top)
            skip = before
        skip += lines
        while skip < 0 and top > 0:
            top -= 1
            skip += len(self._item_strips(top, width))
        skip = max(skip, 0)
        while top < self.count - 1 and skip >= len(self._item_strips(top, width)):
            skip -= len(self._item_strips(top, width))
            top += 1
        self._anchor = ("top", top, skip)
        self._invalidate()

    def action_page(self, direction: int) -> None:
        self.scroll_lines(direction * max(self.size.height - 2, 1))
        visible = self._visible()
        if visible and not visible[0] <= self.cursor <= visible[-1]:
            self.cursor = visible[-1] if direction > 0 else visible[0]
            self._invalidate()

    def action_edge(self, direction: int) -> None:
        if direction > 0:
            self.cursor = self.count - 1
            self._anchor = ("bottom", self.count - 1)
        else:
            self.cursor = 0 if self.count else -1
            self._anchor = ("top", 0, 0)
        self._invalidate()

    def move_to(self, index: int) -> None:
        """Put the cursor on item `index`, shown at the top of the view."""
        if not self.count:
            return
        self.cursor = max(0, min(index, self.count - 1))
        self._anchor = ("top", self.cursor, 0)
        self._invalidate()

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.scroll_lines(-3)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self.scroll_lines(3)

    def on_click(self, event: events.Click) -> None:
        self._layout()
        if 0 <= event.y < len(self._line_items) and self._line_items[event.y] >= 0:
            self.cursor = self._line_items[event.y]
            self._invalidate()

    # --- acting on the selected item -------------------------------------------------------

    def _act(self, action: str) -> None:
        item = self.current
        if item is not None:
            self.post_message(self.ItemAction(action, item))

    def action_open_link(self) -> None:
        self._act("open")

    def action_copy(self) -> None:
        self._act("copy")

    def action_save_media(self) -> None:
        self._act("save")

    def action_raw(self) -> None:
        self._act("raw")

    def action_retry(self) -> None:
        self._act("retry")

    def action_reveal(self) -> None:
        if self.cursor >= 0:
            self.revealed ^= {self.cursor}
            self._invalidate()
