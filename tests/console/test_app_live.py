"""The console against the real sandbox and a real relay on loopback (the demo's wiring)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from kenar_tui.app import KenarApp
from kenar_tui.commands.demo import demo_environment
from kenar_tui.factory import open_console
from kenar_tui.text import display
from relay.server import RelayServer

SIZE = (100, 30)
CAR = "gZd7omnS"  # a post of the sandbox's catalogue
FLAT = "wYk3pQ9r"

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[Any]:
    """Sandbox (buyers idle) + relay + demo credentials, data under tmp_path."""
    async with demo_environment(
        seed=3, rate=0.0, data_dir=tmp_path, logger=logging.getLogger("tests.console")
    ) as env:
        yield env


@asynccontextmanager
async def running(
    settings: Any, credentials: Any, *, size: tuple[int, int] = SIZE
) -> AsyncIterator[tuple[KenarApp, Pilot[Any]]]:
    """The console as `kenar-tui` builds it, under Pilot."""
    async with open_console(settings, credentials) as app, app.run_test(size=size) as pilot:
        yield app, pilot


async def until(
    pilot: Pilot[Any], condition: Callable[[], bool], what: str, within: float = 20
) -> None:
    """Let the app run until `condition()` holds; fail with `what` after `within` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


def record_notifications(app: KenarApp) -> list[tuple[str, str]]:
    """Every (title, preview) the app announces as a new message, however short-lived the toast."""
    seen: list[tuple[str, str]] = []
    announce = app.notify_new_message

    def recording(title: str, preview: str) -> None:
        seen.append((title, preview))
        announce(title, preview)

    app.notify_new_message = recording  # type: ignore[method-assign]
    return seen


def history_text(app: KenarApp) -> str:
    return "\n".join(app.main_screen.history.visible_text())


def relay_live(app: KenarApp) -> bool:
    return app.main_screen.status.relay == "relay: live"


async def test_each_message_type_arrives_and_reads(world: Any) -> None:
    """Every message type a buyer sends through Divar → relay → console gets its readable line."""
    control = world.sandbox.control
    settings = world.settings.model_copy(update={"bidi": False})
    async with running(settings, world.credentials, size=(120, 50)) as (app, pilot):
        await until(pilot, lambda: relay_live(app), "the relay link")
        opened = await control.inject_message(post_token=CAR, text="سلام، هنوز موجوده؟")
        cid = opened["conversation_id"]
        payloads = {
            "IMAGE": {"image_data": {"link": "https://example.com/a.jpg", "size_bytes": 2048}},
            "FILE": {
                "file_data": {
                    "link": "https://example.com/b.pdf",
                    "name": "سند.pdf",
                    "size_bytes": 4096,
                }
            },
            "VOICE": {"voice_data": {"link": "https://example.com/c.ogg", "size_bytes": 1024}},
            "VIDEO": {"video_data": {"link": "https://example.com/d.mp4", "size_bytes": 8192}},
            "LOCATION": {"location_data": {"latitude": 35.7, "longitude": 51.4}},
            "CONTACT": {"contact_data": {"name": "علی", "phone": "09121234567"}},
        }
        for kind, data in payloads.items():
            await control.inject_message(cid, type=kind, data=data)
        await until(pilot, lambda: app.inbox.history_count(cid) >= 7, "seven messages")
        app.main_screen.show_conversation(cid)
        await pilot.pause()
        text = history_text(app)
    assert "[image]" in text and "2.0 KB" in text
    assert "[file] سند.pdf · 4.0 KB" in text
    assert "[voice]" in text and "[video] 8.0 KB" in text
    assert "[location] 35.70000, 51.40000" in text
    assert "[contact] 0912•••4567 · علی" in text


async def test_live_message_bumps_unread_and_notifies(world: Any) -> None:
    """A new buyer message raises its conversation's unread count and shows a toast."""
    control = world.sandbox.control
    async with running(world.settings, world.credentials, size=SIZE) as (app, pilot):
        toasts = record_notifications(app)
        await until(pilot, lambda: relay_live(app), "the relay link")
        first = (await control.inject_message(post_token=CAR, text="اول"))["conversation_id"]
        await until(pilot, lambda: app.main_screen.cid == first, "the first conversation to show")
        await pilot.press("enter")  # opened (showing it is not reading it): read from now on
        await until(pilot, lambda: app.focused is app.main_screen.composer, "the reply box")
        await until(pilot, lambda: app.inbox.conversation(first).unread == 0, "first read")
        second = (await control.inject_message(post_token=FLAT, text="بازدید امروز؟"))[
            "conversation_id"
        ]
        await control.inject_message(second, text="ساعت ۶ خوبه؟")
        await control.inject_message(first, text="هستید؟")
        await until(
            pilot,
            lambda: (c := app.inbox.conversation(second)) is not None and c.unread == 2,
            "two unread messages",
        )
        listing = app.main_screen.conversations
        await until(
            pilot, lambda: any("2 new" in line for line in listing.visible_text()), "the count"
        )
        # The open conversation is read as its messages arrive; the other waits with 2 new.
        await until(pilot, lambda: app.inbox.history_count(first) == 2, "the open one's reply")
        await until(pilot, lambda: app.inbox.conversation(first).unread == 0, "it read")
        assert app.main_screen.cid == first
    # A toast per burst: the first message is shown, those right after are counted into it.
    texts = ("اول", "بازدید امروز؟", "ساعت ۶ خوبه؟", "هستید؟")
    shown = {display(t, bidi=True) for t in texts}
    assert toasts and all(preview in shown for _, preview in toasts)


async def test_reply_is_recorded_exactly_and_shows_sent(world: Any) -> None:
    """Enter sends the reply: it shows at once, turns "sent", and the sandbox has the exact body."""
    control = world.sandbox.control
    reply = "سلام، بله موجوده. فردا ساعت ۵ تشریف بیارید."
    async with running(world.settings, world.credentials, size=SIZE) as (app, pilot):
        await until(pilot, lambda: relay_live(app), "the relay link")
        cid = (await control.inject_message(post_token=CAR, text="موجوده؟"))["conversation_id"]
        await until(pilot, lambda: app.main_screen.cid == cid, "the conversation")
        await pilot.press("ctrl+r")
        app.main_screen.composer.insert(reply)
        await pilot.press("enter")
        await until(
            pilot,
            lambda: "sending" in history_text(app) or "sent ✓" in history_text(app),
            "the reply shown",
        )
        await until(pilot, lambda: "sent ✓" in history_text(app), "the reply marked sent")
        assert app.main_screen.composer.text == ""
        sent = await control.sent()
        await until(
            pilot, lambda: app.inbox.conversation(cid).answered, "the conversation answered"
        )
    assert [(s["conversation_id"], s["body"]) for s in sent] == [
        (cid, {"type": "TEXT", "message": reply})
    ]


async def test_failed_send_says_why(world: Any) -> None:
    """A buyer who restricts messages: the reply turns "failed" with the reason in words."""
    control = world.sandbox.control
    async with running(world.settings, world.credentials, size=SIZE) as (app, pilot):
        await until(pilot, lambda: relay_live(app), "the relay link")
        opened = await control.open_conversation(CAR, restricted=True)
        cid = opened["conversation_id"] if "conversation_id" in opened else opened["id"]
        await control.inject_message(cid, text="سلام")
        await until(pilot, lambda: app.inbox.conversation(cid) is not None, "the conversation")
        app.main_screen.show_conversation(cid)
        await pilot.press("ctrl+r")
        app.main_screen.composer.insert("بله")
        await pilot.press("enter")
        await until(pilot, lambda: "failed" in history_text(app), "the failure")
        text = history_text(app)
        status = app.main_screen.status.outbox
    assert "the buyer restricts messages" in text
    assert "1 failed" in status
    assert await control.sent() == []


async def test_outbox_survives_a_restart(world: Any) -> None:
    """A reply stuck behind Kenar's rate limit is kept; a new console on the same data sends it.

    (A 429 says Kenar did nothing, so it is retried; a 5xx may come after delivery and is
    "unknown" instead, never retried by itself: tests/console/test_outbox_unknown.py.)"""
    control = world.sandbox.control
    await control.set_faults(rate_limit_rate=1.0)
    async with running(world.settings, world.credentials, size=SIZE) as (app, pilot):
        await until(pilot, lambda: relay_live(app), "the relay link")
        cid = (await control.inject_message(post_token=CAR, text="هست؟"))["conversation_id"]
        await until(pilot, lambda: app.main_screen.cid == cid, "the conversation")
        await pilot.press("ctrl+r")
        app.main_screen.composer.insert("بله هست")
        await pilot.press("enter")
        await until(pilot, lambda: "retrying" in history_text(app), "the retry state", within=30)
    assert await control.sent() == []
    await control.reset_faults()
    async with running(world.settings, world.credentials, size=SIZE) as (app, pilot):
        app.main_screen.show_conversation(cid)
        await until(pilot, lambda: "sent ✓" in history_text(app), "the resumed send", within=60)
    sent = await control.sent()
    assert [s["body"]["message"] for s in sent] == ["بله هست"]


async def test_reconnects_after_the_relay_restarts(world: Any) -> None:
    """The relay goes away: the status says so; it comes back: entries flow again."""
    control = world.sandbox.control
    relay = world.relay
    async with running(world.settings, world.credentials, size=SIZE) as (app, pilot):
        await until(pilot, lambda: relay_live(app), "the relay link")
        await relay.aclose()
        await until(pilot, lambda: not relay_live(app), "the offline state")
        assert "relay" in app.main_screen.status.relay
        config = relay.config.model_copy(update={"port": relay.port})
        async with RelayServer(config, logger=logging.getLogger("tests.relay2")) as again:
            await until(pilot, lambda: relay_live(app), "the reconnection", within=45)
            cid = (await control.inject_message(post_token=CAR, text="دوباره سلام"))[
                "conversation_id"
            ]
            await until(pilot, lambda: app.inbox.conversation(cid) is not None, "the new entry")
            assert again.port == relay.port


async def test_button_press_and_revocation_show_where_they_belong(world: Any) -> None:
    """A pressed server-link button reads "buyer pressed «caption»" in its conversation; a
    revocation is announced and listed under Alt+N."""
    from kenar_api.bodies import SendMessageBody
    from kenar_api.buttons import parse_grid
    from kenar_tui.dialogs.notices import NoticesScreen

    control = world.sandbox.control
    data = {"action": "book-inspection", "slot": "2026-11-26T10:00"}
    grid = parse_grid(
        {
            "rows": [
                {
                    "buttons": [
                        {
                            "action": {"open_server_link": {"data": data}},
                            "icon": "CAR_INSPECTION",
                            "caption": "رزرو بازدید",
                        }
                    ]
                }
            ]
        }
    )
    settings = world.settings.model_copy(update={"bidi": False})
    async with running(settings, world.credentials) as (app, pilot):
        await until(pilot, lambda: relay_live(app), "the relay link")
        cid = (await control.inject_message(post_token=CAR, text="بازدید؟"))["conversation_id"]
        await until(pilot, lambda: app.main_screen.cid == cid, "the conversation")
        body = SendMessageBody(message="بفرمایید", receiver_buttons=grid)
        ref = await app.outbox.submit(cid, CAR, "POST", body)
        await app.outbox.wait(ref)
        await control.press_button(cid, data)
        await until(pilot, lambda: "buyer pressed «رزرو بازدید»" in history_text(app), "the press")
        await control.revoke_access()
        await until(pilot, lambda: len(app.inbox.notices()) > 0, "the revocation notice")
        await pilot.press("alt+n")
        assert isinstance(app.screen, NoticesScreen)
        assert any("revoked" in n.text for n in app.screen.notices)
        assert any("revoked" in str(n.message) for n in app._notifications)
