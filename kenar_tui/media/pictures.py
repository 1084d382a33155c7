"""Buyers' photos drawn inline in the history, at a bounded size, decoded off the UI loop.

The drawing is textual-image's: the kitty graphics protocol (unicode placeholders, so the
picture scrolls with the text) where the terminal offers it, else colored half blocks.
Sixel terminals (and iTerm2, which speaks Sixel) also get the half blocks here, because a
Sixel picture cannot sit inside the history's lines; `s` saves the full picture and `o`
opens it. With no terminal at all (tests, pipes) textual-image's unicode renderer is used.

Only pictures on the configured Divar (or sandbox) hosts are fetched: the API's and the
upload host's origins. Any other link shows the label alone. A picture is fetched once,
with a bounded body (Divar's image limit), decoded and shrunk in a thread, and kept in a
bounded LRU cache (MAX_CACHED; the oldest is dropped when full). At most MAX_LOADING
pictures load at once; a picture asked for while that many are loading is asked for again
the next time its message is drawn. A picture that failed is not asked for again.
"""

from __future__ import annotations

import io
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from PIL import Image as PILImage
from rich.console import Console
from rich.segment import Segment
from textual_image.renderable import Image as TerminalPicture
from textual_image.renderable.halfcell import Image as HalfcellPicture
from textual_image.renderable.sixel import Image as SixelPicture

from kenar_api.media import RULES, MediaKind
from kenar_core.errors import MediaError
from kenar_tui.media.download import read_bounded

MAX_WIDTH_CELLS = 32
MAX_HEIGHT_CELLS = 10
MAX_CACHED = 32
MAX_LOADING = 4
MAX_BYTES = RULES[MediaKind.IMAGE].limit + 64 * 1024
MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding
TIMEOUT_S = 15.0
# Kept pixels: enough for the largest drawing (kitty draws at the cell's pixel size).
KEEP_PIXELS = (MAX_WIDTH_CELLS * 20, MAX_HEIGHT_CELLS * 40)

# Sixel output cannot live inside a line-based widget: half blocks there instead.
RENDERER: type = HalfcellPicture if TerminalPicture is SixelPicture else TerminalPicture


def _ask_cell_size_once() -> None:
    """Ask the terminal for its cell size now, before Textual owns the tty (textual-image asks
    when its widget module is first imported, and keeps the answer).

    A terminal whose window size nobody set reports 0 rows and 0 columns (`ssh -tt` from a
    script, a pty a program opened without sizing it); textual-image 0.12 then divides by the
    0 columns, and the console died at start with a ZeroDivisionError traceback. There the cell
    size is taken as textual-image's own fallback (VT340: 10x20 pixels) and the import is
    tried again: pictures are drawn at that size, everything else is unchanged.
    """
    try:
        from textual_image.widget import get_cell_size
    except ZeroDivisionError:
        from textual_image import _terminal

        _terminal.get_cell_size._result = _terminal.CellSize(10, 20)  # type: ignore[attr-defined]
        from textual_image.widget import get_cell_size
    get_cell_size()


_ask_cell_size_once()


def origin(url: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = 443 if parts.scheme == "https" else 80
    return (parts.scheme, parts.hostname.lower(), port or default)


def decode(content: bytes) -> PILImage.Image:
    """The picture, shrunk to what the history can draw; MediaError when it is none."""
    try:
        with PILImage.open(io.BytesIO(content)) as opened:
            if opened.width * opened.height > MAX_PIXELS:
                raise MediaError("the picture is too large to draw")
            opened.draft("RGB", KEEP_PIXELS)  # JPEG decodes at a reduced size
            picture = opened.convert("RGB")
    except (OSError, ValueError, PILImage.DecompressionBombError):
        raise MediaError("the picture could not be read") from None
    picture.thumbnail(KEEP_PIXELS)
    return picture


@dataclass
class Picture:
    image: PILImage.Image
    decoded_on: str  # the thread that decoded it (never the UI loop's)


class PictureStore:
    """Fetches and decodes pictures for the history; holds the decoded ones (bounded)."""

    def __init__(self, allowed: Iterable[str]) -> None:
        self.origins = {o for o in (origin(url) for url in allowed) if o is not None}
        self._cache: OrderedDict[str, Picture] = OrderedDict()
        self._loading: set[str] = set()
        self._failed: set[str] = set()

    def allowed(self, link: str) -> bool:
        return origin(link) in self.origins

    def get(self, link: str) -> Picture | None:
        picture = self._cache.get(link)
        if picture is not None:
            self._cache.move_to_end(link)
        return picture

    def should_load(self, link: str) -> bool:
        """True when the caller should start loading `link` now (and it is marked loading)."""
        if link in self._cache or link in self._loading or link in self._failed:
            return False
        if not self.allowed(link) or len(self._loading) >= MAX_LOADING:
            return False
        self._loading.add(link)
        return True

    async def fetch(self, link: str) -> bytes:
        """The picture's bytes from the configured host, at most MAX_BYTES; redirects refused."""
        async with httpx.AsyncClient(follow_redirects=False, timeout=TIMEOUT_S) as http:
            content, _ = await read_bounded(http, link, limit=MAX_BYTES, what="picture")
        return content

    def decode_here(self, content: bytes) -> Picture:
        """Decode on the calling thread (a worker's); never call it on the UI loop."""
        return Picture(decode(content), threading.current_thread().name)

    def done(self, link: str, picture: Picture | None) -> None:
        self._loading.discard(link)
        if picture is None:
            self._failed.add(link)
            if len(self._failed) > 4 * MAX_CACHED:
                self._failed.clear()  # bounded: forgotten failures are asked for again
            return
        self._cache[link] = picture
        while len(self._cache) > MAX_CACHED:
            self._cache.popitem(last=False)


def picture_lines(picture: Picture, width: int, console: Console) -> list[list[Segment]]:
    """The picture drawn in at most MAX_WIDTH_CELLS × MAX_HEIGHT_CELLS cells (and `width`)."""
    columns = max(1, min(MAX_WIDTH_CELLS, width - 2))
    drawing = RENDERER(picture.image, "auto", "auto")
    options = console.options.update(width=columns, height=MAX_HEIGHT_CELLS)
    with warnings.catch_warnings():
        # textual-image 0.12 reads pixels with Pillow's getdata (deprecated in Pillow 12).
        warnings.filterwarnings("ignore", "Image.Image.getdata", DeprecationWarning)
        lines = console.render_lines(drawing, options, pad=False, new_lines=False)
    return [[Segment("  "), *line] for line in lines[:MAX_HEIGHT_CELLS]]
