"""First run: the demo, or your own relay (the connection screen tests it, then saves it)."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from kenar_tui.screens.connection import ConnectionScreen


class WelcomeScreen(ModalScreen[tuple[str, ...] | None]):
    """Answers ("demo",), ("connect",) once a relay is saved, or None (stay offline)."""

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
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "later", "Close (look at the local cache)", id="welcome.close"),
        Binding("d", "demo", "Start the demo", id="welcome.demo", show=False),
        Binding("c", "connection", "Connect to your relay", id="welcome.connection", show=False),
    ]

    def __init__(self, settings: Any, credentials: Any = None) -> None:
        super().__init__()
        self.settings = settings
        self.credentials = credentials

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("Welcome to kenar-tui", classes="title")
            yield Static(
                "Answer Divar buyers' chats from the terminal. Nothing is configured yet: "
                "try the demo (a local Divar stand-in with simulated buyers, nothing leaves "
                "this machine), or connect to your relay (docs/getting-started.md shows the "
                "whole way, from the relay to the first reply)."
            )
            yield Static(
                f"Config file: {self.settings.config_file}\n"
                "Other secrets: kenar-tui auth set api-key · kenar-tui login\n"
                "Later: Ctrl+P → Connection",
                classes="muted",
                markup=False,
            )
            with Horizontal():
                yield Button("Start the demo", id="demo", variant="primary")
                yield Button("Connect to your relay…", id="connection", variant="success")
                yield Button("Later", id="later")

    def on_mount(self) -> None:
        self.query_one("#demo", Button).focus()

    @on(Button.Pressed, "#demo")
    def action_demo(self) -> None:
        self.dismiss(("demo",))

    @on(Button.Pressed, "#later")
    def action_later(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#connection")
    def action_connection(self) -> None:
        self.app.push_screen(ConnectionScreen(self.settings, self.credentials), self._saved)

    def _saved(self, answer: str | None) -> None:
        if answer == "saved":
            self.dismiss(("connect",))
