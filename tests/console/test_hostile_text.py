"""Buyers and teammates are untrusted: their text reaches the screen, files, notifications and
the clipboard as text, never as control codes, bidi overrides or Rich/Textual markup.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from kenar_tui.inbox import Inbox
from kenar_tui.store.cache import Cache
from kenar_tui.text.links import judge_link
from kenar_tui.text.sanitize import _TABLE, clean_text, clean_tree, one_line
from kenar_tui.widgets.export import export_note, write_export
from kenar_tui.widgets.message_lines import RenderOptions, item_lines, item_raw_json
from kenar_tui.widgets.notifier import desktop_notification
from tests.console.conftest import CAR, FIXED_NOW, message_entry, post_update_entry
from tests.console.test_inbox import reply_entry

OSC52 = "\x1b]52;c;cm0gLXJmIH4K\x07"  # "write `rm -rf ~` to the clipboard"
OSC2 = "\x1b]2;pwned\x1b\\"
OSC8 = "\x1b]8;;file:///etc/passwd\x1b\\click\x1b]8;;\x1b\\"
CSI_CLEAR = "\x1b[2J\x1b[H"
C1_CSI = "\x9b2J"
C1_OSC = "\x9d52;c;cm0K\x9c"
RLO = "\u202e"
HOSTILE = (
    f"سلام {OSC52}{OSC2}{OSC8}{CSI_CLEAR}{C1_CSI}{C1_OSC} {RLO}gpj.exe\u202c\u2066x\u2069\x7f\r"
)
ESCAPES = ("\x1b", "\x9b", "\x9d", "\x9c", "\x07", "\x7f", "\r")
BIDI = ("\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069")


def assert_inert(text: str) -> None:
    assert not any(ch in text for ch in ESCAPES), repr(text)
    assert not any(ch in text for ch in BIDI), repr(text)


@pytest.fixture
def inbox(tmp_path: Path) -> Iterator[Inbox]:
    with Cache(tmp_path / "cache.sqlite3") as cache:
        yield Inbox(cache, operator="سارا", now=lambda: FIXED_NOW)


# --- the cleaner ------------------------------------------------------------------------


def test_control_codes_become_visible_symbols() -> None:
    """ESC, BEL, CR, DEL and C1 are shown as ␛ ␇ ␍ ␡ �; the words around them stay readable."""
    cleaned = clean_text(f"a{OSC52}b\x9b2Jc\x7f\r")
    assert cleaned == "a␛]52;c;cm0gLXJmIH4K␇b\ufffd2Jc␡␍"
    assert_inert(clean_text(HOSTILE))


def test_bidi_controls_are_dropped_newlines_tabs_and_zwnj_kept() -> None:
    """Overrides, embeddings, isolates and direction marks go; what Persian needs stays."""
    assert clean_text(f"{RLO}exe.txt\u202c \u2067x\u2069 \u200f!") == "exe.txt x !"
    assert clean_text("می‌خواهم\tخانه\nدوم") == "می‌خواهم\tخانه\nدوم"
    assert clean_text("a\u2028b") == "a\nb"
    assert one_line("a\nb\tc") == "a b c"


def test_every_character_the_cleaner_changes_is_caught_by_its_fast_path() -> None:
    """clean_text skips printable text; no character it must change may count as printable."""
    for code in range(0x110000):
        if 0xD800 <= code <= 0xDFFF:
            continue  # surrogates are not text
        ch = chr(code)
        assert clean_text(f"a{ch}b") == f"a{ch}b".translate(_TABLE), hex(code)


def test_every_string_of_an_entry_is_cleaned() -> None:
    """Keys and values at any depth, lists included; numbers and booleans untouched."""
    tree = {"a\x1b": [f"x{OSC2}", {"b": "\x9b1m", "n": 5, "t": True}], "none": None}
    expected = {"a␛": ["x␛]2;pwned␛\\", {"b": "\ufffd1m", "n": 5, "t": True}], "none": None}
    assert clean_tree(tree) == expected


# --- entering the inbox ----------------------------------------------------------------


def test_entries_are_cleaned_as_they_enter_the_inbox(inbox: Inbox) -> None:
    """Buyer text, file names, post titles and a teammate's name are stored already cleaned."""
    inbox.apply(1, post_update_entry(CAR, f"پژو{CSI_CLEAR}{RLO}206", minutes_ago=9))
    inbox.apply(2, message_entry("c", CAR, minutes_ago=8, text=HOSTILE))
    file_data = {"link": "https://x.example/f", "name": f"{RLO}fdp.exe{OSC8}", "size_bytes": 1}
    inbox.apply(3, message_entry("c", CAR, minutes_ago=7, type="FILE", file_data=file_data))
    inbox.apply(4, reply_entry("c", CAR, f"ok{OSC52}", minutes_ago=6, ref="r", author="[/]\x1b"))
    items = inbox.history("c", 0, 10)
    summary = inbox.conversation("c")
    assert summary is not None and summary.post_title is not None
    assert_inert(summary.post_title)
    for item in items:
        assert_inert(item.text)
        assert_inert(str(item.message.wire() if item.message else ""))
    assert items[0].text.startswith("سلام ␛]52;c;")
    assert items[2].author == "[/]␛"


def test_own_reply_shows_the_grid_it_carried(inbox: Inbox) -> None:
    """A reply sent with buttons shows them under its text (↗ link, ⇄ server); v shows them too."""
    grid = {
        "rows": [
            {
                "buttons": [
                    {
                        "action": {"open_direct_link": "https://divar.ir/v/x"},
                        "icon": "CALL",
                        "caption": "تماس",
                    },
                    {
                        "action": {"open_server_link": {"data": {}}},
                        "icon": "PRICE",
                        "caption": "[b]",
                    },
                ]
            }
        ]
    }
    inbox.apply(1, reply_entry("c", CAR, "بفرمایید", minutes_ago=5, ref="r", buttons=grid))
    item = inbox.history("c", 0, 1)[0]
    options = RenderOptions(bidi=False, mask_phones=True, format_time=lambda at: "10:00")
    lines = [line.plain for line in item_lines(item, width=80, console=Console(), options=options)]
    assert "  buyer's buttons: ↗ تماس  ·  ⇄ [b]" in lines
    assert '"receiver_buttons"' in item_raw_json(item)  # v shows the whole body, not only text


# --- leaving the console ---------------------------------------------------------------


async def test_exports_are_private_masked_and_inert(inbox: Inbox, tmp_path: Path) -> None:
    """The file is 0600, the phone masked, and `cat` on it would print no escape sequence."""
    inbox.apply(1, message_entry("c", CAR, minutes_ago=8, text=HOSTILE))
    contact = {"name": f"رضا{RLO}", "phone": "+989123456789"}
    inbox.apply(2, message_entry("c", CAR, minutes_ago=7, type="CONTACT", contact_data=contact))
    path = tmp_path / "out" / "export.txt"
    count = await write_export(inbox, "c", path, lambda at: "10:00", inbox.conversation("c"))
    assert count == 2
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    written = path.read_text(encoding="utf-8")
    assert "+989123456789" not in written and "+98912•••6789" in written
    assert_inert(written.replace("\n", ""))
    shown = await write_export(
        inbox, "c", path, lambda at: "10:00", None, mask_phones=False
    )  # the user chose to see phones; an existing file keeps 0600
    assert shown == 2 and "+989123456789" in path.read_text(encoding="utf-8")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_an_export_in_a_temporary_folder_says_so(tmp_path: Path) -> None:
    """The demo keeps its data in a temporary folder: the user is told to copy the file."""
    import tempfile

    inside = Path(tempfile.gettempdir()) / "kenar-demo-x" / "e.txt"
    assert "temporary folder" in export_note(inside, 3)
    assert export_note(Path.home() / "Downloads" / "e.txt", 3).endswith("e.txt")


def test_a_desktop_notification_is_one_sequence() -> None:
    """The buyer's text cannot end the OSC 777 early or start another sequence."""
    sequence = desktop_notification(f"buyer{OSC2}", HOSTILE, {})
    assert sequence.startswith("\x1b]777;notify;") and sequence.endswith("\x07")
    inner = sequence[len("\x1b]777;notify;") : -1]
    assert_inert(inner)
    assert inner.count(";") == 1


# --- links ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://divar.ir/v/gZd7omnS",
        "HTTPS://example.com/a?b=c#d",
    ],
)
def test_https_links_open(url: str) -> None:
    verdict = judge_link(url)
    assert verdict.openable and verdict.warning is None


def test_http_links_open_with_a_warning() -> None:
    verdict = judge_link("http://example.com/photo.jpg")
    assert verdict.openable and verdict.warning is not None and "not encrypted" in verdict.warning


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "javascript:alert(1)",
        "--new-window=https://evil.example",
        "-https://example.com",
        " https://example.com",
        "https://example.com/\x1b]52;c;x\x07",
        f"https://example.com/{RLO}gpj.exe",
        "https://divar.ir@evil.example/",
        "https:///no-host",
        "ftp://example.com/f",
        "data:text/html,<script>",
        "",
        "https://[::1",
    ],
)
def test_anything_else_is_shown_and_copied_not_opened(url: str) -> None:
    verdict = judge_link(url)
    assert not verdict.openable and verdict.reason


# --- markup -----------------------------------------------------------------------------


async def test_a_teammate_named_like_markup_is_drawn_as_text(tmp_path: Path) -> None:
    """`[/]` in a question does not raise MarkupError; `[@click=app.quit]` is not an action."""
    from kenar_tui.dialogs.confirm import ConfirmScreen
    from tests.console.test_app_display import build

    with Cache(tmp_path / "c.sqlite3") as cache:
        app = build(Inbox(cache, now=lambda: FIXED_NOW), tmp_path)
        async with app.run_test(size=(100, 30)) as pilot:
            question = "[/] is replying. [@click=app.quit]Send[/] anyway? [b]x"
            answers: list[bool | None] = []
            app.push_screen(ConfirmScreen(question), answers.append)
            await pilot.pause()
            shown = str(app.screen.query_one("#question").render())
            assert shown == question
            await pilot.click("#question")
            await pilot.pause()
            assert app.is_running and isinstance(app.screen, ConfirmScreen)
            await pilot.press("n")
            await pilot.pause()
        assert answers == [False]


def test_the_conversation_header_draws_titles_and_names_as_text() -> None:
    """A post title `[/]\\` and a teammate `[@click=app.quit]` render verbatim."""
    from types import SimpleNamespace

    from kenar_tui.widgets.conversation_header import ConversationHeader

    header = ConversationHeader(bidi=False)
    summary = SimpleNamespace(
        post_title="[/]\\", post_token="tok[", post_price=None, type="POST", id="abcdefgh1"
    )
    header.show(
        summary, can_send=True, presence="[b]Sara is replying", assignee="[@click=app.quit]"
    )
    content = header.render()
    assert content.plain == (
        "◉ [b]Sara is replying · → [@click=app.quit] · ✓ can send · POST · [/]\\ tok[ abcdefgh"
    )
