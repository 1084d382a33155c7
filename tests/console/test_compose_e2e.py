"""A composed reply with buttons goes out through the real console to the sandbox and back.

The sandbox stands in for Divar, a relay with a start-URL template receives its webhooks and
button presses, and the console (make_app via open_console) sends through its outbox.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from kenar_tui.app import KenarApp
from kenar_tui.commands.demo import demo_environment
from kenar_tui.dialogs.button_editor import ButtonEditorScreen
from kenar_tui.dialogs.icon_picker import IconPickerScreen
from kenar_tui.factory import open_console
from kenar_tui.screens.compose import ButtonComposerScreen
from tests.fixtures.relay import RelayFactory

pytestmark = pytest.mark.timeout(90)

CAR = "gZd7omnS"  # a post of the sandbox's catalogue
SIZE = (100, 32)


@dataclass
class World:
    settings: Any
    credentials: Any
    control: Any


@pytest.fixture
async def world(tmp_path: Path, relay_factory: RelayFactory) -> AsyncIterator[World]:
    """The demo's sandbox and credentials, wired to a relay that has a start-URL template."""
    async with demo_environment(
        seed=3, rate=0.0, data_dir=tmp_path / "demo", logger=logging.getLogger("tests.compose")
    ) as env:
        # The console says hello as the demo's operator: the relay's token must be bound to it.
        relay = await relay_factory(
            identification_key=env.sandbox.identification_key,
            client_token_name=env.settings.operator,
        )
        await env.sandbox.control.configure(
            events_url=f"{relay.url}/events", start_url=f"{relay.url}/server-link"
        )
        env.credentials.relay_token = relay.token
        settings = env.settings.model_copy(update={"relay_url": relay.ws_url, "bidi": False})
        yield World(settings, env.credentials, env.sandbox.control)


async def until(pilot: Pilot[Any], condition: Callable[[], bool], what: str) -> None:
    """Let the app run until `condition()` holds; fail naming `what` after 20 seconds."""
    deadline = asyncio.get_running_loop().time() + 20
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


async def _type(pilot: Pilot[Any], text: str) -> None:
    await pilot.press(*text)


async def _button(pilot: Pilot[Any], caption: str, icon: str, url: str = "", **data: str) -> None:
    """In a focused grid: add a button, pick its icon by typing, give it a link or data."""
    await pilot.press("a")
    assert isinstance(pilot.app.screen, ButtonEditorScreen)
    pilot.app.screen.query_one("#caption", Input).value = caption
    await pilot.press("ctrl+o")
    assert isinstance(pilot.app.screen, IconPickerScreen)
    await _type(pilot, icon)
    await pilot.press("enter")
    if url:
        pilot.app.screen.query_one("#url", Input).focus()
        await _type(pilot, url)
    for key, value in data.items():
        await pilot.press("ctrl+n")
        await pilot.pause()
        await _type(pilot, key)
        await pilot.press("tab")
        await _type(pilot, value)
    await pilot.press("ctrl+s")
    assert isinstance(pilot.app.screen, ButtonComposerScreen)


async def test_composed_reply_reaches_the_sandbox_and_a_press_comes_back(world: World) -> None:
    """Both grids are recorded by the sandbox byte for byte; a press returns through the relay."""
    control = world.control
    async with open_console(world.settings, world.credentials) as app:
        assert isinstance(app, KenarApp)
        async with app.run_test(size=SIZE) as pilot:
            await until(
                pilot, lambda: app.main_screen.status.relay == "relay: live", "the relay link"
            )
            opened = await control.inject_message(post_token=CAR, text="سلام، هنوز موجوده؟")
            cid = opened["conversation_id"]
            await until(pilot, lambda: app.inbox.conversation(cid) is not None, "the conversation")

            app.main_screen.show_conversation(cid)
            app.main_screen.composer.focus()
            app.main_screen.composer.load_text("بله، موجود است.")
            await pilot.press("f2")  # the reply box opens the button composer on its text
            await until(pilot, lambda: isinstance(app.screen, ButtonComposerScreen), "the composer")
            await pilot.press("tab")  # the seller's grid
            await _button(pilot, "آگهی من", "link", url=f"https://divar.ir/v/{CAR}")
            await pilot.press("tab")  # the buyer's grid
            await _button(pilot, "رزرو بازدید", "calendar", slot="sat-10")
            await pilot.press("ctrl+s")  # send: the body goes to the outbox
            await until(pilot, lambda: not isinstance(app.screen, ButtonComposerScreen), "send")
            assert app.main_screen.composer.text == "", "the reply box is cleared once sent"

            loop = asyncio.get_running_loop()
            deadline = loop.time() + 20
            while not (sent := await control.sent()):
                assert loop.time() < deadline, "the sandbox recorded no send"
                await pilot.pause(0.05)
            assert sent[0]["conversation_id"] == cid
            assert sent[0]["body"] == {
                "type": "TEXT",
                "message": "بله، موجود است.",
                "sender_buttons": {
                    "rows": [
                        {
                            "buttons": [
                                {
                                    "action": {"open_direct_link": f"https://divar.ir/v/{CAR}"},
                                    "icon": "LINK",
                                    "caption": "آگهی من",
                                }
                            ]
                        }
                    ]
                },
                "receiver_buttons": {
                    "rows": [
                        {
                            "buttons": [
                                {
                                    "action": {"open_server_link": {"data": {"slot": "sat-10"}}},
                                    "icon": "CALENDAR_TEXT",
                                    "caption": "رزرو بازدید",
                                }
                            ]
                        }
                    ]
                },
            }

            pressed = await control.press_button(cid, {"slot": "sat-10"})
            assert pressed["url"] == (
                f"https://seller.example/book?post={CAR}&conv={cid}&slot=sat-10"
            )
            app.main_screen.show_conversation(cid)
            await until(
                pilot,
                lambda: any(
                    "buyer pressed «رزرو بازدید»" in line
                    for line in app.main_screen.history.visible_text()
                ),
                "the press in the conversation",
            )
