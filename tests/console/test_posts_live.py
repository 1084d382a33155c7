"""Posts by name against the real sandbox and relay: titles from Divar's finder API.

kenar-docs docs/post/get_post.md: a conversation on a post no POST_UPDATE event ever named
shows the post's title (and the catalogue keeps its price, sealed) as soon as it appears.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from kenar_api.client import KenarClient
from kenar_core.cipher import AesGcmSealer
from kenar_core.keyfile import KeyRing
from kenar_tui.commands.demo import demo_environment
from kenar_tui.inbox import Inbox
from kenar_tui.posts import PostCatalogue, format_price
from kenar_tui.sandbox import Sandbox
from kenar_tui.store import Cache
from kenar_tui.text import display
from tests.console.conftest import message_entry
from tests.console.test_app_live import relay_live, running, until

PHONE = "Qa8LmT2x"  # a post of the sandbox's catalogue
PHONE_TITLE = "آیفون ۱۳ پرو ۲۵۶ گیگ در حد نو"

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[Any]:
    async with demo_environment(
        seed=5, rate=0.0, data_dir=tmp_path, logger=logging.getLogger("tests.console")
    ) as env:
        yield env


async def test_get_post_md_a_conversation_on_an_unannounced_post_shows_its_title(
    world: Any,
) -> None:
    control = world.sandbox.control
    assert not [d for d in await control.deliveries() if "POST_UPDATE" in str(d)]
    async with running(world.settings, world.credentials, size=(110, 30)) as (app, pilot):
        await until(pilot, lambda: relay_live(app), "the relay link")
        opened = await control.inject_message(post_token=PHONE, text="سلام گوشی هست هنوز؟")
        cid = opened["conversation_id"]
        await until(
            pilot,
            lambda: (c := app.inbox.conversation(cid)) is not None and c.post_title == PHONE_TITLE,
            "the title from the finder",
        )
        app.main_screen.show_conversation(cid)
        shown = display(PHONE_TITLE, bidi=app.settings.bidi)
        listing = app.main_screen.conversations
        await until(
            pilot,
            # The title's start (the right end once drawn), clipped to the list's width.
            lambda: any(shown[-12:] in line for line in listing.visible_text()),
            "the title in the list",
        )
        assert not any(PHONE in line for line in listing.visible_text())  # never the bare token
        assert app.posts is not None and app.posts.price(PHONE) == 52_000_000
    state = await control.state()
    assert state["finder_reads"] == 1  # asked once, then cached


async def test_the_catalogue_seals_titles_and_prices_and_refreshes_on_post_update(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async with KenarClient(
        sandbox.api_key, api_base=sandbox.base_url, oauth_base=sandbox.base_url
    ) as kenar:
        path = tmp_path / "cache.sqlite3"
        with Cache(path, sealer=AesGcmSealer(KeyRing.generate())) as cache:
            inbox = Inbox(cache, operator="سارا")
            posts = PostCatalogue(cache, kenar)
            posts.start()
            try:
                change = inbox.apply(1, message_entry("c-1", PHONE, minutes_ago=1, text="سلام"))
                posts.saw(change)
                async with asyncio.timeout(10):
                    await posts.settled()
                assert inbox.conversation("c-1").post_title == PHONE_TITLE  # type: ignore[union-attr]
                assert format_price(posts.price(PHONE)) == "52,000,000 تومان"
                assert not posts.want(PHONE)  # known: not asked again
                assert posts.want(PHONE, refresh=True)  # a POST_UPDATE asks again
                async with asyncio.timeout(10):
                    await posts.settled()
            finally:
                await posts.aclose()
        raw = path.read_bytes()
        assert PHONE_TITLE.encode() not in raw and b"52000000" not in raw
    assert (await sandbox.control.state())["finder_reads"] == 2


async def test_an_unknown_post_is_not_asked_again_at_once(sandbox: Sandbox, tmp_path: Path) -> None:
    async with KenarClient(sandbox.api_key, api_base=sandbox.base_url, retries=0) as kenar:
        with Cache(tmp_path / "cache.sqlite3") as cache:
            posts = PostCatalogue(cache, kenar)
            posts.start()
            try:
                assert posts.want("NoSuchPo")
                async with asyncio.timeout(10):
                    await posts.settled()
                assert not posts.want("NoSuchPo")  # paused after the 404
            finally:
                await posts.aclose()
    assert (await sandbox.control.state())["finder_reads"] == 0


async def test_get_user_posts_md_login_lists_the_sellers_posts_by_title(world: Any) -> None:
    """Alt+K lists the seller's posts (the demo token holds USER_POSTS_GET); ticking two fills
    the posts the login asks for, with no token typed."""
    from textual.widgets import Input

    from kenar_tui.screens.login import LoginScreen
    from kenar_tui.screens.post_choices import UserPostChoices

    async with running(world.settings, world.credentials, size=(110, 40)) as (app, pilot):
        await pilot.press("alt+k")
        await until(pilot, lambda: isinstance(app.screen, LoginScreen), "the login screen")
        screen = app.screen
        choices = screen.query_one("#login-choices", UserPostChoices)
        await until(pilot, lambda: choices.option_count == 5, "the seller's five posts")
        labels = [str(choices.get_option_at_index(i).prompt) for i in range(5)]
        assert any(PHONE in label for label in labels)
        assert any(display(PHONE_TITLE, bidi=app.settings.bidi) in label for label in labels)
        choices.select(PHONE)
        choices.select("gZd7omnS")
        await pilot.pause()
        assert screen.query_one("#login-posts", Input).value.split() == [PHONE, "gZd7omnS"]


async def test_a_buyers_photo_opens_and_saves_private(
    world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The buyer's photo (downloadable from the sandbox, like Divar's CDN link): `o` hands the
    link to the browser, `s` saves it to the download folder with mode 0600."""
    import stat
    import webbrowser

    downloads = tmp_path / "Downloads"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-user-dirs"))
    monkeypatch.setenv("XDG_DOWNLOAD_DIR", str(downloads))
    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", lambda url, *a, **k: opened.append(url) or True)
    control = world.sandbox.control
    async with running(world.settings, world.credentials, size=(110, 30)) as (app, pilot):
        await until(pilot, lambda: relay_live(app), "the relay link")
        first = await control.inject_message(post_token=PHONE, text="عکس خط رو ببینید")
        cid = first["conversation_id"]
        photo = await control.inject_message(cid, type="IMAGE")
        link = photo["message"]["image_data"]["link"]
        await until(pilot, lambda: app.inbox.history_count(cid) >= 2, "the photo")
        app.main_screen.show_conversation(cid)
        await pilot.pause()
        app.main_screen.history.focus()
        await pilot.press("end")
        await pilot.press("o")
        await until(pilot, lambda: opened == [link], "the browser to get the photo's link")
        await pilot.press("s")
        await until(pilot, lambda: downloads.exists() and any(downloads.iterdir()), "the save")
    (saved,) = list(downloads.iterdir())
    assert saved.name == "photo.png"
    assert saved.read_bytes().startswith(b"\x89PNG")
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600


async def test_upload_media_md_f7_sends_a_photo_once_and_refuses_a_big_one(
    world: Any, tmp_path: Path
) -> None:
    """From the reply box: F7, a path; a file over the limit is refused in a sentence before
    any upload; a photo goes up once and reaches the buyer once; the draft stays."""
    from textual.widgets import Input, Static

    from kenar_tui.sandbox.pictures import picture
    from kenar_tui.screens.file_picker import FilePickerScreen

    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff\xd8\xff" + bytes(6 * 1024 * 1024))
    photo = tmp_path / "dent.png"
    photo.write_bytes(picture("dent"))
    control = world.sandbox.control
    async with running(world.settings, world.credentials, size=(110, 30)) as (app, pilot):
        await until(pilot, lambda: relay_live(app), "the relay link")
        cid = (await control.inject_message(post_token=PHONE, text="عکسشو دارید؟"))[
            "conversation_id"
        ]
        await until(pilot, lambda: app.inbox.conversation(cid) is not None, "the conversation")
        app.main_screen.show_conversation(cid)
        app.main_screen.composer.focus()
        app.main_screen.composer.insert("الان میفرستم")
        await pilot.press("f7")
        await until(pilot, lambda: isinstance(app.screen, FilePickerScreen), "the picker")
        path_box = app.screen.query_one("#picker-path", Input)
        path_box.value = str(big)
        await pilot.press("enter")
        problem = app.screen.query_one("#picker-problem", Static)
        await until(pilot, lambda: "at most 5 MB" in str(problem.render()), "the refusal")
        assert (await control.state())["uploads"] == 0
        path_box.value = f"'{photo}'"  # pasted with quotes, as terminals do
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, FilePickerScreen), "the send")
        await until(
            pilot,
            lambda: any(
                i.text == "[photo] dent.png" and i.status == "sent"
                for i in app.inbox.history(cid, 0, 10)
            ),
            "the photo sent",
        )
        assert app.main_screen.composer.text == "الان میفرستم"  # the draft is kept
    state = await control.state()
    assert state["uploads"] == 1
    sends = [s for s in await control.sent() if s["conversation_id"] == cid]
    assert len(sends) == 1 and sends[0]["body"]["media_token"]
