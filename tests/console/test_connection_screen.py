"""The connection screen (Ctrl+P → Connection, and the welcome screen's button) against a real
relay on loopback: Test names the cause, Save keeps the config's comments and writes it 0600,
the token goes to the keyring, and the console comes back connected with the new settings."""

from __future__ import annotations

import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from kenar_tui.app import KenarApp
from kenar_tui.config import Settings
from kenar_tui.credentials import CredentialStore
from kenar_tui.factory import make_app, open_console
from kenar_tui.link.probe import probe_relay
from kenar_tui.screens.connection import ConnectionScreen
from tests.console.test_app_live import relay_live, until
from tests.fixtures.memory_keyring import MemoryKeyring
from tests.fixtures.relay import RelayFactory, RunningRelay
from tests.relay.test_tls import make_certificate

pytestmark = pytest.mark.timeout(90)

WRONG_TOKEN = "kr_wrong_" + "x" * 24
COMMENTED = """\
# My console. These comments must survive the connection screen.
operator = "console"  # the relay token's name
relay_url = "{url}"  # where the team's relay lives

[keymap]
# F2 for help: my terminal eats F1
"app.help" = "f2"
"""


@pytest.fixture(autouse=True)
def empty_keyring() -> None:
    """The test keyring keeps one dict per process: each test starts with nothing stored."""
    MemoryKeyring.store.clear()


def config_for(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "config" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(COMMENTED.format(url=url), encoding="utf-8")
    return path


def load(config_file: Path, tmp_path: Path, unused_port: int) -> Settings:
    # Divar's endpoints on a closed loopback port: nothing here may leave the machine.
    dead = f"http://127.0.0.1:{unused_port}"
    return Settings.load(config_file, data_dir=tmp_path / "data", api_base=dead, oauth_base=dead)


@asynccontextmanager
async def console(settings: Settings, credentials: Any) -> AsyncIterator[tuple[KenarApp, Any]]:
    async with open_console(settings, credentials) as app, app.run_test(size=(80, 24)) as pilot:
        yield app, pilot


def connection_open(app: Any) -> bool:
    """The connection screen is on top and drawn (its fields exist)."""
    return isinstance(app.screen, ConnectionScreen) and bool(app.screen.query("#relay-token"))


def result_text(app: KenarApp) -> str:
    return str(app.screen.query_one("#connection-result", Static).render())


async def open_from_palette(pilot: Pilot[Any]) -> None:
    await pilot.press("ctrl+p")
    await pilot.press(*"Connection")
    await until(pilot, lambda: _palette_has(pilot.app, "Connection"), "the palette's match")
    await pilot.press("enter")
    await until(pilot, lambda: connection_open(pilot.app), "the screen")


def _palette_has(app: Any, title: str) -> bool:
    from textual.command import CommandList

    try:
        options = app.screen.query_one(CommandList)
    except Exception:
        return False
    return any(title in str(option.prompt) for option in options.options)


async def test_refused_token_fixed_from_the_palette(
    relay: RunningRelay, tmp_path: Path, unused_tcp_port: int
) -> None:
    """The refused-token toast points at Ctrl+P → Connection; there the right token tests
    good, Save keeps it and the comments, and the console comes back live with it."""
    config_file = config_for(tmp_path, relay.ws_url)
    credentials = CredentialStore(MemoryKeyring())
    credentials.relay_token = WRONG_TOKEN
    async with console(load(config_file, tmp_path, unused_tcp_port), credentials) as (app, pilot):
        await until(pilot, lambda: "refused" in app.main_screen.status.relay, "the refusal")
        toast = " ".join(str(n.message) for n in app._notifications)
        assert "Ctrl+P → Connection fixes it" in toast
        await open_from_palette(pilot)
        app.screen.query_one("#relay-token", Input).value = relay.token
        await pilot.press("ctrl+t")
        await until(pilot, lambda: "connected" in result_text(app), "the test's answer")
        assert result_text(app).startswith("✓ connected to ws://127.0.0.1:")
        assert relay.token not in result_text(app)
        assert credentials.relay_token == WRONG_TOKEN, "Test alone saves nothing"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.return_value == "restart", "the restart")
    assert credentials.relay_token == relay.token
    text = config_file.read_text(encoding="utf-8")
    assert text == COMMENTED.format(url=relay.ws_url), "every comment and key as it was"
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    assert [p.name for p in config_file.parent.iterdir()] == ["config.toml"], "no temp left"
    # What `kenar-tui` does on "restart": read the settings again and reconnect with them.
    async with console(load(config_file, tmp_path, unused_tcp_port), credentials) as (app, pilot):
        await until(pilot, lambda: relay_live(app), "the relay link with the new token")


async def test_each_failure_is_named_and_nothing_is_saved(
    relay_factory: RelayFactory, tmp_path: Path, unused_tcp_port: int
) -> None:
    """Wrong path, nothing listening, refused token: Save tests first and keeps nothing."""
    relay = await relay_factory()
    config_file = config_for(tmp_path, relay.ws_url)
    before = config_file.read_text(encoding="utf-8")
    credentials = CredentialStore(MemoryKeyring())
    credentials.relay_token = relay.token
    settings = load(config_file, tmp_path, unused_tcp_port)
    base = relay.url.replace("http://", "ws://")
    cases = [
        (f"{base}/console", relay.token, "wrong path: HTTP 403 at /console/ws"),
        (f"ws://127.0.0.1:{unused_tcp_port}", relay.token, "unreachable: nothing listens at"),
        (base, WRONG_TOKEN, "the relay refused the token (HTTP 401)"),
    ]
    async with console(settings, credentials) as (app, pilot):
        await until(pilot, lambda: relay_live(app), "the relay link")
        app.action_connection()
        await until(pilot, lambda: connection_open(app), "the screen")
        for url, token, words in cases:
            app.screen.query_one("#relay-url", Input).value = url
            app.screen.query_one("#relay-token", Input).value = token
            await pilot.press("ctrl+s")
            await until(pilot, lambda w=words: w in result_text(app), words)  # type: ignore[misc]
            assert "Save again to keep these settings anyway" in result_text(app)
            assert isinstance(app.screen, ConnectionScreen)
        assert config_file.read_text(encoding="utf-8") == before
        assert credentials.relay_token == relay.token
        # The same values saved again: kept anyway (the relay may be down for now).
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.return_value == "restart", "the save anyway")
    assert credentials.relay_token == WRONG_TOKEN
    assert Settings.load(config_file).relay_url == base
    assert "# where the team's relay lives" in config_file.read_text(encoding="utf-8")


async def test_tls_problems_are_named(relay_factory: RelayFactory, tmp_path: Path) -> None:
    """An untrusted certificate, and wss:// to a relay serving plain ws://, each say TLS."""
    cert, key = make_certificate(tmp_path)
    tls = await relay_factory(ssl_certfile=cert, ssl_keyfile=key)
    plain = await relay_factory()
    untrusted = await probe_relay(tls.ws_url, tls.token)
    assert not untrusted.ok
    assert untrusted.words.startswith("TLS: the certificate of 127.0.0.1:")
    assert "not trusted here" in untrusted.words
    mixed = await probe_relay(plain.ws_url.replace("ws://", "wss://"), plain.token)
    assert not mixed.ok and mixed.words.startswith("TLS failed with 127.0.0.1:")
    assert "plain ws://" in mixed.words
    good = await probe_relay(plain.url, plain.token)  # http:// spelling, bare: means its /ws
    assert good.ok, good.words


async def test_welcome_connects_through_the_connection_screen(
    relay: RunningRelay, tmp_path: Path, unused_tcp_port: int
) -> None:
    """First run: the welcome screen's button opens the connection screen; saving a relay
    that answers stores the token in the keyring, the URL in a new 0600 config file."""
    from kenar_tui.inbox import Inbox
    from kenar_tui.screens.welcome import WelcomeScreen
    from kenar_tui.store.cache import Cache

    config_file = tmp_path / "fresh" / "config.toml"
    settings = load(config_file, tmp_path, unused_tcp_port)
    credentials = CredentialStore(MemoryKeyring())
    with Cache(tmp_path / "cache.sqlite3") as cache:
        app = make_app(settings, inbox=Inbox(cache), credentials=credentials)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, WelcomeScreen), "the welcome")
            await pilot.click("#connection")
            await until(pilot, lambda: connection_open(app), "the screen")
            app.screen.query_one("#relay-url", Input).value = relay.ws_url
            await pilot.click("#relay-token")
            await pilot.press(*relay.token, "enter")  # Enter in a field saves
            await until(pilot, lambda: app.return_value == "restart", "the restart")
    assert credentials.relay_token == relay.token
    assert Settings.load(config_file).relay_url == relay.ws_url
    assert relay.token not in config_file.read_text(encoding="utf-8")
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600


async def test_a_config_that_is_not_toml_is_left_alone(
    relay: RunningRelay, tmp_path: Path, unused_tcp_port: int
) -> None:
    """Save never overwrites a file it cannot read as TOML: it says which file and why."""
    config_file = tmp_path / "config.toml"
    settings = load(config_file, tmp_path, unused_tcp_port)
    config_file.write_text('relay_url = "unterminated\n', encoding="utf-8")
    credentials = CredentialStore(MemoryKeyring())
    from kenar_tui.inbox import Inbox
    from kenar_tui.store.cache import Cache

    with Cache(tmp_path / "cache.sqlite3") as cache:
        app = make_app(settings, inbox=Inbox(cache), credentials=credentials, welcome=False)
        async with app.run_test(size=(80, 24)) as pilot:
            app.action_connection()
            await until(pilot, lambda: connection_open(app), "the screen")
            app.screen.query_one("#relay-url", Input).value = relay.ws_url
            app.screen.query_one("#relay-token", Input).value = relay.token
            await pilot.press("ctrl+s")
            await until(pilot, lambda: "nothing was changed" in result_text(app), "the refusal")
            assert str(config_file) in result_text(app)
    assert credentials.relay_token is None, "nothing half-saved"
    assert config_file.read_text(encoding="utf-8") == 'relay_url = "unterminated\n'


async def test_the_demo_tests_but_never_saves(tmp_path: Path) -> None:
    """In the demo (an in-memory keyring, a temporary config) Test works and Save says why not."""
    import logging

    from kenar_tui.commands.demo import demo_environment

    async with (
        demo_environment(seed=2, data_dir=tmp_path, logger=logging.getLogger("tests")) as env,
        console(env.settings, env.credentials) as (app, pilot),
    ):
        app.action_connection()
        await until(pilot, lambda: connection_open(app), "the screen")
        await pilot.press("ctrl+t")
        await until(pilot, lambda: "connected" in result_text(app), "the test's answer")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "nothing is saved" in result_text(app), "the refusal")
        assert isinstance(app.screen, ConnectionScreen) and app.return_value is None
    assert not env.settings.config_file.exists()
