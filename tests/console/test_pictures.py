"""A buyer's photo drawn in the history: fetched from the configured host only, decoded in a
worker thread, at a bounded size, held in a bounded cache."""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image as PILImage

from kenar_core.errors import MediaError
from kenar_tui.commands.demo import demo_environment
from kenar_tui.media.pictures import (
    KEEP_PIXELS,
    MAX_CACHED,
    MAX_HEIGHT_CELLS,
    MAX_LOADING,
    Picture,
    PictureStore,
    decode,
)
from tests.console.test_app_live import relay_live, running, until

PHONE = "Qa8LmT2x"  # a post of the sandbox's catalogue

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[Any]:
    async with demo_environment(
        seed=5, rate=0.0, data_dir=tmp_path, logger=logging.getLogger("tests.console")
    ) as env:
        yield env


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (width, height), (20, 20, 20)).save(out, format="PNG")
    return out.getvalue()


async def test_a_buyers_photo_is_drawn_in_the_history_after_a_worker_decodes_it(
    world: Any,
) -> None:
    """The sandbox buyer's photo (served on the sandbox's own host): its message grows a
    drawing under the label, at most MAX_HEIGHT_CELLS lines, decoded off the UI thread."""
    control = world.sandbox.control
    async with running(world.settings, world.credentials, size=(110, 40)) as (app, pilot):
        await until(pilot, lambda: relay_live(app), "the relay link")
        first = await control.inject_message(post_token=PHONE, text="عکس خط رو ببینید")
        cid = first["conversation_id"]
        photo = await control.inject_message(cid, type="IMAGE")
        link = photo["message"]["image_data"]["link"]
        await until(pilot, lambda: app.inbox.history_count(cid) >= 2, "the photo")
        app.main_screen.show_conversation(cid)
        history = app.main_screen.history
        await until(pilot, lambda: app.pictures.get(link) is not None, "the photo to load")
        await pilot.pause()
        drawn = history.visible_text()
        item_lines = len(history._item_strips(history.count - 1, history.size.width))
    picture = app.pictures.get(link)
    assert picture is not None
    assert picture.decoded_on != threading.main_thread().name  # a worker thread, not the UI's
    label = next(n for n, line in enumerate(drawn) if "[image]" in line)
    below = drawn[label + 1 :]
    assert set(below[0].strip()) <= set("█▓▒░▀")  # the drawing starts right under the label
    assert any(set(line) & set("█▓▒░▀") for line in below)
    # The photo's item: a blank line, its sender, its label and at most MAX_HEIGHT_CELLS more.
    assert 4 <= item_lines <= 3 + MAX_HEIGHT_CELLS


def test_only_the_configured_hosts_are_fetched() -> None:
    """The API's and the upload host's origins are allowed; any other host, scheme or port is
    not, and nothing is marked loading for it."""
    store = PictureStore(["http://127.0.0.1:8765", "https://chat.divar.ir"])
    assert store.should_load("http://127.0.0.1:8765/media/abc")
    assert store.should_load("https://chat.divar.ir/x.png")
    for link in (
        "https://evil.example/x.png",
        "http://127.0.0.1:9999/media/abc",
        "https://127.0.0.1:8765/media/abc",
        "file:///etc/passwd",
        "http://chat.divar.ir/x.png",
    ):
        assert not store.should_load(link), link


def test_loading_and_the_cache_are_bounded() -> None:
    """At most MAX_LOADING load at once; the cache keeps MAX_CACHED, dropping the oldest;
    a failed picture is not asked for again."""
    store = PictureStore(["http://127.0.0.1:8765"])
    links = [f"http://127.0.0.1:8765/media/{n}" for n in range(MAX_CACHED + 1)]
    started = [link for link in links[: MAX_LOADING + 1] if store.should_load(link)]
    assert started == links[:MAX_LOADING]
    image = PILImage.new("RGB", (4, 4))
    for link in links:
        store.should_load(link)
        store.done(link, Picture(image, "worker"))
    assert store.get(links[0]) is None and store.get(links[-1]) is not None
    assert store.should_load(links[0])  # dropped from the cache: loads again when drawn
    store.done(links[0], None)
    assert not store.should_load(links[0])


def test_decoding_shrinks_big_pictures_and_refuses_what_is_not_one() -> None:
    """A large picture is kept at most KEEP_PIXELS; bytes that are no picture are a MediaError."""
    picture = decode(_png(4000, 3000))
    assert picture.width <= KEEP_PIXELS[0] and picture.height <= KEEP_PIXELS[1]
    with pytest.raises(MediaError, match="could not be read"):
        decode(b"%PDF-1.4 not a picture")
