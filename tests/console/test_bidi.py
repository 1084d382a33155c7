"""Persian as a terminal draws it: brackets mirrored, marks on their letters, titles cut whole.

Expected strings are in visual order (left to right on screen) with the reshaper's
presentation forms; `_plain` folds those back to base letters so the tests read naturally.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from kenar_tui.text import display
from kenar_tui.text.bidi import is_rtl
from kenar_tui.text.fit import fit_title
from kenar_tui.widgets.input_preview import preview_content


def _plain(shown: str) -> str:
    """Presentation forms back to base letters (NFKC): ﻡﻼﺳ reads ملاس (لا keeps its order)."""
    return unicodedata.normalize("NFKC", shown)


@pytest.mark.parametrize(
    ("logical", "visual"),
    [
        ("قیمت (25,000)", "(25,000) تمیق"),
        ("«خوب»", "«بوخ»"),
        ("<سلام>", "<ملاس>"),
        ("[تست] abc", "abc [تست]"),
        ("سلام (hello) دنیا", "ایند (hello) ملاس"),
        ("عدد [12] ok", "ok [12] ددع"),
        ("مدل (۱۳۹۸)", "(۱۳۹۸) لدم"),
        ("قیمت «نهایی» [توافقی]", "[یقفاوت] «ییاهن» تمیق"),
    ],
)
def test_brackets_and_quotes_are_mirrored_in_right_to_left_lines(logical: str, visual: str) -> None:
    """`قیمت (25,000)` reads with its parentheses facing the number, never `)25,000(`."""
    shown = _plain(display(logical))
    assert shown == visual
    assert ")25,000(" not in shown and "»خوب«" not in shown


def test_brackets_in_latin_lines_are_untouched() -> None:
    """A left-to-right line with a Persian word in brackets keeps Latin brackets as typed."""
    assert _plain(display("hello (سلام) world")) == "hello (ملاس) world"
    assert display("f(x) = [1, 2] <b>") == "f(x) = [1, 2] <b>"


@pytest.mark.parametrize(
    ("logical", "mark", "letter"),
    [("جداً", "\u064b", "ا"), ("خانهٔ من", "\u0654", "ه"), ("کِتاب", "\u0650", "ک")],
)
def test_diacritics_stay_on_their_letter(logical: str, mark: str, letter: str) -> None:
    """Tanwin, hamza and kasra follow their letter in the output (terminals attach a
    combining mark to the cell before it), even though the word is reversed."""
    shown = display(logical)
    at = shown.index(mark)
    assert at > 0, "a mark first on the line has no letter to sit on"
    assert _plain(shown[at - 1]) == letter


def test_direction_is_python_bidis_paragraph_direction() -> None:
    """A line is right to left when its first strong letter is (digits and marks are neutral)."""
    assert is_rtl("سلام")
    assert is_rtl("206 پژو")
    assert not is_rtl("Peugeot پژو")
    assert not is_rtl("123 456")
    assert not is_rtl("")


def test_a_title_cut_to_fit_never_halves_a_latin_word() -> None:
    """`فروش Peugeot 206 تمیز` cut at 10 cells drops the whole word, not `Peu…`."""
    title = "فروش Peugeot 206 تمیز"
    assert fit_title(title, 10) == "فروش…"
    assert fit_title(title, 18) == "فروش Peugeot 206…"
    assert fit_title(title, 40) == title
    assert fit_title("Supercalifragilistic", 8) == "Superca…"  # one word: cut, or nothing shows
    assert fit_title("یک\nدو", 10) == "یک دو"  # one line


def test_the_reply_preview_is_shaped_ordered_and_counted() -> None:
    """What the reply box holds, as the history will show it, with n/4,096."""
    preview = preview_content("قیمت (25,000)\nok", bidi=True, limit=4096)
    assert _plain(preview.plain) == "reads: (25,000) تمیق ⏎ ok  16/4,096"
    over = preview_content("ب" * 4097, bidi=True, limit=4096)
    # Said before the text: a long text wraps past the rows the preview shows.
    assert over.plain.startswith("reads: 4,097/4,096 too long  ")
    assert "4,097/4,096" not in over.plain[len("reads: 4,097/4,096 too long  ") :]


async def test_the_reply_box_shows_its_preview_while_typing(tmp_path: Path) -> None:
    """Typing Persian in the reply box shows it joined and ordered under the box, with n/4,096;
    an empty box shows no preview line."""
    from kenar_tui.inbox import Inbox
    from kenar_tui.store.cache import Cache
    from kenar_tui.widgets.input_preview import InputPreview
    from tests.console.conftest import FIXED_NOW
    from tests.console.test_app_display import build

    with Cache(tmp_path / "c.sqlite3") as cache:
        app = build(Inbox(cache, now=lambda: FIXED_NOW), tmp_path)
        async with app.run_test(size=(100, 30)) as pilot:
            preview = app.main_screen.query_one("#composer-preview", InputPreview)
            assert not preview.display
            app.main_screen.composer.focus()
            app.main_screen.composer.insert("قیمت «نهایی»")
            await pilot.pause()
            assert preview.display
            assert _plain(str(preview.render())) == "reads: «ییاهن» تمیق  12/4,096"
            app.main_screen.composer.clear()
            await pilot.pause()
            assert not preview.display
