"""Logging in from the console and keeping tokens alive there: the real sandbox and a real relay.

The "browser" is httpx following the authorize URL: the sandbox approves at once and redirects
to the relay's /oauth/callback, which hands the code to the console that announced the state.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, Static

from kenar_tui.app import KenarApp
from kenar_tui.commands.demo import demo_environment
from kenar_tui.factory import open_console
from kenar_tui.screens.login import LoginScreen
from kenar_tui.widgets.conversation_header import ConversationHeader
from tests.console.test_app_live import CAR, SIZE, relay_live, until

pytestmark = pytest.mark.timeout(90)


class MovableClock:
    """The console's clock, moved by the test instead of waiting."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[Any]:
    """Sandbox (buyers idle) + relay + demo credentials (client secret included)."""
    async with demo_environment(
        seed=5, rate=0.0, data_dir=tmp_path, logger=logging.getLogger("tests.console")
    ) as env:
        yield env


@asynccontextmanager
async def console(
    world: Any, *, clock: MovableClock | None = None
) -> AsyncIterator[tuple[KenarApp, Pilot[Any], list[str]]]:
    """The console as `kenar-tui demo` builds it, live, with every notification recorded."""
    async with (
        open_console(world.settings, world.credentials, clock=clock) as app,
        app.run_test(size=SIZE) as pilot,
    ):
        said: list[str] = []
        notify = app.notify

        def recording(message: str, **options: Any) -> None:
            said.append(message)
            notify(message, **options)

        app.notify = recording  # type: ignore[method-assign]
        await until(pilot, lambda: relay_live(app), "the relay link")
        yield app, pilot, said


async def open_car_conversation(world: Any, app: KenarApp, pilot: Pilot[Any]) -> str:
    opened = await world.sandbox.control.inject_message(post_token=CAR, text="سلام، هنوز هست؟")
    cid: str = opened["conversation_id"]
    await until(pilot, lambda: app.main_screen.cid == cid, "the buyer's conversation to open")
    return cid


def header(app: KenarApp) -> ConversationHeader:
    return app.main_screen.query_one(ConversationHeader)


def status(screen: Any) -> str:
    return str(screen.query_one("#login-status", Static).content)


async def login_screen(app: KenarApp, pilot: Pilot[Any], *, all_posts: bool = False) -> LoginScreen:
    """Alt+K, then Enter in the posts field: the screen shows the authorize URL."""
    await pilot.press("alt+k")
    await until(pilot, lambda: isinstance(app.screen, LoginScreen), "the login screen")
    screen = app.screen
    assert isinstance(screen, LoginScreen)
    if all_posts:
        screen.query_one("#login-all", Checkbox).value = True
    await pilot.press("enter")
    await until(pilot, lambda: screen.flow is not None, "the login address")
    return screen


async def approve(url: str) -> httpx.Response:
    """The seller's browser; until the relay has the state its callback says nobody waits."""
    async with httpx.AsyncClient(follow_redirects=True, timeout=10) as browser:
        for _ in range(50):
            page = await browser.get(url)
            if page.status_code == 200:
                return page
            assert "No console is waiting" in page.text
    raise AssertionError("the relay never took the login")


async def subscribed_again(world: Any, pilot: Pilot[Any], within: float = 20) -> Any:
    """The sandbox's state once a new-message subscription is active again after a refresh."""
    for _ in range(int(within / 0.05)):
        state = await world.sandbox.control.state()
        subs = [s for s in state["subscriptions"] if s["event_type"] == "NEW_MESSAGE_ON_POST"]
        if any(s["ended_because"] for s in subs) and any(s["active"] for s in subs):
            return state
        await pilot.pause(0.05)
    raise AssertionError("timed out waiting for the subscription to be made again")


async def test_login_screen_logs_in_through_the_relay(
    world: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Alt+K logs in for the open conversation's post: stored, subscribed, and we can send."""
    caplog.set_level(logging.DEBUG)
    world.credentials.drop_all_tokens()
    async with console(world) as (app, pilot, said):
        await open_car_conversation(world, app, pilot)
        await until(pilot, lambda: "alt+k: log in" in str(header(app).render()), "read only")
        assert not header(app).can_send
        screen = await login_screen(app, pilot)
        assert screen.query_one("#login-posts", Input).value == CAR
        assert screen.flow is not None
        shown = str(screen.query_one("#login-url", Static).content)
        assert screen.flow.url in shown.replace("\\[", "[")
        page = await approve(screen.flow.url)
        await until(pilot, lambda: screen.outcome is not None, "the login to finish")
        report = status(screen)
        seen = app.export_screenshot()
        await pilot.press("escape")
        await until(pilot, lambda: header(app).can_send, "the header to say we can send")
    assert page.status_code == 200
    assert "Logged in: 6 scope(s)" in report and f"CHAT_POST_CONVERSATIONS_READ.{CAR}" in report
    assert f"Subscribed to new messages on post {CAR}" in report
    [token] = world.credentials.tokens()
    assert set(token.scopes) == {
        f"CHAT_POST_CONVERSATIONS_READ.{CAR}",
        f"CHAT_POST_CONVERSATIONS_MESSAGE_SEND.{CAR}",
        "USER_POSTS_GET",
        "NOTIFICATION_ACCESS_REVOCATION",
        "USER_ID",
        "offline_access",
    }
    state = await world.sandbox.control.state()
    assert token.user_id == state["seller_id"]  # learned from GET /v1/open-platform/users
    assert any(s["event_resource_id"] == CAR and s["active"] for s in state["subscriptions"])
    # No secret on the screen, in a toast or in the logs (which did record the login).
    assert f"logged in: token {token.id}" in caplog.text
    shown = "\n".join([report, seen, *said, caplog.text])
    for secret in (token.access_token, token.refresh_token, world.sandbox.client_secret):
        assert secret and secret not in shown


async def test_a_pasted_address_of_another_login_is_refused(world: Any) -> None:
    """A redirect address with someone else's state is refused; the right one logs in."""
    world.credentials.drop_all_tokens()
    async with console(world) as (app, pilot, _):
        await pilot.press("alt+k")
        await until(pilot, lambda: isinstance(app.screen, LoginScreen), "the login screen")
        await pilot.press("enter")  # no post typed, "all" not ticked
        await until(pilot, lambda: "tick" in status(app.screen), "the request for posts")
        await pilot.press("escape")
        screen = await login_screen(app, pilot, all_posts=True)
        assert screen.flow is not None
        paste = screen.query_one("#login-paste", Input)
        paste.value = f"{world.relay.url}/oauth/callback?code=stolen&state=not-this-login"
        paste.focus()
        await pilot.press("enter")
        await until(pilot, lambda: "different login" in status(screen), "the refusal")
        assert world.credentials.tokens() == []
        # The browser's bar after approving: the sandbox's redirect, not followed.
        async with httpx.AsyncClient(follow_redirects=False, timeout=10) as browser:
            landed = (await browser.get(screen.flow.url)).headers["location"]
        paste.value = landed
        paste.focus()
        await pilot.press("enter")
        await until(pilot, lambda: screen.outcome is not None, "the pasted login to finish")
        report = status(screen)
    assert "Logged in" in report and "Subscribed to new messages on all posts" in report
    assert len(world.credentials.tokens()) == 1


async def test_missing_client_secret_is_named_with_its_fix(world: Any) -> None:
    """Without the client secret the screen says so and how to store it, and cannot start."""
    world.credentials.client_secret = None
    async with console(world) as (app, pilot, _):
        await pilot.press("alt+k")
        await until(pilot, lambda: isinstance(app.screen, LoginScreen), "the login screen")
        problems = str(app.screen.query_one("#login-problems", Static).content)
        assert app.screen.query_one("#login-start").disabled
    assert "kenar-tui auth set client-secret" in problems
    assert app.keeper is None  # nothing to refresh tokens with


async def test_a_revocation_drops_tokens_and_tells_the_user(world: Any) -> None:
    """The seller revokes at Divar: tokens go, a toast and a notice say so, read only."""
    async with console(world) as (app, pilot, said):
        await open_car_conversation(world, app, pilot)
        await until(pilot, lambda: header(app).can_send, "the demo token to allow sending")
        await world.sandbox.control.revoke_access()
        await until(pilot, lambda: world.credentials.tokens() == [], "the tokens to be dropped")
        await until(pilot, lambda: not header(app).can_send, "the header to say read only")
        notices = [n.kind for n in app.inbox.notices()]
        shown = str(header(app).render())
    assert any("withdrew this app's access" in s and "alt+k" in s for s in said)
    assert "access_revocation" in notices
    assert "read only (alt+k: log in)" in shown


async def test_the_keeper_refreshes_and_subscribes_again(world: Any) -> None:
    """A token near its expiry is refreshed in the running console and subscribed again."""
    clock = MovableClock()
    [before] = world.credentials.tokens()
    async with console(world, clock=clock) as (app, pilot, said):
        assert app.keeper is not None
        clock.advance(3000)  # past 80% of the demo token's hour
        await world.sandbox.control.advance_clock(3000)
        app.keeper.wake()
        await until(
            pilot,
            lambda: [t.id for t in world.credentials.tokens()] not in ([], [before.id]),
            "the token to be refreshed",
        )
        state = await subscribed_again(world, pilot)
        await open_car_conversation(world, app, pilot)
        await until(pilot, lambda: header(app).can_send, "sending with the new token")
    [after] = world.credentials.tokens()
    assert after.access_token != before.access_token and after.scopes == before.scopes
    subscriptions = [s for s in state["subscriptions"] if s["event_type"] == "NEW_MESSAGE_ON_POST"]
    assert any(s["ended_because"] == "its token was refreshed" for s in subscriptions)
    assert any(s["active"] for s in subscriptions)
    assert not any("refresh" in s.lower() for s in said)  # nothing went wrong to report
