"""Times, waits and sizes as the console prints them.

Times are shown in the configured zone (Asia/Tehran by default) in the Gregorian or the
Jalali (Solar Hijri) calendar, with Latin or Persian digits.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo

import jdatetime

Calendar = Literal["gregorian", "jalali"]
Digits = Literal["latin", "persian"]

_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def to_digits(text: str, digits: Digits = "latin") -> str:
    """`text` with its Latin digits written in Persian when asked."""
    return text.translate(_PERSIAN_DIGITS) if digits == "persian" else text


def _zone(tz: str | tzinfo) -> tzinfo:
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def format_time(
    dt: datetime,
    *,
    tz: str | tzinfo = "Asia/Tehran",
    calendar: Calendar = "gregorian",
    digits: Digits = "latin",
    now: datetime | None = None,
    full: bool = False,
) -> str:
    """`dt` in zone `tz`: "14:05" when it is today there (unless `full`), else date and time.

    Gregorian dates read 2026-11-25, Jalali dates 1405/09/04.
    """
    zone = _zone(tz)
    moment = (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(zone)
    clock = moment.strftime("%H:%M")
    if not full:
        today = (now or datetime.now(UTC)).astimezone(zone).date()
        if moment.date() == today:
            return to_digits(clock, digits)
    if calendar == "jalali":
        jalali = jdatetime.date.fromgregorian(date=moment.date())
        day = f"{jalali.year:04d}/{jalali.month:02d}/{jalali.day:02d}"
    else:
        day = moment.strftime("%Y-%m-%d")
    return to_digits(f"{day} {clock}", digits)


def format_wait(seconds: float) -> str:
    """A waiting time, coarse and short: "<1m", "3m", "2h 5m", "3d 4h"."""
    total = int(max(seconds, 0)) // 60
    if total < 1:
        return "<1m"
    days, rest = divmod(total, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m"


def format_price(price: int | None, digits: Digits = "latin") -> str:
    """An asking price in tomans, grouped by thousands: "52,000,000 تومان", in Persian digits
    "۵۲٬۰۰۰٬۰۰۰ تومان" (the Arabic thousands separator); "" when there is none."""
    if not price:
        return ""
    grouped = f"{price:,}"
    if digits == "persian":
        grouped = to_digits(grouped, digits).replace(",", "٬")
    return f"{grouped} تومان"


def format_size(size_bytes: int | None) -> str:
    """A byte count for people: "812 B", "1.4 KB", "23 MB"; "?" when unknown."""
    if size_bytes is None or size_bytes < 0:
        return "?"
    value = float(size_bytes)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            if unit == "B":
                return f"{int(value)} B"
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
        value /= 1024
    return f"{value:.0f} GB"
