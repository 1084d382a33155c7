"""Prices on screen (the finder's `data.price`, kenar-docs docs/post/get_post.md): the list,
the conversation header and the post picker show a known post's title with its price, in the
digits the console is set to, never the bare token."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from kenar_tui.commands.demo import demo_environment
from kenar_tui.dialogs.post_picker import PostPickerScreen
from kenar_tui.text import display
from kenar_tui.text.formats import format_price
from tests.console.test_app_live import relay_live, running, until

PHONE = "Qa8LmT2x"  # a post of the sandbox's catalogue, 52,000,000 tomans
PERSIAN_PRICE = "۵۲٬۰۰۰٬۰۰۰ تومان"

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[Any]:
    async with demo_environment(
        seed=5, rate=0.0, data_dir=tmp_path, logger=logging.getLogger("tests.console")
    ) as env:
        yield env


def test_prices_are_grouped_in_the_consoles_digits() -> None:
    assert format_price(52_000_000) == "52,000,000 تومان"
    assert format_price(52_000_000, "persian") == PERSIAN_PRICE
    assert format_price(None, "persian") == "" and format_price(0) == ""


async def test_the_list_header_and_picker_show_title_and_price(world: Any) -> None:
    settings = world.settings.model_copy(update={"digits": "persian"})
    control = world.sandbox.control
    async with running(settings, world.credentials, size=(140, 30)) as (app, pilot):
        await until(pilot, lambda: relay_live(app), "the relay link")
        opened = await control.inject_message(post_token=PHONE, text="سلام گوشی هست هنوز؟")
        cid = opened["conversation_id"]
        await until(
            pilot,
            lambda: (c := app.inbox.conversation(cid)) is not None and c.post_price == 52_000_000,
            "the price from the finder",
        )
        app.main_screen.show_conversation(cid)
        price = display(PERSIAN_PRICE, bidi=app.settings.bidi)
        listing = app.main_screen.conversations
        await until(
            pilot,
            lambda: any(price in line for line in listing.visible_text()),
            f"the list's price {listing.visible_text()[:2]} {listing.size}",
        )
        assert not any(PHONE in line for line in listing.visible_text())
        header = app.main_screen.query_one("ConversationHeader")
        assert price in header.render().plain
        app.main_screen.action_jump_post()
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, PostPickerScreen)
        option = picker.query_one("OptionList").get_option_at_index(0)
        assert PERSIAN_PRICE in str(option.prompt)
