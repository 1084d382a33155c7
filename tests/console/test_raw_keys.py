"""Every key the help screen lists, sent as the bytes a terminal (xterm, tmux) sends.

The bytes go through Textual's own xterm parser, exactly as its Linux driver reads them from the
terminal, and the resulting events are posted to the running app. Pilot's key names would skip
the part that broke: ESC t arriving as "alt+t" with the character "t", which the reply box typed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.binding import Binding
from textual.constants import ESCAPE_DELAY
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widget import Widget

from kenar_tui.app import KenarApp
from kenar_tui.config import Settings
from kenar_tui.credentials import CredentialStore
from kenar_tui.dialogs.help import TYPING_PLACES, is_typed
from kenar_tui.factory import make_app
from kenar_tui.key_parser import KeyParser
from kenar_tui.keyring_memory import MemoryKeyring
from kenar_tui.screens.compose import ButtonComposerScreen
from kenar_tui.screens.main import MainScreen
from kenar_tui.widgets.button_grid import ButtonGridEditor
from tests.console.conftest import CID_CAR_1, FIXED_NOW

_NAMED = {
    "enter": "\r",
    "escape": "\x1b",
    "tab": "\t",
    "question_mark": "?",
    "up": "\x1b[A",
    "down": "\x1b[B",
    "right": "\x1b[C",
    "left": "\x1b[D",
    "home": "\x1b[H",
    "end": "\x1b[F",
    "pageup": "\x1b[5~",
    "pagedown": "\x1b[6~",
    "delete": "\x1b[3~",
    # Shift+Enter arrives only from terminals speaking the kitty/CSI-u protocol (tmux with
    # extended-keys, kitty, foot, WezTerm); this is what they send.
    "shift+enter": "\x1b[13;2u",
}
_FUNCTION = {  # xterm's F1-F12
    1: "\x1bOP", 2: "\x1bOQ", 3: "\x1bOR", 4: "\x1bOS", 5: "\x1b[15~", 6: "\x1b[17~",
    7: "\x1b[18~", 8: "\x1b[19~", 9: "\x1b[20~", 10: "\x1b[21~", 11: "\x1b[23~", 12: "\x1b[24~",
}  # fmt: skip
_ARROWS = {"up": "A", "down": "B", "right": "C", "left": "D"}
_MODIFIER_CODE = {"shift": 2, "alt": 3, "ctrl": 5}


def terminal_bytes(key: str) -> str:
    """What xterm (and tmux) write to the console for a Textual key name."""
    if key in _NAMED:
        return _NAMED[key]
    if len(key) == 1:
        return key
    if key.startswith("f") and key[1:].isdigit():
        return _FUNCTION[int(key[1:])]
    modifier, _, name = key.partition("+")
    if name in _ARROWS:
        return f"\x1b[1;{_MODIFIER_CODE[modifier]}{_ARROWS[name]}"
    if modifier == "ctrl" and len(name) == 1:
        return chr(ord(name) - ord("a") + 1)
    if modifier == "alt" and len(name) == 1:
        return "\x1b" + name  # what every terminal sends for Alt+letter (Meta sends ESC)
    raise AssertionError(f"no terminal sequence known for {key!r}")


class Terminal:
    """Feeds raw bytes through Textual's xterm parser into the app, as its driver does."""

    def __init__(self, app: KenarApp, pilot: Pilot[Any]) -> None:
        self.app, self.pilot = app, pilot
        self.parser = KeyParser()  # what the console's driver reads keys with

    async def send(self, data: str) -> None:
        tokens = list(self.parser.feed(data))
        if data.startswith("\x1b"):
            # A lone ESC or ESC+letter is decided when nothing follows within ESCDELAY: the
            # driver's read loop then calls tick(). Wait that long, as the terminal would.
            await asyncio.sleep(ESCAPE_DELAY * 1.5)
            tokens += list(self.parser.tick())
        for token in tokens:
            self.app.post_message(token)
        await self.pilot.pause()


def build(inbox: Any, tmp_path: Path) -> KenarApp:
    settings = Settings.load(tmp_path / "none.toml", data_dir=tmp_path / "data", bidi=False)
    return make_app(
        settings,
        inbox=inbox,
        credentials=CredentialStore(MemoryKeyring()),
        clock=lambda: FIXED_NOW,
        welcome=False,
    )


def record_actions(app: KenarApp) -> list[str]:
    """Every action a binding ran, in order (the app's run_action, observed)."""
    ran: list[str] = []
    run_action = app.run_action

    async def recording(action: Any, default_namespace: Any = None) -> bool:
        handled = await run_action(action, default_namespace)
        if handled:
            ran.append(str(action))
        return handled

    app.run_action = recording  # type: ignore[method-assign]
    return ran


def help_rows(app: KenarApp, *places: str) -> Iterator[tuple[str, Binding, str]]:
    """(key, binding, where) for every key of every help-screen row listed for `places`."""
    for where, bindings in app.key_groups():
        if where not in places:
            continue
        for binding in bindings:
            assert isinstance(binding, Binding) and binding.id, "every binding has an id"
            for key in binding.key.split(","):
                yield key.strip(), binding, where


async def back_to(app: KenarApp, pilot: Pilot[Any], top: type[Screen[Any]]) -> None:
    """Close whatever the last key opened; reopen the button composer if a key closed it."""
    while not isinstance(app.screen, (top, MainScreen)):
        app.pop_screen()
        await pilot.pause()
    if top is ButtonComposerScreen and isinstance(app.screen, MainScreen):
        app.main_screen.composer.focus()
        await Terminal(app, pilot).send(terminal_bytes("f2"))
        assert isinstance(app.screen, ButtonComposerScreen)


async def check_from(
    app: KenarApp,
    pilot: Pilot[Any],
    place: str,
    focus: Any,
    top: type[Screen[Any]],
    places: tuple[str, ...],
) -> list[str]:
    """Press each listed key from `place`; the missed ones, in words."""
    terminal = Terminal(app, pilot)
    ran = record_actions(app)
    missed = []
    quit_keys = []
    for key, binding, where in help_rows(app, *places):
        if binding.action == "quit":
            quit_keys.append(key)
            continue
        if place == "reply box" and where in TYPING_PLACES and is_typed(key):
            continue  # the help screen says "(not in the reply box)": it is typed text there
        await back_to(app, pilot, top)
        widget: Widget = focus()
        widget.focus()
        await pilot.pause()
        ran.clear()
        await terminal.send(terminal_bytes(key))
        if binding.action not in ran:
            missed.append(f"{key} ({binding.id}) from the {place}: ran {ran}")
    await back_to(app, pilot, top)
    for key in quit_keys:  # last: it ends the app
        focus().focus()
        ran.clear()
        await terminal.send(terminal_bytes(key))
        if "quit" not in ran:
            missed.append(f"{key} (quit) from the {place}: ran {ran}")
    return missed


@pytest.fixture(autouse=True)
def harmless_editor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDITOR", "true")
    monkeypatch.delenv("VISUAL", raising=False)


MAIN_PLACES = ("everywhere", "main screen")


async def test_every_key_works_from_the_reply_box(console_inbox: Any, tmp_path: Path) -> None:
    """Alt+T, Alt+K, F-keys, Ctrl keys… pressed while typing a reply run their action."""
    app = build(console_inbox, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        app.main_screen.show_conversation(CID_CAR_1)
        missed = await check_from(
            app,
            pilot,
            "reply box",
            lambda: app.main_screen.composer,
            MainScreen,
            (*MAIN_PLACES, "reply box"),
        )
        # Only the two newline keys (Ctrl+J, Shift+Enter) put anything in the box.
        assert app.main_screen.composer.text == "\n\n", (
            "no key was typed into the reply box as text"
        )
    assert missed == []


async def test_every_key_works_from_the_list(console_inbox: Any, tmp_path: Path) -> None:
    app = build(console_inbox, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        app.main_screen.show_conversation(CID_CAR_1)
        missed = await check_from(
            app,
            pilot,
            "list",
            lambda: app.main_screen.conversations,
            MainScreen,
            (*MAIN_PLACES, "conversation list"),
        )
    assert missed == []


async def test_every_key_works_from_the_history(console_inbox: Any, tmp_path: Path) -> None:
    app = build(console_inbox, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        app.main_screen.show_conversation(CID_CAR_1)
        missed = await check_from(
            app,
            pilot,
            "history",
            lambda: app.main_screen.history,
            MainScreen,
            (*MAIN_PLACES, "history"),
        )
    assert missed == []


async def test_every_key_works_in_the_button_composer(console_inbox: Any, tmp_path: Path) -> None:
    app = build(console_inbox, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:  # narrow: F4 shows the other grid
        app.main_screen.show_conversation(CID_CAR_1)
        app.main_screen.composer.focus()
        await Terminal(app, pilot).send(terminal_bytes("f2"))
        assert isinstance(app.screen, ButtonComposerScreen)
        missed = await check_from(
            app,
            pilot,
            "button grid",
            lambda: app.screen.query(ButtonGridEditor).first(),
            ButtonComposerScreen,
            ("button composer", "button grid"),
        )
    assert missed == []


def test_alt_f_and_alt_b_are_not_defaults() -> None:
    """ESC f / ESC b reach Textual as ctrl+right / ctrl+left: no default may rely on them."""
    parser = KeyParser()
    keys = [t.key for t in parser.feed("\x1bf\x1bb") if isinstance(t, events.Key)]
    assert keys == ["ctrl+right", "ctrl+left"]
    for _, bindings in KenarApp.key_groups():
        for binding in bindings:
            assert isinstance(binding, Binding)
            assert not {"alt+f", "alt+b", "alt+enter"} & set(binding.key.split(","))
