"""Persian text for terminals: display order, search folding, times, waits and sizes."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from kenar_tui.text import display, fold, format_size, format_time, format_wait, has_rtl

NOW = datetime(2026, 11, 25, 10, 30, tzinfo=UTC)  # 14:00 in Tehran


def test_latin_lines_are_left_alone() -> None:
    """A line without right-to-left letters (code, URLs, English) prints exactly as typed."""
    line = "see https://divar.ir/v/gZd7omnS (price: 1,200)"
    assert display(line) == line
    assert not has_rtl(line)


def test_persian_is_reshaped_and_reordered_per_line() -> None:
    """Persian lines come out joined and in visual order; Latin lines and numbers stay readable."""
    text = "سلام\nhello world\nپژو 206 موجوده؟"
    lines = display(text).split("\n")
    assert len(lines) == 3
    assert lines[1] == "hello world"
    # Visual order with joined forms: س (initial form) is printed last, لا became one ligature.
    assert lines[0] == "ﻡﻼﺳ"
    # The number keeps its own left-to-right order inside the right-to-left line.
    assert lines[2] == "؟ﻩﺩﻮﺟﻮﻣ 206 ﻭﮋﭘ"


def test_display_can_be_turned_off() -> None:
    """With bidi off (terminals that do it themselves) text is passed through unchanged."""
    assert display("سلام دنیا", bidi=False) == "سلام دنیا"


def test_fold_matches_arabic_and_persian_letters() -> None:
    """ی/ي and ک/ك fold together, so a search finds either spelling."""
    assert fold("كيف") == fold("کیف")
    assert fold("مي") == fold("می")


def test_fold_matches_digits_of_every_script() -> None:
    """Persian (۱۲۳), Arabic-Indic (١٢٣) and Latin (123) digits fold to the same."""
    assert fold("۱۲۳") == fold("١٢٣") == fold("123") == "123"


def test_fold_ignores_zwnj_diacritics_and_case() -> None:
    """ZWNJ, harakat, tatweel, accents and case do not stop a match."""
    assert fold("می‌خواهم") == fold("میخواهم")
    assert fold("كِتـاب") == fold("کتاب")
    assert fold("Café  PEUGEOT") == "cafe peugeot"


def test_time_today_is_the_clock_in_tehran() -> None:
    """A moment from today shows as the Tehran wall clock (UTC+3:30)."""
    assert format_time(NOW, now=NOW) == "14:00"
    assert format_time(NOW, now=NOW, digits="persian") == "۱۴:۰۰"


def test_time_other_days_in_both_calendars() -> None:
    """Older moments show a date: Gregorian 2026-11-20, or Jalali 1405/08/29 if chosen."""
    then = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    assert format_time(then, now=NOW) == "2026-11-20 11:30"
    assert format_time(then, now=NOW, calendar="jalali") == "1405/08/29 11:30"
    assert format_time(then, now=NOW, calendar="jalali", digits="persian") == "۱۴۰۵/۰۸/۲۹ ۱۱:۳۰"
    assert format_time(NOW, tz=ZoneInfo("UTC"), full=True) == "2026-11-25 10:30"


def test_wait_is_short_and_coarse() -> None:
    """Waits read <1m, 3m, 2h 5m, 1d 3h."""
    assert format_wait(20) == "<1m"
    assert format_wait(180) == "3m"
    assert format_wait(2 * 3600 + 5 * 60) == "2h 5m"
    assert format_wait(3600) == "1h"
    assert format_wait(27 * 3600) == "1d 3h"
    assert format_wait(-5) == "<1m"


def test_sizes_for_people() -> None:
    """Attachment sizes read 812 B, 1.5 KB, 240 KB, 3.0 MB; unknown reads ?."""
    assert format_size(812) == "812 B"
    assert format_size(1536) == "1.5 KB"
    assert format_size(245760) == "240 KB"
    assert format_size(3145728) == "3.0 MB"
    assert format_size(None) == "?"
