"""Persian typed key by key keeps its zero-width non-joiner (نیم‌فاصله), as a terminal sends it.

Shift+Space on the standard Persian layout types U+200C, which most Persian sentences need
("می‌فرستم"). Python does not call it printable, so Textual's text boxes dropped the key and
"می‌فرستم" reached the buyer as "میفرستم" (kenar_tui/key_parser.py). The bytes go through the
console's own key parser, one read per key as a person types, or all in one read as tmux sends.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Input

from kenar_tui.dialogs.search import SearchScreen
from tests.console.conftest import CID_CAR_1
from tests.console.test_raw_keys import Terminal, build

ZWNJ = "\u200c"
WORDS = f"می{ZWNJ}فرستم، خانه{ZWNJ}ها و (قیمت{ZWNJ}ها)"


async def test_the_reply_box_keeps_a_typed_non_joiner(console_inbox: Any, tmp_path: Path) -> None:
    app = build(console_inbox, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        app.main_screen.show_conversation(CID_CAR_1)
        app.main_screen.composer.focus()
        await pilot.pause()
        terminal = Terminal(app, pilot)
        for character in WORDS:  # one read per key, as a person types
            await terminal.send(character)
        await pilot.pause()
        assert app.main_screen.composer.text == WORDS
        assert app.main_screen.composer.text.count(ZWNJ) == 3


async def test_a_burst_with_non_joiners_types_in_order(console_inbox: Any, tmp_path: Path) -> None:
    app = build(console_inbox, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        app.main_screen.show_conversation(CID_CAR_1)
        app.main_screen.composer.focus()
        await pilot.pause()
        await Terminal(app, pilot).send(WORDS)  # one read, as tmux send-keys writes it
        await pilot.pause()
        assert app.main_screen.composer.text == WORDS


async def test_search_keeps_a_typed_non_joiner(console_inbox: Any, tmp_path: Path) -> None:
    app = build(console_inbox, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(SearchScreen(app.inbox, bidi=False))
        await pilot.pause()
        terminal = Terminal(app, pilot)
        for character in f"خانه{ZWNJ}ها":
            await terminal.send(character)
        await pilot.pause()
        assert app.screen.query_one(Input).value == f"خانه{ZWNJ}ها"
