"""Keys act in the order they were typed, even when they arrive together (kenar_tui/key_order.py).

A terminal writes several keys in one read when someone types fast, when a key repeats, or when
tmux sends them: `Terminal.send` feeds such a burst through Textual's own xterm parser and posts
every key at once, as the driver does. Without the ordering, Textual types the letters at the
reply box before an earlier key's binding has run (it runs once the key has bubbled up to the
app): Ctrl+U erased the reply typed after it, Ctrl+G's letters landed in the list, and Enter sent
the reply without its last letters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import textual.drivers.linux_driver
from textual import events

from kenar_api.bodies import ChatbotMessageBody, SendMessageBody
from kenar_tui import key_order
from kenar_tui.app import KenarApp
from kenar_tui.key_parser import KeyParser
from kenar_tui.widgets.composer import Composer
from tests.console.conftest import CID_CAR_1
from tests.console.test_raw_keys import Terminal, build

REPLY = "سلام، هست (قطعی)"
BACKSPACE = "\x7f"  # what xterm and tmux send for Backspace


def record_sends(app: KenarApp) -> list[tuple[str, str]]:
    """(conversation, text) of every reply the screen hands to the outbox."""
    sent: list[tuple[str, str]] = []

    def send_body(cid: str, body: SendMessageBody | ChatbotMessageBody) -> bool:
        sent.append((cid, body.message if isinstance(body, SendMessageBody) else ""))
        return True

    app.send_body = send_body  # type: ignore[method-assign]
    return sent


async def test_ctrl_u_then_a_reply_keeps_the_reply(console_inbox: Any, tmp_path: Path) -> None:
    app = build(console_inbox, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        app.main_screen.show_conversation(CID_CAR_1)
        app.main_screen.composer.focus()
        await pilot.pause()
        await Terminal(app, pilot).send("\x15" + REPLY)  # Ctrl+U, then the reply, in one read
        await pilot.pause()
        assert app.main_screen.composer.text == REPLY


async def test_backspace_in_a_burst_deletes_the_letter_before_it(
    console_inbox: Any, tmp_path: Path
) -> None:
    app = build(console_inbox, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        app.main_screen.show_conversation(CID_CAR_1)
        app.main_screen.composer.focus()
        await pilot.pause()
        await Terminal(app, pilot).send(f"سلامم{BACKSPACE} دوست")
        await pilot.pause()
        assert app.main_screen.composer.text == "سلام دوست"


async def test_ctrl_g_then_a_reply_types_into_the_opened_conversation(
    console_inbox: Any, tmp_path: Path
) -> None:
    app = build(console_inbox, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.main_screen
        screen.conversations.focus()
        await pilot.pause()
        await Terminal(app, pilot).send("\x07" + REPLY)  # Ctrl+G: next buyer, into the reply box
        await pilot.pause()
        assert isinstance(app.focused, Composer)
        assert screen.cid is not None
        assert screen.composer.text == REPLY


async def test_enter_right_after_the_reply_sends_all_of_it(
    console_inbox: Any, tmp_path: Path
) -> None:
    app = build(console_inbox, tmp_path)
    sent = record_sends(app)
    async with app.run_test(size=(80, 24)) as pilot:
        app.main_screen.show_conversation(CID_CAR_1)
        app.main_screen.composer.focus()
        await pilot.pause()
        await Terminal(app, pilot).send(REPLY + "\r")
        await pilot.pause()
        assert sent == [(CID_CAR_1, REPLY)]
        assert app.main_screen.composer.text == ""


async def test_keys_typed_far_ahead_are_refused_with_the_bell(
    console_inbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The keys waiting behind one on its way are bounded; beyond the bound the bell rings."""
    limit = 64  # HELD_KEYS_LIMIT, smaller: the point is what happens beyond it
    monkeypatch.setattr(key_order, "HELD_KEYS_LIMIT", limit)
    app = build(console_inbox, tmp_path)
    rang: list[bool] = []
    monkeypatch.setattr(app, "bell", lambda: rang.append(True))
    async with app.run_test(size=(80, 24)) as pilot:
        app.main_screen.show_conversation(CID_CAR_1)
        app.main_screen.composer.focus()
        await pilot.pause()
        # Ctrl+U is on its way up to the app while every letter behind it waits.
        await Terminal(app, pilot).send("\x15" + "ب" * (limit + 50))
        while app.keys_pending:
            await pilot.pause()
        typed = app.main_screen.composer.text
    assert rang, "the bell rang for the keys that did not fit"
    assert set(typed) == {"ب"} and limit <= len(typed) < limit + 50


# --- Alt+letter twice in a row (kenar_tui/key_parser.py) ------------------------------------


def parsed_keys(parser: KeyParser, *reads: str) -> list[str]:
    """The keys `parser` makes of these reads, then of the ESCDELAY timeout after them."""
    keys = [t.key for data in reads for t in parser.feed(data) if isinstance(t, events.Key)]
    parser._timeout_time = 0.0 if parser._timeout_time is not None else None  # ESCDELAY passed
    return keys + [t.key for t in parser.tick() if isinstance(t, events.Key)]


def test_alt_m_twice_in_one_read_is_alt_m_twice() -> None:
    """Textual's own parser made "^", "m", "alt+m" of it: the reply box typed "^m"."""
    assert parsed_keys(KeyParser(), "\x1bm\x1bm") == ["alt+m", "alt+m"]
    assert parsed_keys(KeyParser(), "\x1bm", "\x1bm") == ["alt+m", "alt+m"]  # two reads
    assert parsed_keys(KeyParser(), "\x1bت\x1b[A") == ["alt+ت", "up"]  # Persian layout, arrow


def test_what_textual_maps_itself_and_pastes_are_left_alone() -> None:
    assert parsed_keys(KeyParser(), "\x1bb\x1bf") == ["ctrl+left", "ctrl+right"]
    assert parsed_keys(KeyParser(), "\x1b") == ["escape"]
    pasted = [t for t in KeyParser().feed("\x1b[200~سلام\x1b[201~") if isinstance(t, events.Paste)]
    assert [p.text for p in pasted] == ["سلام"]


def test_the_console_reads_keys_with_the_key_parser(console_inbox: Any, tmp_path: Path) -> None:
    build(console_inbox, tmp_path)
    assert textual.drivers.linux_driver.XTermParser is KeyParser
