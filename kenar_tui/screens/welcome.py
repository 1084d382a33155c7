"""First run: the demo, or your own relay (its URL in the config file, its token in the keyring)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from kenar_tui.toml_writer import string as toml_string

_RELAY_LINE = re.compile(r"^\s*relay_url\s*=.*$", re.MULTILINE)


def remember_relay_url(config_file: Path, url: str) -> None:
    """Set `relay_url` in the config file, keeping everything else the user wrote."""
    line = f"relay_url = {toml_string(url)}"
    text = config_file.read_text(encoding="utf-8") if config_file.is_file() else ""
    if _RELAY_LINE.search(text):
        text = _RELAY_LINE.sub(lambda _: line, text, count=1)
    else:
        # Top-level keys must come before the first [table].
        text = f"{line}\n{text}"
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(text, encoding="utf-8")


def relay_url_problem(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        return "The relay URL starts with wss:// (or ws:// on your own machine), like wss://relay.example.com/ws"
    return None


class WelcomeScreen(ModalScreen[tuple[str, ...] | None]):
    """Answers ("demo",), ("connect", url) after storing the token, or None (stay offline)."""

    DEFAULT_CSS = """
    WelcomeScreen { align: center middle; }
    WelcomeScreen > VerticalScroll {
        width: 84; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 2;
    }
    WelcomeScreen .title { text-style: bold; color: $accent; }
    WelcomeScreen .muted { color: $text-muted; }
    WelcomeScreen Horizontal { height: auto; }
    WelcomeScreen Button { margin-right: 2; }
    WelcomeScreen #welcome-error { color: $error; height: auto; }
    WelcomeScreen Vertical { height: auto; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "later", "Close (look at the local cache)", id="welcome.close"),
        Binding("d", "demo", "Start the demo", id="welcome.demo", show=False),
    ]

    def __init__(self, config_file: Path, credentials: Any = None) -> None:
        super().__init__()
        self.config_file = Path(config_file)
        self.credentials = credentials

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("Welcome to kenar-tui", classes="title")
            yield Static(
                "Answer Divar buyers' chats from the terminal. Nothing is configured yet: "
                "try the demo (a local Divar stand-in with simulated buyers, nothing leaves "
                "this machine), or connect to your relay."
            )
            yield Static(
                f"Config file: {escape(str(self.config_file))}\n"
                "Other secrets: kenar-tui auth set api-key · kenar-tui login",
                classes="muted",
            )
            with Horizontal():
                yield Button("Start the demo", id="demo", variant="primary")
            with Vertical():
                yield Label("Relay URL")
                yield Input(placeholder="wss://relay.example.com/ws", id="relay-url")
                yield Label("Relay token (kept in the system keyring, never in a file)")
                yield Input(
                    password=True,
                    placeholder="the token from kenar-relay token create",
                    id="relay-token",
                )
                yield Static("", id="welcome-error")
                with Horizontal():
                    yield Button("Connect", id="connect", variant="success")
                    yield Button("Later", id="later")

    def on_mount(self) -> None:
        self.query_one("#demo", Button).focus()

    @on(Button.Pressed, "#demo")
    def action_demo(self) -> None:
        self.dismiss(("demo",))

    @on(Button.Pressed, "#later")
    def action_later(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#connect")
    @on(Input.Submitted)
    def _connect(self) -> None:
        url = self.query_one("#relay-url", Input).value.strip()
        token = self.query_one("#relay-token", Input).value.strip()
        error = self.query_one("#welcome-error", Static)
        problem = relay_url_problem(url)
        if problem:
            error.update(problem)
            return
        if not token:
            error.update("Paste the relay token too.")
            return
        try:
            self.credentials.relay_token = token
            remember_relay_url(self.config_file, url)
        except Exception as exc:  # CredentialError (no keyring), OSError (config dir)
            error.update(escape(str(exc)))
            return
        self.dismiss(("connect", url))
