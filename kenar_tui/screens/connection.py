"""The relay connection, fixed inside the console: its URL (config file) and token (keyring).

Test opens one connection with what is typed and names what is wrong (the token refused, a
wrong path, nothing listening, TLS). Save tests first and keeps the settings only when the relay
took them; after a failed test of the same values a second Save keeps them anyway (the relay may
be down for now). The token goes to the keyring through `keyring_call` (never on the UI loop),
the URL into the config file with tomlkit, atomically and with the user's comments kept. The
screen answers "saved", and the app then reconnects with the new settings.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from kenar_core.errors import KenarTuiError
from kenar_tui.config_file import update_config
from kenar_tui.keyring_thread import keyring_call
from kenar_tui.link.probe import ProbeResult, probe_relay

URL_ENV = "KENAR_TUI_RELAY_URL"


def is_session_keyring(credentials: Any) -> bool:
    """True for the demo's in-memory keyring: what is stored there ends with this run."""
    backend = getattr(credentials, "keyring_backend", None)
    return type(backend).__module__ == "kenar_tui.keyring_memory"


class ConnectionScreen(ModalScreen[str | None]):
    """Answers "saved" once the URL and token are stored, None when closed without saving."""

    DEFAULT_CSS = """
    ConnectionScreen { align: center middle; }
    ConnectionScreen > VerticalScroll {
        width: 84; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 2;
    }
    ConnectionScreen .title { text-style: bold; color: $accent; }
    ConnectionScreen .muted { color: $text-muted; }
    ConnectionScreen Horizontal { height: auto; }
    ConnectionScreen Button { margin-right: 2; }
    ConnectionScreen #connection-result { height: auto; }
    ConnectionScreen #connection-result.bad { color: $error; }
    ConnectionScreen #connection-result.good { color: $success; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close without saving", id="connection.close"),
        Binding("ctrl+t", "test", "Test the connection", id="connection.test"),
        Binding("ctrl+s", "save", "Test, then save and reconnect", id="connection.save"),
    ]

    def __init__(self, settings: Any, credentials: Any) -> None:
        super().__init__()
        self.settings = settings
        self.credentials = credentials
        self.result: ProbeResult | None = None  # the last test's answer
        self._failed_values: tuple[str, str] | None = None  # what the last failed test tried
        self._busy = False

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("Relay connection", classes="title")
            yield Label("Relay URL (the relay's address; wss://, or ws:// on loopback)")
            yield Input(
                value=self.settings.relay_url or "",
                placeholder="wss://relay.example.com",
                id="relay-url",
            )
            yield Label("Relay token (kept in the keyring, never in a file)")
            yield Input(
                password=True,
                placeholder="empty: keep the stored token",
                id="relay-token",
            )
            yield Static(self._where(), classes="muted", markup=False)
            yield Static("", id="connection-result", markup=False)
            with Horizontal():
                yield Button("Test", id="test", variant="primary")
                yield Button("Save", id="save", variant="success")
                yield Button("Cancel", id="cancel")

    def _where(self) -> str:
        if is_session_keyring(self.credentials):  # the demo's config file is a temporary one
            lines = [
                "This is the demo: its relay and token live only in this run. Test works here; "
                "save your own relay from `kenar-tui`."
            ]
        else:
            lines = [f"Saved to {self.settings.config_file} (relay_url); the token to the keyring."]
        if os.environ.get(URL_ENV):
            lines.append(f"{URL_ENV} is set and wins over the file: unset it to use what you save.")
        lines.append("Ctrl+T test · Ctrl+S save · Escape close")
        return "\n".join(lines)

    def on_mount(self) -> None:
        field = "#relay-token" if self.settings.relay_url else "#relay-url"
        self.query_one(field, Input).focus()
        if is_session_keyring(self.credentials):
            self.query_one("#save", Button).disabled = True

    # --- what the user asks ----------------------------------------------------------------

    @on(Button.Pressed, "#cancel")
    def action_close(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#test")
    def action_test(self) -> None:
        self._run(save=False)

    @on(Button.Pressed, "#save")
    @on(Input.Submitted)
    def action_save(self) -> None:
        if is_session_keyring(self.credentials):
            self._say("The demo's settings live only in this run; nothing is saved.", ok=False)
            return
        self._run(save=True)

    def _run(self, *, save: bool) -> None:
        if self._busy:
            return
        url = self.query_one("#relay-url", Input).value.strip()
        typed = self.query_one("#relay-token", Input).value.strip()
        if not url:
            self._say("Type the relay's URL, like wss://relay.example.com.", ok=False)
            return
        self._busy = True
        self._say(f"Testing {url} …", ok=None)
        self._test_and_save(url, typed, save)

    @work(group="connection", exclusive=True)
    async def _test_and_save(self, url: str, typed: str, save: bool) -> None:
        try:
            token = typed or await self._stored_token()
            if token is None:
                self._say(
                    "No relay token is stored: paste the one `kenar-relay token create NAME` "
                    "printed.",
                    ok=False,
                )
                return
            result = await probe_relay(url, token, operator=self.settings.operator)
            self.result = result
            forced = not result.ok and save and self._failed_values == (url, typed)
            self._failed_values = None if result.ok else (url, typed)
            if not save or not (result.ok or forced):
                again = " Save again to keep these settings anyway." if save else ""
                self._say(("✓ " if result.ok else "✗ ") + result.words + "." + again, result.ok)
                return
            await self._save(url, typed)
        except KenarTuiError as exc:  # the keyring locked or slow, the config file unwritable
            self._say(str(exc), ok=False)
        finally:
            self._busy = False

    async def _stored_token(self) -> str | None:
        token = await keyring_call(self.credentials.secret, "relay-token")
        return str(token) if token else None

    async def _save(self, url: str, typed: str) -> None:
        # The file first: one that is not valid TOML stops the save before the keyring changes.
        await asyncio.to_thread(update_config, self.settings.config_file, {"relay_url": url})
        if typed:
            await keyring_call(self.credentials.set_secret, "relay-token", typed)
        self.dismiss("saved")

    def _say(self, words: str, ok: bool | None) -> None:
        shown = self.query_one("#connection-result", Static)
        shown.set_class(ok is False, "bad")
        shown.set_class(ok is True, "good")
        shown.update(words)
